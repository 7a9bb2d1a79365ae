"""Per-frame pose errors for absolute pose estimation (re-localisation) and for single relative poses.

Absolute pose (the visloc / PoseNet convention, Brachmann et al. ICCV 2021
``evaluation_util.compute_error_max_rot_trans``): with camera-to-world poses, the translation error is the
distance between the camera centres, ``||c_gt - c_est||`` (m), and the rotation error the angle of
``R_est R_gt^T`` (deg). A frame counts as localised at ``(t, r)`` when both errors are strictly below the
thresholds (equivalently ``max(r_err [deg], 100 t_err [cm]) < 5`` for 5 cm / 5 deg). A frame without an
estimate has infinite errors.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch

from posekit.errors import TrajectoryError
from posekit.geometry import angle_between_rotations, rotation_matrix_angle
from posekit.geometry.checks import check_trailing_shape
from posekit.metrics.statistics import median
from posekit.metrics.trajectory import Trajectory

# (translation m, rotation deg) thresholds reported by default: 5 cm / 5 deg and 2 cm / 2 deg.
DEFAULT_THRESHOLDS: tuple[tuple[float, float], ...] = ((0.05, 5.0), (0.02, 2.0))


@dataclass(frozen=True, eq=False)
class PoseErrors:
    """Per-frame errors: ``translation`` (m) and ``rotation_deg``, both ``(N,)`` float64 (inf = missing)."""

    translation: torch.Tensor
    rotation_deg: torch.Tensor

    def recall(self, max_translation: float, max_rotation_deg: float) -> float:
        """Fraction of frames with translation error < ``max_translation`` (m) and rotation error <
        ``max_rotation_deg`` (deg), strict inequalities."""
        ok = (self.translation < max_translation) & (self.rotation_deg < max_rotation_deg)
        return float(ok.double().mean())

    def summary(self, thresholds: Sequence[tuple[float, float]] = DEFAULT_THRESHOLDS) -> PoseErrorSummary:
        """Medians, means (over frames with an estimate) and recalls at ``(m, deg)`` thresholds."""
        found = torch.isfinite(self.translation) & torch.isfinite(self.rotation_deg)
        mean_t = float(self.translation[found].mean()) if bool(found.any()) else float("inf")
        mean_r = float(self.rotation_deg[found].mean()) if bool(found.any()) else float("inf")
        return PoseErrorSummary(
            median_translation=median(self.translation),
            median_rotation_deg=median(self.rotation_deg),
            mean_translation=mean_t,
            mean_rotation_deg=mean_r,
            recall={(t, r): self.recall(t, r) for t, r in thresholds},
        )


@dataclass(frozen=True, eq=False)
class PoseErrorSummary:
    """Summary of :class:`PoseErrors`: medians over all frames (missing ones count as infinite), means over
    the frames with an estimate, and ``recall[(max_translation_m, max_rotation_deg)]`` in [0, 1]."""

    median_translation: float
    median_rotation_deg: float
    mean_translation: float
    mean_rotation_deg: float
    recall: dict[tuple[float, float], float]


def absolute_pose_errors(T_world_cam_gt: torch.Tensor, T_world_cam_est: torch.Tensor) -> PoseErrors:
    """Errors of estimated camera-to-world poses against ground truth.

    Args:
        T_world_cam_gt: ``(..., 4, 4)``.
        T_world_cam_est: ``(..., 4, 4)``, broadcastable with the ground truth.

    Returns:
        :class:`PoseErrors` with ``(...)``-shaped ``translation`` (m) and ``rotation_deg``.
    """
    check_trailing_shape("T_world_cam_gt", T_world_cam_gt, (4, 4))
    check_trailing_shape("T_world_cam_est", T_world_cam_est, (4, 4))
    gt, est = T_world_cam_gt.to(torch.float64), T_world_cam_est.to(torch.float64)
    translation = torch.linalg.vector_norm(gt[..., :3, 3] - est[..., :3, 3], dim=-1)
    rotation = rotation_matrix_angle(est[..., :3, :3] @ gt[..., :3, :3].transpose(-1, -2))
    return PoseErrors(translation, torch.rad2deg(rotation))


def pose_errors_by_name(traj_gt: Trajectory, traj_est: Trajectory) -> PoseErrors:
    """Errors for every ground-truth frame, matching estimates by ``names``; a ground-truth frame without
    an estimate gets infinite errors, estimates without ground truth are ignored.

    Returns:
        :class:`PoseErrors` of shape ``(len(traj_gt),)``, in the ground truth's order.
    """
    if traj_gt.names is None or traj_est.names is None:
        raise TrajectoryError("pose_errors_by_name: both trajectories need frame names")
    row_of = {name: row for row, name in enumerate(traj_est.names)}
    if len(row_of) != len(traj_est.names):
        raise TrajectoryError("pose_errors_by_name: the estimate has repeated frame names")
    rows = torch.tensor([row_of.get(name, -1) for name in traj_gt.names], dtype=torch.long)
    found = rows >= 0
    translation = torch.full((len(traj_gt),), float("inf"), dtype=torch.float64)
    rotation = translation.clone()
    if bool(found.any()):
        errors = absolute_pose_errors(traj_gt.poses[found], traj_est.poses[rows[found]])
        translation[found] = errors.translation
        rotation[found] = errors.rotation_deg
    return PoseErrors(translation, rotation)


@dataclass(frozen=True, eq=False)
class RelativePoseErrors:
    """Errors of relative poses ``T_a_b`` (all ``(...)`` float64).

    Attributes:
        translation: ``||t_gt - t_est||`` (m).
        rotation_deg: angle of ``R_gt^T R_est`` (deg).
        translation_angle_deg: angle between the translation directions (deg), for estimates known only up
            to scale; 0 where either translation is zero.
    """

    translation: torch.Tensor
    rotation_deg: torch.Tensor
    translation_angle_deg: torch.Tensor


def relative_pose_errors(T_a_b_gt: torch.Tensor, T_a_b_est: torch.Tensor) -> RelativePoseErrors:
    """Errors of estimated relative poses (e.g. ``T_src_tgt`` from a pose network) against ground truth.

    Args:
        T_a_b_gt, T_a_b_est: ``(..., 4, 4)`` broadcastable.
    """
    check_trailing_shape("T_a_b_gt", T_a_b_gt, (4, 4))
    check_trailing_shape("T_a_b_est", T_a_b_est, (4, 4))
    gt, est = T_a_b_gt.to(torch.float64), T_a_b_est.to(torch.float64)
    t_gt, t_est = gt[..., :3, 3], est[..., :3, 3]
    translation = torch.linalg.vector_norm(t_gt - t_est, dim=-1)
    rotation = angle_between_rotations(gt[..., :3, :3], est[..., :3, :3])
    cross = torch.linalg.vector_norm(torch.linalg.cross(t_gt, t_est, dim=-1), dim=-1)
    dot = (t_gt * t_est).sum(-1)
    direction = torch.atan2(cross, dot)  # atan2(0, 0) = 0 for a zero translation
    return RelativePoseErrors(translation, torch.rad2deg(rotation), torch.rad2deg(direction))
