"""A synthetic hand-held trajectory with noisy absolute and relative measurements (fixed seeds)."""

from __future__ import annotations

import math

import torch

from posekit.fusion.measurements import AbsoluteMeasurements, RelativeMeasurements, sigma_vector
from posekit.geometry import relative_pose, se3_exp

ABS_T, ABS_R_DEG = 0.20, 5.0
REL_T, REL_R_DEG = 0.01, 0.3


def ground_truth(n: int = 60, seed: int = 0) -> torch.Tensor:
    """``(n, 4, 4)`` smooth trajectory: 3 m forward, a sideways wave, a slow turn."""
    s = torch.linspace(0.0, 1.0, n, dtype=torch.float64)
    xi = torch.zeros(n, 6, dtype=torch.float64)
    xi[:, 0] = 3.0 * s + seed
    xi[:, 1] = 0.3 * torch.sin(6.0 * s)
    xi[:, 4] = 1.0 * s
    xi[:, 3] = 0.2 * torch.sin(3.0 * s)
    return se3_exp(xi)


def perturb(T: torch.Tensor, sigma_t: float, sigma_r_deg: float, generator: torch.Generator) -> torch.Tensor:
    """``T @ exp(noise)``: Gaussian noise in the body frame, ``(t, omega)``."""
    noise = torch.randn(T.shape[0], 6, dtype=torch.float64, generator=generator)
    noise[:, :3] *= sigma_t
    noise[:, 3:] *= math.radians(sigma_r_deg)
    return T @ se3_exp(noise)


def measurements(gt: torch.Tensor, seed: int = 1) -> tuple[AbsoluteMeasurements, RelativeMeasurements]:
    generator = torch.Generator().manual_seed(seed)
    n = gt.shape[0]
    absolute = AbsoluteMeasurements(perturb(gt, ABS_T, ABS_R_DEG, generator), sigma_vector(ABS_T, ABS_R_DEG))
    steps = perturb(relative_pose(gt[:-1], gt[1:]), REL_T, REL_R_DEG, generator)
    pairs = torch.stack((torch.arange(n - 1), torch.arange(1, n)), dim=1)
    return absolute, RelativeMeasurements(pairs, steps, sigma_vector(REL_T, REL_R_DEG))


def translation_errors(T_est: torch.Tensor, T_gt: torch.Tensor) -> torch.Tensor:
    return torch.linalg.vector_norm(T_est[:, :3, 3] - T_gt[:, :3, 3], dim=-1)
