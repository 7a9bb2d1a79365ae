"""Per-frame absolute pose errors and recall (visloc), relative pose errors of single pairs."""

from __future__ import annotations

import functools
import math
from pathlib import Path

import pytest
import torch

from posekit.errors import TrajectoryError
from posekit.geometry import axis_angle_to_matrix, make_pose
from posekit.metrics import (
    Trajectory,
    absolute_pose_errors,
    pose_errors_by_name,
    read_visloc_poses,
    relative_pose_errors,
)

from .helpers import random_poses


def rotation_about_z(degrees: float) -> torch.Tensor:
    return axis_angle_to_matrix(torch.tensor([0.0, 0.0, math.radians(degrees)], dtype=torch.float64))


def test_absolute_errors_use_camera_centres_and_the_relative_rotation():
    T_world_cam_gt = random_poses(4, seed=1)
    # Move each camera 3 cm along world x and turn it 4 deg about its own z axis.
    est = T_world_cam_gt.clone()
    est[:, :3, 3] += torch.tensor([0.03, 0.0, 0.0], dtype=torch.float64)
    est[:, :3, :3] = est[:, :3, :3] @ rotation_about_z(4.0)
    errors = absolute_pose_errors(T_world_cam_gt, est)
    torch.testing.assert_close(errors.translation, torch.full((4,), 0.03, dtype=torch.float64))
    torch.testing.assert_close(errors.rotation_deg, torch.full((4,), 4.0, dtype=torch.float64))
    assert errors.recall(0.05, 5.0) == 1.0
    assert errors.recall(0.02, 5.0) == 0.0
    assert errors.recall(0.05, 4.0 - 1e-9) == 0.0


def test_recall_is_strict_and_missing_estimates_count_as_failures():
    poses = random_poses(4, seed=2)
    poses[1, :3, 3] = 0.0  # so that the 5 cm offset below is exactly 0.05 in float64
    gt = Trajectory(poses, None, ["a", "b", "c", "d"])
    est_poses = poses[[0, 1, 3]].clone()
    est_poses[1, :3, 3] += torch.tensor([0.0, 0.05, 0.0], dtype=torch.float64)  # exactly 5 cm: not < 5 cm
    est = Trajectory(est_poses, None, ["a", "b", "d"])
    errors = pose_errors_by_name(gt, est)
    assert math.isinf(float(errors.translation[2])) and math.isinf(float(errors.rotation_deg[2]))
    summary = errors.summary()
    assert summary.recall[(0.05, 5.0)] == pytest.approx(0.5)
    assert summary.median_translation == pytest.approx(0.025)  # (0 + 0.05) / 2 of [0, 0, 0.05, inf]
    assert summary.mean_translation == pytest.approx(0.05 / 3)


def test_errors_by_name_need_unique_names():
    traj = Trajectory(random_poses(2), None, ["a", "a"])
    with pytest.raises(TrajectoryError, match="repeated"):
        pose_errors_by_name(Trajectory(random_poses(1), None, ["a"]), traj)
    with pytest.raises(TrajectoryError, match="names"):
        pose_errors_by_name(Trajectory(random_poses(1)), traj)


def test_relative_pose_errors_of_a_known_perturbation():
    T_a_b_gt = make_pose(rotation_about_z(10.0), torch.tensor([1.0, 0.0, 0.0], dtype=torch.float64))
    T_a_b_est = make_pose(rotation_about_z(13.0), torch.tensor([0.0, 2.0, 0.0], dtype=torch.float64))
    errors = relative_pose_errors(T_a_b_gt, T_a_b_est)
    assert float(errors.rotation_deg) == pytest.approx(3.0)
    assert float(errors.translation) == pytest.approx(math.sqrt(5.0))
    assert float(errors.translation_angle_deg) == pytest.approx(90.0)
    same_direction = relative_pose_errors(T_a_b_gt, make_pose(rotation_about_z(10.0), torch.tensor([3.0, 0.0, 0.0], dtype=torch.float64)))
    assert float(same_direction.translation_angle_deg) == pytest.approx(0.0, abs=1e-12)
    zero = relative_pose_errors(T_a_b_gt, torch.eye(4, dtype=torch.float64))
    assert float(zero.translation_angle_deg) == 0.0


# ------------------------------------------------------------------------------------------ visloc 7-Scenes

# visloc_7scenes_redkitchen/SOURCE.md: all 5000 test frames; median t (cm), median r (deg), recall 5cm/5deg (%),
# recall 2cm/2deg (%).
VISLOC_TABLE = [
    ("dslam", "as", "5.37", "1.720", "45.16", "7.62"),
    ("dslam", "hloc", "4.03", "1.382", "61.88", "12.52"),
    ("dslam", "r2d2_rgb", "4.12", "1.444", "61.22", "13.10"),
    ("dslam", "r2d2_rgbd", "3.28", "1.196", "72.58", "22.56"),
    ("dslam", "dsac_rgb", "3.89", "1.238", "65.46", "17.58"),
    ("dslam", "dsac_rgbd", "1.88", "0.797", "92.42", "53.84"),
    ("sfm", "as", "0.55", "0.160", "99.80", "95.86"),
    ("sfm", "hloc", "1.10", "0.142", "98.62", "91.34"),
    ("sfm", "r2d2_rgb", "0.44", "0.128", "98.42", "93.32"),
    ("sfm", "r2d2_rgbd", "1.01", "0.245", "97.76", "80.98"),
    ("sfm", "dsac_rgb", "0.74", "0.212", "96.96", "90.70"),
    ("sfm", "dsac_rgbd", "1.58", "0.439", "96.36", "63.12"),
]


@functools.cache
def _visloc(path: Path) -> Trajectory:
    return read_visloc_poses(path)


@pytest.mark.parametrize(("pgt", "method", "median_t_cm", "median_r_deg", "recall_5", "recall_2"), VISLOC_TABLE)
def test_visloc_7scenes_redkitchen_table(trajectories_dir, pgt, method, median_t_cm, median_r_deg, recall_5, recall_2):
    root = trajectories_dir / "visloc_7scenes_redkitchen"
    gt = _visloc(root / f"pgt_{pgt}" / "redkitchen_test.txt")
    est = _visloc(root / f"estimates_{pgt}" / f"redkitchen_{method}.txt")
    assert len(gt) == 5000
    summary = pose_errors_by_name(gt, est).summary()
    assert f"{summary.median_translation * 100:.2f}" == median_t_cm
    assert f"{summary.median_rotation_deg:.3f}" == median_r_deg
    assert f"{summary.recall[(0.05, 5.0)] * 100:.2f}" == recall_5
    assert f"{summary.recall[(0.02, 2.0)] * 100:.2f}" == recall_2
