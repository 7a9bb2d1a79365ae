"""The trivial initial poses: mean training pose and the GT-nearest oracle."""

from __future__ import annotations

import math

import torch

from posekit.geometry.lie import make_pose
from posekit.geometry.rotations import axis_angle_to_matrix
from posekit.localization.baselines import mean_pose, nearest_by_position


def test_mean_pose_of_symmetric_rotations_is_their_middle():
    axis = torch.tensor([0.0, 0.0, 1.0], dtype=torch.float64)
    poses = torch.stack([make_pose(axis_angle_to_matrix(axis * a), torch.tensor([a, 1.0, 0.0], dtype=torch.float64))
                         for a in (-0.3, 0.1, 0.5)])
    mean = mean_pose(poses)
    expected = axis_angle_to_matrix(axis * 0.1)
    assert torch.allclose(mean[:3, :3], expected, atol=1e-9)
    assert torch.allclose(mean[:3, 3], torch.tensor([0.1, 1.0, 0.0], dtype=torch.float64))
    assert math.isclose(float(torch.det(mean[:3, :3])), 1.0, abs_tol=1e-12)


def test_nearest_by_position_picks_the_closest_camera_centre():
    train = torch.eye(4, dtype=torch.float64).repeat(3, 1, 1)
    train[:, 0, 3] = torch.tensor([0.0, 1.0, 2.0])
    query = torch.eye(4, dtype=torch.float64).repeat(2, 1, 1)
    query[:, 0, 3] = torch.tensor([1.9, 0.4])
    assert nearest_by_position(train, query)[:, 0, 3].tolist() == [2.0, 0.0]
