"""The scalar coefficients of the SO(3)/SE(3) exponential and logarithm, exact near angle 0.

With ``theta`` the rotation angle and ``K = hat(omega)``:

- ``R = I + A K + B K^2`` (Rodrigues),
- ``V = I + B K + C K^2`` (left Jacobian: ``t = V rho`` in the SE(3) exponential),
- ``V^-1 = I - K / 2 + D K^2``,

with ``A = sin(theta)/theta``, ``B = (1 - cos(theta))/theta^2``, ``C = (theta - sin(theta))/theta^3`` and
``D = (1 - A / (2B)) / theta^2``. Below ``theta^2 = 0.01`` their Taylor series (to ``theta^8``, exact to
float64 rounding there) replace the closed forms, which cancel catastrophically near 0. The coefficients are
computed in float64 and returned in the input dtype, so float32 callers get float32-exact values.
"""

from __future__ import annotations

import torch

SERIES_THRESHOLD_SQ = 1e-2


def _split(theta_sq: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    t2 = theta_sq.double()
    small = t2 < SERIES_THRESHOLD_SQ
    theta = torch.sqrt(torch.where(small, torch.ones_like(t2), t2))  # safe: gradient finite at 0
    return t2, small, theta


def rodrigues_coefficients(theta_sq: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """``A = sin(t)/t`` and ``B = (1 - cos(t))/t^2`` of squared angles ``theta_sq`` (any shape)."""
    t2, small, t = _split(theta_sq)
    a = torch.where(small, 1 - t2 / 6 * (1 - t2 / 20 * (1 - t2 / 42 * (1 - t2 / 72))), torch.sin(t) / t)
    b = torch.where(small, 0.5 * (1 - t2 / 12 * (1 - t2 / 30 * (1 - t2 / 56 * (1 - t2 / 90)))), (1 - torch.cos(t)) / t2.where(~small, torch.ones_like(t2)))
    return a.to(theta_sq.dtype), b.to(theta_sq.dtype)


def left_jacobian_coefficients(theta_sq: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """``A``, ``B`` and ``C = (t - sin t)/t^3`` of squared angles ``theta_sq``."""
    t2, small, t = _split(theta_sq)
    a, b = rodrigues_coefficients(theta_sq)
    t3 = t2.where(~small, torch.ones_like(t2)) * t
    c = torch.where(small, (1 - t2 / 20 * (1 - t2 / 42 * (1 - t2 / 72 * (1 - t2 / 110)))) / 6, (t - torch.sin(t)) / t3)
    return a, b, c.to(theta_sq.dtype)


def inverse_left_jacobian_coefficient(theta_sq: torch.Tensor) -> torch.Tensor:
    """``D = (1 - A/(2B)) / t^2`` of squared angles ``theta_sq`` (for angles in [0, pi])."""
    t2, small, t = _split(theta_sq)
    t2_safe = t2.where(~small, torch.ones_like(t2))
    a = torch.sin(t) / t
    b = (1 - torch.cos(t)) / t2_safe
    series = 1 / 12 + t2 / 720 + t2 * t2 / 30240 + t2 * t2 * t2 / 1209600
    d = torch.where(small, series, (1 - a / (2 * b)) / t2_safe)
    return d.to(theta_sq.dtype)
