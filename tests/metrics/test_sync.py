"""Timestamp association on synthetic timestamps (evo's nearest-stamp rule)."""

from __future__ import annotations

import pytest
import torch

from posekit.errors import TrajectoryError
from posekit.metrics import Trajectory, associate_trajectories, matching_time_indices

from .helpers import random_poses


def stamps(values):
    return torch.tensor(values, dtype=torch.float64)


def test_nearest_stamp_within_max_diff():
    index_1, index_2 = matching_time_indices(stamps([0.0, 1.0, 2.0, 3.0]), stamps([0.004, 1.02, 1.995, 2.5, 5.0]))
    assert index_1.tolist() == [0, 2]  # 1.0 is 0.02 s from 1.02; 3.0 has no stamp within 0.01 s
    assert index_2.tolist() == [0, 2]


def test_ties_go_to_the_earlier_stamp_and_stamps_can_be_reused():
    index_1, index_2 = matching_time_indices(stamps([1.0, 1.001]), stamps([0.995, 1.005]), max_diff=0.01)
    # 1.0 is exactly between 0.995 and 1.005 (up to rounding); 1.001 is nearer 1.005.
    assert index_1.tolist() == [0, 1]
    assert index_2.tolist()[1] == 1
    index_1, index_2 = matching_time_indices(stamps([1.0, 1.002]), stamps([1.001]), max_diff=0.01)
    assert index_2.tolist() == [0, 0]


def test_offset_shifts_the_second_stamps():
    index_1, index_2 = matching_time_indices(stamps([10.0, 11.0]), stamps([0.0, 1.0]), offset_2=10.0)
    assert index_1.tolist() == [0, 1] and index_2.tolist() == [0, 1]


def test_unsorted_second_stamps_use_the_linear_search_with_the_same_result():
    s1 = torch.linspace(0.0, 10.0, 57, dtype=torch.float64)
    s2 = torch.linspace(0.003, 10.0, 200, dtype=torch.float64)
    order = torch.randperm(200, generator=torch.Generator().manual_seed(0))
    sorted_1, sorted_2 = matching_time_indices(s1, s2)
    unsorted_1, unsorted_2 = matching_time_indices(s1, s2[order])
    assert sorted_1.tolist() == unsorted_1.tolist()
    assert order[unsorted_2].tolist() == sorted_2.tolist()


def test_associate_matches_the_shorter_into_the_longer_and_keeps_argument_order():
    t_long = 100.0 + 0.01 * torch.arange(300, dtype=torch.float64)
    t_short = 100.0 + 0.1 * torch.arange(30, dtype=torch.float64) + 0.002
    long = Trajectory(random_poses(300, seed=1), t_long)
    short = Trajectory(random_poses(30, seed=2), t_short)
    ref, est = associate_trajectories(long, short)
    assert len(ref) == len(est) == 30
    torch.testing.assert_close(est.poses, short.poses)
    torch.testing.assert_close(ref.timestamps, t_long[::10])
    est2, ref2 = associate_trajectories(short, long)
    torch.testing.assert_close(est2.poses, short.poses)
    torch.testing.assert_close(ref2.poses, ref.poses)


def test_associate_with_offset_keeps_each_trajectorys_own_timestamps():
    t = 0.1 * torch.arange(20, dtype=torch.float64)
    a = Trajectory(random_poses(20, seed=3), t)
    b = Trajectory(random_poses(10, seed=4), t[:10] - 5.0)
    ref, est = associate_trajectories(a, b, offset_2=5.0)
    assert len(ref) == 10
    torch.testing.assert_close(ref.timestamps, t[:10])
    torch.testing.assert_close(est.timestamps, t[:10] - 5.0)


def test_association_errors():
    a = Trajectory(random_poses(3), stamps([0.0, 1.0, 2.0]))
    with pytest.raises(TrajectoryError, match="no matching timestamps"):
        associate_trajectories(a, Trajectory(random_poses(2), stamps([50.0, 51.0])))
    with pytest.raises(TrajectoryError, match="no timestamps"):
        associate_trajectories(a, Trajectory(random_poses(2)))
