"""``posekit map build`` and ``posekit localize`` on a few real 7-Scenes frames."""

from __future__ import annotations

import json

from click.testing import CliRunner

from posekit.cli import cli
from tests.conftest import require_real_data


def test_map_build_then_localize_prints_the_summary(tmp_path):
    data = require_real_data("7scenes_redkitchen_seq01")
    runner = CliRunner()
    built = runner.invoke(cli, ["map", "build", "--dataset", "frames", "--data", str(data), "--frames", "0-15",
                                "--fuse-every", "5", "--keyframe-every", "5", "--size", "120x160",
                                "--voxel-size", "0.03", "--out", str(tmp_path / "map")])
    assert built.exit_code == 0, built.output
    assert json.loads(built.stdout.strip().splitlines()[-1])["colour_model"] == "kinect-7scenes"
    run = runner.invoke(cli, ["localize", "--map", str(tmp_path / "map"), "--dataset", "frames", "--data", str(data),
                              "--test-frames", "7", "--refine", "pnp", "--json", "--out", str(tmp_path / "run")])
    assert run.exit_code == 0, run.output
    summary = json.loads(run.stdout.strip().splitlines()[-1])
    assert summary["frames"] == 1 and summary["init"] == "retrieval" and summary["frames_per_second"] > 0
    assert (tmp_path / "run" / "frames.csv").is_file()


def test_localize_without_a_map_exits_2(tmp_path):
    data = require_real_data("7scenes_redkitchen_seq01")
    out = CliRunner().invoke(cli, ["localize", "--map", str(tmp_path), "--dataset", "frames", "--data", str(data)])
    assert out.exit_code == 2 and "not a posekit map" in out.output


def test_bad_frame_ranges_exit_2(tmp_path):
    data = require_real_data("7scenes_redkitchen_seq01")
    out = CliRunner().invoke(cli, ["map", "build", "--dataset", "frames", "--data", str(data), "--frames", "9-1",
                                   "--out", str(tmp_path)])
    assert out.exit_code == 2 and "--frames" in out.output
