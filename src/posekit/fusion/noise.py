"""Standard deviations of absolute and relative measurements from their own residuals (no ground truth).

Relative: consecutive steps of a smooth motion differ little, so the change between two consecutive relative
estimates, ``log(inv(T_i_(i+1)) @ T_(i+1)_(i+2))``, has variance about ``2 s_r^2`` per axis (plus the true
change of motion, which makes this an upper bound for jerky motion).

Absolute: if absolute errors are independent from frame to frame with variance ``s_a^2`` per axis, the
discrepancy between the motion the absolute poses imply over ``k`` frames, ``inv(A_i) @ A_(i+k)``, and the
chained relative motion has variance ``2 s_a^2 + k s_r^2``; ``s_a^2`` is the mean over lags ``1..K`` of
``(var_k - k s_r^2) / 2``. Variances are robust (1.4826 MAD around 0), pooled over the three translation
and the three rotation axes. First-order model: it ignores the lever arm of rotation errors and assumes
errors uncorrelated in time (PoseNet errors are correlated between neighbouring frames, which makes ``s_a``
come out low).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from posekit.errors import TrajectoryError
from posekit.geometry import relative_pose, se3_log
from posekit.geometry.checks import check_shape

MAD_TO_SIGMA = 1.4826
# Floors so a perfectly consistent input does not give a zero (singular) sigma: 1 mm and 0.01 deg.
MIN_SIGMA_T = 1e-3
MIN_SIGMA_R = 1.7453292519943295e-4


@dataclass(frozen=True)
class ResidualSigmas:
    """Standard deviations estimated by :func:`sigmas_from_residuals`: ``absolute`` and ``relative``, each
    ``(6,)`` float64 ``(t [m] x3, omega [rad] x3)``, and the number of lags used."""

    absolute: torch.Tensor
    relative: torch.Tensor
    lags: int


def _robust_variance(values: torch.Tensor) -> float:
    """Variance of the (pooled, flattened) values from the median absolute deviation around 0."""
    return float((MAD_TO_SIGMA * values.reshape(-1).abs().median()) ** 2)


def _chained(steps: torch.Tensor, lag: int) -> torch.Tensor:
    """``(M - lag + 1, 4, 4)`` products of ``lag`` consecutive steps of ``(M, 4, 4)``."""
    m = steps.shape[0]
    motion = steps[: m - lag + 1]
    for s in range(1, lag):
        motion = motion @ steps[s : m - lag + 1 + s]
    return motion


def sigmas_from_residuals(T_world_cam_abs: list[torch.Tensor], T_i_next: list[torch.Tensor], max_lag: int = 8) -> ResidualSigmas:
    """Estimate absolute and relative sigmas from the records of a sequence.

    Args:
        T_world_cam_abs: per record, ``(N_r, 4, 4)`` absolute estimates (finite).
        T_i_next: per record, ``(N_r - 1, 4, 4)`` consecutive relative estimates ``T_i_(i+1)``.
        max_lag: largest lag ``K`` (at least 1).

    Raises:
        TrajectoryError: no record has 3 frames.
    """
    if max_lag < 1:
        raise TrajectoryError(f"max_lag must be >= 1, got {max_lag}")
    changes = []
    for absolute, relative in zip(T_world_cam_abs, T_i_next):
        check_shape("T_world_cam_abs", absolute, (None, 4, 4))
        check_shape("T_i_next", relative, (absolute.shape[0] - 1, 4, 4))
        if relative.shape[0] >= 2:
            changes.append(se3_log(relative_pose(relative[:-1].double(), relative[1:].double())))
    if not changes:
        raise TrajectoryError("sigmas_from_residuals: the records are too short (3 frames needed)")
    change = torch.cat(changes)
    var_rel = (_robust_variance(change[:, :3]) / 2.0, _robust_variance(change[:, 3:]) / 2.0)
    var_abs_t, var_abs_r = [], []
    for lag in range(1, max_lag + 1):
        discrepancies = []
        for absolute, relative in zip(T_world_cam_abs, T_i_next):
            n = absolute.shape[0]
            if n > lag:
                implied = relative_pose(absolute[: n - lag].double(), absolute[lag:].double())
                discrepancies.append(se3_log(relative_pose(_chained(relative.double(), lag), implied)))
        if discrepancies:
            d = torch.cat(discrepancies)
            var_abs_t.append((_robust_variance(d[:, :3]) - lag * var_rel[0]) / 2.0)
            var_abs_r.append((_robust_variance(d[:, 3:]) - lag * var_rel[1]) / 2.0)
    sigma_abs = (max(sum(var_abs_t) / len(var_abs_t), 0.0) ** 0.5, max(sum(var_abs_r) / len(var_abs_r), 0.0) ** 0.5)
    sigma_rel = (var_rel[0] ** 0.5, var_rel[1] ** 0.5)

    def expand(sigmas: tuple[float, float]) -> torch.Tensor:
        t, r = max(sigmas[0], MIN_SIGMA_T), max(sigmas[1], MIN_SIGMA_R)
        return torch.tensor([t] * 3 + [r] * 3, dtype=torch.float64)

    return ResidualSigmas(expand(sigma_abs), expand(sigma_rel), len(var_abs_t))
