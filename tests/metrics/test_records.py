"""Frames grouped by record; one TUM file per record, written as estimated."""

from __future__ import annotations

import pytest
import torch

from posekit.errors import TrajectoryError
from posekit.metrics.records import group_by_record, record_file_name, record_of, split_by_record, write_record_trajectories
from posekit.metrics import Trajectory, read_tum
from tests.fusion.synthetic import ground_truth  # a noisy synthetic sequence


def test_record_of_and_groups():
    assert record_of("seq-01/frame-000003") == "seq-01"
    assert record_of("a/b/frame-1") == "a/b"
    assert record_of("frame-1") == ""
    assert group_by_record(["r1/0", "r1/1", "r2/0"]) == {"r1": [0, 1], "r2": [2]}
    with pytest.raises(TrajectoryError, match="not contiguous"):
        group_by_record(["r1/0", "r2/0", "r1/1"])
    assert record_file_name("posenet", "") == "posenet.tum"
    assert record_file_name("posenet", "sun3d/home at") == "posenet.sun3d_home_at.tum"


def test_write_record_trajectories_one_file_per_record(tmp_path):
    poses = ground_truth(7)
    traj = Trajectory(poses, torch.arange(7, dtype=torch.float64) * 0.1, ["a/0", "a/1", "a/2", "b/0", "b/1", "b/2", "b/3"])
    paths = write_record_trajectories(tmp_path, "fused", traj)
    assert sorted(p.name for p in paths.values()) == ["fused.a.tum", "fused.b.tum"]
    b = read_tum(paths["b"])
    assert torch.allclose(b.poses, poses[3:], atol=1e-12)  # as estimated, not aligned
    assert torch.allclose(b.timestamps, traj.timestamps[3:])
    parts = split_by_record(Trajectory(poses[:3], None, ["x/0", "x/1", "y/0"]))
    assert parts["x"].timestamps.tolist() == [0.0, 1.0] and parts["y"].timestamps.tolist() == [0.0]


def test_write_record_trajectories_rejects_clashes(tmp_path):
    traj = Trajectory(ground_truth(2), None, ["a b/0", "a_b/0"])
    with pytest.raises(TrajectoryError, match="both map to the file"):
        write_record_trajectories(tmp_path, "m", traj)
    with pytest.raises(TrajectoryError, match="strictly increasing"):
        write_record_trajectories(tmp_path, "m", Trajectory(ground_truth(2), torch.zeros(2, dtype=torch.float64), ["r/0", "r/1"]))


def test_metric_per_record_never_pairs_across_records():
    """Two records whose estimates are each exact up to their own rigid offset: per-record SE(3)-aligned ATE
    and RPE are 0; aligned together (one trajectory) ATE is not, and RPE's cross-record pair is not."""
    from functools import partial

    from posekit.geometry import se3_exp
    from posekit.metrics import AlignmentType, compute_ape, compute_rpe
    from posekit.metrics.records import trajectory_metric_per_record

    gt = ground_truth(10)
    offset_a = se3_exp(torch.tensor([1.0, 0.0, 0.0, 0.0, 0.3, 0.0], dtype=torch.float64))
    offset_b = se3_exp(torch.tensor([0.0, -2.0, 0.5, 0.2, 0.0, 0.0], dtype=torch.float64))
    est_poses = torch.cat((offset_a @ gt[:5], offset_b @ gt[5:]))
    names = [f"a/{i}" for i in range(5)] + [f"b/{i}" for i in range(5)]
    stamps = torch.arange(10, dtype=torch.float64)
    traj_gt, traj_est = Trajectory(gt, stamps, names), Trajectory(est_poses, stamps, names)
    ate = trajectory_metric_per_record(traj_gt, traj_est, lambda g, e: compute_ape(g, e, alignment=AlignmentType.se3))
    rpe = trajectory_metric_per_record(traj_gt, traj_est, partial(compute_rpe, delta=1))
    assert set(ate) == {"a", "b", "pooled"}
    assert ate["pooled"]["max"] < 1e-9 and rpe["pooled"]["max"] < 1e-9
    assert compute_ape(traj_gt, traj_est, alignment=AlignmentType.se3).statistics["max"] > 0.1
    assert compute_rpe(traj_gt, traj_est, delta=1).statistics["max"] > 0.1
    with pytest.raises(TrajectoryError, match="same frames"):
        trajectory_metric_per_record(traj_gt, Trajectory(est_poses, stamps, names[::-1]), partial(compute_rpe, delta=1))
