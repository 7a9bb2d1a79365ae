"""The Trajectory container: validation, subsets, transforms."""

from __future__ import annotations

import pytest
import torch

from posekit.errors import RotationError, ShapeError, TrajectoryError
from posekit.metrics import Trajectory

from .helpers import random_poses, random_trajectory, straight_line


def test_float32_poses_become_float64_and_positions_are_the_translations():
    poses = random_poses(4).float()
    traj = Trajectory(poses)
    assert traj.poses.dtype == torch.float64
    assert len(traj) == 4
    torch.testing.assert_close(traj.positions, poses[:, :3, 3].double())


@pytest.mark.parametrize("shape", [(4, 3, 4), (4, 4), (2, 4, 4, 1)])
def test_wrong_pose_shape_raises_shape_error(shape):
    with pytest.raises(ShapeError, match="poses"):
        Trajectory(torch.zeros(shape, dtype=torch.float64))


def test_reflection_raises_rotation_error():
    poses = random_poses(3)
    poses[1, :3, 0] *= -1.0
    with pytest.raises(RotationError, match="proper rotation"):
        Trajectory(poses)


def test_timestamps_and_names_must_match_the_pose_count():
    with pytest.raises(ShapeError, match="timestamps"):
        Trajectory(random_poses(3), torch.zeros(2, dtype=torch.float64))
    with pytest.raises(ShapeError, match="names"):
        Trajectory(random_poses(3), None, ["a", "b"])


def test_subset_keeps_timestamps_and_names_in_order():
    traj = Trajectory(random_poses(5), torch.arange(5, dtype=torch.float64), list("abcde"))
    sub = traj.subset([4, 1, 1])
    assert sub.names == ["e", "b", "b"]
    assert sub.timestamps.tolist() == [4.0, 1.0, 1.0]
    torch.testing.assert_close(sub.poses, traj.poses[[4, 1, 1]])
    with pytest.raises(TrajectoryError):
        traj.subset([5])


def test_transformed_left_multiplies_and_keeps_the_original():
    traj = random_trajectory(6)
    T_new_world = random_poses(1, seed=3)[0]
    moved = traj.transformed(T_new_world)
    torch.testing.assert_close(moved.poses, T_new_world @ traj.poses)
    assert moved.timestamps is traj.timestamps or torch.equal(moved.timestamps, traj.timestamps)
    torch.testing.assert_close(traj.poses, random_trajectory(6).poses)


def test_path_length_of_a_straight_line():
    assert straight_line(11, step=0.5).path_length() == pytest.approx(5.0)
    assert straight_line(1).path_length() == 0.0
