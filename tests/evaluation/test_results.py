"""The absolute-evaluation writer: one trajectory file per record (never joined), ATE per record and pooled, the
mean-pose and nearest-frame (oracle) baselines, estimates and extra columns in the CSV."""

from __future__ import annotations

import csv
import json

import pytest
import torch

from posekit.errors import TrajectoryError
from posekit.evaluation.results import write_absolute_evaluation
from posekit.evaluation.summary import summary_header
from posekit.geometry import translation_axis_angle_to_matrix
from posekit.metrics.absolute_baselines import mean_pose, nearest_pose_oracle
from posekit.metrics.records import contiguous_groups, record_file_name
from posekit.metrics.trajectory_files import read_tum


def _poses(n: int, seed: int) -> torch.Tensor:
    return translation_axis_angle_to_matrix(0.3 * torch.randn(n, 6, generator=torch.Generator().manual_seed(seed),
                                                              dtype=torch.float64))


def test_one_file_per_record_with_real_timestamps_and_pooled_ate(tmp_path):
    gt = _poses(6, 0)
    est = gt.clone()
    est[:, 0, 3] += torch.tensor([0.1, 0.3, 0.1, 0.3, 0.1, 0.3], dtype=torch.float64)
    # two records whose frames alternate (e.g. two cameras): the writer groups them, one file each
    names = ["a/1", "b/1", "a/2", "b/2", "a/3", "b/3"]
    stamps = torch.tensor([10.0, 50.0, 10.5, 50.5, 11.0, 51.0], dtype=torch.float64)
    train = _poses(20, 1)
    summary = write_absolute_evaluation(tmp_path, summary_header("posenet", "x", "y", "test", 6, None), gt, est, names,
                                        stamps, T_world_cam_train=train, columns={"retrieved_frame": list("uvwxyz")})
    assert summary["trajectories"] == {"a": "posenet/a.tum", "b": "posenet/b.tum"}
    a = read_tum(tmp_path / "eval" / "posenet" / "a.tum")
    torch.testing.assert_close(a.timestamps, torch.tensor([10.0, 10.5, 11.0], dtype=torch.float64))
    torch.testing.assert_close(a.poses, est[[0, 2, 4]])  # as estimated, never aligned
    assert not (tmp_path / "eval" / "posenet.tum").exists()  # no file joins two records
    ate = summary["ate_per_record"]
    assert ate["a"]["rmse"] == pytest.approx(0.1) and ate["b"]["rmse"] == pytest.approx(0.3)
    assert ate["pooled"]["rmse"] == pytest.approx(((3 * 0.01 + 3 * 0.09) / 6) ** 0.5)
    rows = list(csv.DictReader(open(tmp_path / "eval" / "posenet.csv")))
    assert [r["name"] for r in rows] == names and rows[0]["retrieved_frame"] == "u"
    assert float(rows[1]["est_tx"]) == pytest.approx(float(est[1, 0, 3]))
    baselines = json.loads((tmp_path / "eval" / "posenet.json").read_text())["baselines"]
    assert set(baselines) == {"mean_train_pose", "nearest_train_frame_oracle"}


def test_nearest_frame_oracle_and_mean_pose():
    train = _poses(10, 2)
    chosen, rows = nearest_pose_oracle(train, train[[3, 7]])
    assert rows.tolist() == [3, 7] and torch.equal(chosen, train[[3, 7]])
    # mean of a pose and its mirror about the x axis turn: the identity rotation, the mean position
    turn = translation_axis_angle_to_matrix(torch.tensor([[1.0, 0, 0, 0.4, 0, 0], [3.0, 0, 0, -0.4, 0, 0]],
                                                         dtype=torch.float64))
    mean = mean_pose(turn)
    torch.testing.assert_close(mean[:3, :3], torch.eye(3, dtype=torch.float64))
    torch.testing.assert_close(mean[:3, 3], turn[:, :3, 3].mean(0))


def test_record_helpers():
    assert record_file_name("", "seq 01/x") == "seq_01_x.tum" and record_file_name("est", "") == "est.tum"
    assert record_file_name("", "a", ".aligned-se3.tum") == "a.aligned-se3.tum"
    with pytest.raises(TrajectoryError, match="not contiguous"):
        contiguous_groups(["a", "b", "a"])
