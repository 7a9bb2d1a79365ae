"""Motion statistics per frame distance and the zero-motion and constant-velocity estimates."""

from __future__ import annotations

import math

import pytest
import torch

from posekit.errors import ConfigError
from posekit.geometry import relative_pose, se3_exp
from posekit.metrics.relative_motion import (
    constant_velocity,
    motion_magnitudes,
    motion_statistics,
    pair_indices,
    pair_motion,
    zero_motion,
)


def _constant_velocity_sequence(n=12):
    """T_world_i = step^i with a step of 2 cm along x and 1 deg about y."""
    step = se3_exp(torch.tensor([0.02, 0.0, 0.0, 0.0, math.radians(1.0), 0.0], dtype=torch.float64))
    poses = [torch.eye(4, dtype=torch.float64)]
    for _ in range(n - 1):
        poses.append(poses[-1] @ step)
    return torch.stack(poses)


def test_pair_indices_in_both_directions():
    targets, sources = pair_indices(5, 2)
    assert targets.tolist() == [0, 1, 2] and sources.tolist() == [2, 3, 4]
    targets, sources = pair_indices(5, -2)
    assert targets.tolist() == [2, 3, 4] and sources.tolist() == [0, 1, 2]
    with pytest.raises(ConfigError):
        pair_indices(5, 0)


def test_motion_statistics_grow_with_distance_on_a_uniform_motion():
    poses = _constant_velocity_sequence()
    stats = motion_statistics(poses, (1, 5))
    assert stats[1]["pairs"] == 11 and stats[5]["pairs"] == 7
    assert stats[1]["r_median_deg"] == pytest.approx(1.0, abs=1e-9)
    assert stats[5]["r_max_deg"] == pytest.approx(5.0, abs=1e-9)
    t1 = float(torch.linalg.vector_norm(pair_motion(poses, 1)[0, :3, 3]))
    assert stats[1]["t_median_m"] == pytest.approx(t1) and 0.0199 < t1 < 0.0201


def test_constant_velocity_is_exact_on_constant_velocity_and_identity_at_the_start():
    poses = _constant_velocity_sequence()
    targets, sources = pair_indices(len(poses), 3)
    estimate = constant_velocity(poses, targets, 3)
    truth = relative_pose(poses[sources], poses[targets])
    assert torch.allclose(estimate[3:], truth[3:], atol=1e-12)
    assert torch.equal(estimate[:3], zero_motion(3))
    t_err, r_err = motion_magnitudes(torch.linalg.inv(truth[3:]) @ estimate[3:])
    assert float(t_err.max()) < 1e-12 and float(r_err.max()) < 1e-6


def test_constant_velocity_uses_only_the_previous_pair():
    poses = _constant_velocity_sequence()
    moved = poses.clone()
    moved[8:] = moved[8:] @ se3_exp(torch.tensor([0.1, 0, 0, 0, 0, 0], dtype=torch.float64))  # frames after 7 jump
    estimate = constant_velocity(moved, torch.tensor([5, 6]), 2)  # previous pairs (3, 5) and (4, 6)
    assert torch.allclose(estimate, constant_velocity(poses, torch.tensor([5, 6]), 2))
