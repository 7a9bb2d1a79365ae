"""``posekit map calibrate`` writes a calibration that ``posekit map build --calibration`` uses."""

from __future__ import annotations

import json

from click.testing import CliRunner

from posekit.cli import cli
from tests.conftest import require_real_data


def test_calibrate_then_build_with_the_calibration(tmp_path):
    data = require_real_data("7scenes_redkitchen_seq01")
    runner = CliRunner()
    calibrated = runner.invoke(cli, ["map", "calibrate", "--dataset", "frames", "--data", str(data), "--frames", "0-299",
                                     "--every", "150", "--out", str(tmp_path / "calibration.json")])
    assert calibrated.exit_code == 0, calibrated.output
    summary = json.loads(calibrated.stdout.strip().splitlines()[-1])
    assert summary["start_model"] == "kinect-7scenes" and summary["pairs"] >= 2
    assert summary["rotation_angle_deg"] < 1.0 and summary["cost_after"] <= summary["cost_before"]
    built = runner.invoke(cli, ["map", "build", "--dataset", "frames", "--data", str(data), "--frames", "0-15",
                                "--fuse-every", "5", "--keyframe-every", "5", "--size", "120x160", "--voxel-size", "0.03",
                                "--calibration", str(tmp_path / "calibration.json"), "--out", str(tmp_path / "map")])
    assert built.exit_code == 0, built.output
    assert json.loads(built.stdout.strip().splitlines()[-1])["colour_model"] == "calibrated"
    manifest = json.loads((tmp_path / "map" / "manifest.json").read_text())
    assert manifest["calibration"]["T_depth_colour"] == summary["T_depth_colour"]


def test_build_with_a_malformed_calibration_exits_2(tmp_path):
    data = require_real_data("7scenes_redkitchen_seq01")
    (tmp_path / "bad.json").write_text("{not json")
    out = CliRunner().invoke(cli, ["map", "build", "--dataset", "frames", "--data", str(data), "--frames", "0-15",
                                   "--calibration", str(tmp_path / "bad.json"), "--out", str(tmp_path / "map")])
    assert out.exit_code == 2 and "bad.json: malformed calibration" in out.output
