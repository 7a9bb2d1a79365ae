"""``posekit map build`` picks a sparse map for RGB-only KITTI frames; ``posekit localize`` uses it."""

from __future__ import annotations

import json

from click.testing import CliRunner

from posekit.cli import cli
from tests.conftest import require_real_data

SEQ06 = "kitti_odometry/seq06_frames000000-000050"


def test_map_build_is_sparse_without_depth_and_localize_runs_pnp(tmp_path):
    data = require_real_data(SEQ06)
    runner = CliRunner()
    built = runner.invoke(cli, ["map", "build", "--dataset", "kitti", "--data", str(data), "--frames", "0,2,4,6,8",
                                "--size", "120x400", "--max-features", "1000", "--out", str(tmp_path / "map")])
    assert built.exit_code == 0, built.output
    line = json.loads(built.stdout.strip().splitlines()[-1])
    assert line["kind"] == "sparse" and line["keyframes"] == 5 and line["points"] > 50
    run = runner.invoke(cli, ["localize", "--map", str(tmp_path / "map"), "--dataset", "kitti", "--data", str(data),
                              "--test-frames", "3,5", "--top-k", "3", "--json", "--out", str(tmp_path / "run")])
    assert run.exit_code == 0, run.output
    summary = json.loads(run.stdout.strip().splitlines()[-1])
    assert summary["refine"] == "pnp" and summary["frames"] == 2 and summary["median_t_m"] < 0.2
    baseline = runner.invoke(cli, ["localize", "--map", str(tmp_path / "map"), "--dataset", "kitti", "--data", str(data),
                                   "--test-frames", "3,5", "--init", "nearest-gt", "--train-frames", "0,2,4,6,8",
                                   "--refine", "none", "--json", "--out", str(tmp_path / "nearest")])
    assert baseline.exit_code == 0, baseline.output
    assert json.loads(baseline.stdout.strip().splitlines()[-1])["median_t_m"] > 0.5  # a training frame is 1.2 m away
    direct = runner.invoke(cli, ["localize", "--map", str(tmp_path / "map"), "--dataset", "kitti", "--data", str(data),
                                 "--test-frames", "3", "--refine", "direct", "--out", str(tmp_path / "direct")])
    assert direct.exit_code == 2 and "no dense depth" in direct.output


def test_dense_map_of_rgb_only_frames_exits_2(tmp_path):
    data = require_real_data(SEQ06)
    out = CliRunner().invoke(cli, ["map", "build", "--dataset", "kitti", "--data", str(data), "--frames", "0-3",
                                   "--kind", "dense", "--out", str(tmp_path / "map")])
    assert out.exit_code == 2 and "--kind dense" in out.output and "no depth image" in out.output
