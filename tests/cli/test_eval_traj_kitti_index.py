"""``posekit eval-traj --format kitti`` pairs a 13-number estimate (kitti-odom-eval's format for results with
missing frames) with the ground truth by its frame index column."""

from __future__ import annotations

import json

from click.testing import CliRunner

from posekit.cli import cli

ROW = "1 0 0 {x} 0 1 0 0 0 0 1 0"


def test_eval_traj_kitti_uses_the_frame_index_column(tmp_path):
    gt_path, est_path = tmp_path / "gt.txt", tmp_path / "est.txt"
    gt_path.write_text("\n".join(ROW.format(x=i) for i in range(6)) + "\n")
    est_path.write_text("\n".join(f"{i} " + ROW.format(x=i) for i in (1, 4, 5)) + "\n")
    result = CliRunner().invoke(cli, ["eval-traj", str(gt_path), str(est_path), "--format", "kitti", "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["max"] == 0.0  # frames 1, 4, 5 of the ground truth, not 0, 1, 2
    est_path.write_text(f"7 {ROW.format(x=0)}\n")
    result = CliRunner().invoke(cli, ["eval-traj", str(gt_path), str(est_path), "--format", "kitti"])
    assert result.exit_code == 2
    assert "frame 7 is not in" in result.output
