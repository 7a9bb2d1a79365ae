"""Small builders of synthetic trajectories shared by the metrics tests."""

from __future__ import annotations

import torch

from posekit.geometry import axis_angle_to_matrix, make_pose
from posekit.metrics import Trajectory


def random_poses(n: int, seed: int = 0, spread: float = 2.0) -> torch.Tensor:
    """``(n, 4, 4)`` float64 random rigid transforms (rotations up to about 1.7 rad)."""
    generator = torch.Generator().manual_seed(seed)
    omega = torch.rand(n, 3, generator=generator, dtype=torch.float64) * 2.0 - 1.0
    t = (torch.rand(n, 3, generator=generator, dtype=torch.float64) * 2.0 - 1.0) * spread
    return make_pose(axis_angle_to_matrix(omega), t)


def random_trajectory(n: int, seed: int = 0, with_times: bool = True) -> Trajectory:
    """A random trajectory with timestamps ``1000 + 0.1 k`` s."""
    times = 1000.0 + 0.1 * torch.arange(n, dtype=torch.float64) if with_times else None
    return Trajectory(random_poses(n, seed), times)


def straight_line(n: int, step: float = 1.0) -> Trajectory:
    """``n`` identity-rotation poses along x, ``step`` metres apart."""
    poses = torch.eye(4, dtype=torch.float64).repeat(n, 1, 1)
    poses[:, 0, 3] = step * torch.arange(n, dtype=torch.float64)
    return Trajectory(poses)
