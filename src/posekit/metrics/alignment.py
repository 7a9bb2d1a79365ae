"""Umeyama alignment of an estimated trajectory to a reference: SE(3), Sim(3) or scale only.

Umeyama, "Least-squares estimation of transformation parameters between two point patterns", IEEE PAMI
1991. The alignment is computed on the camera positions, as evo and kitti-odom-eval do, and applied to the
whole poses: the translations are scaled first, then the rigid part left-multiplies every pose.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

import torch

from posekit.errors import TrajectoryError
from posekit.geometry import make_pose
from posekit.geometry.checks import check_shape
from posekit.metrics.trajectory import Trajectory


class AlignmentType(Enum):
    """How an estimate is aligned to its reference before an error is computed."""

    none = "none"  # compare the poses as they are
    se3 = "se3"  # rotation + translation (evo -a, kitti-odom-eval 6dof)
    sim3 = "sim3"  # rotation + translation + scale (evo -as, kitti-odom-eval 7dof)
    scale = "scale"  # the Sim(3) scale only, no rotation or translation (evo -s)


@dataclass(frozen=True, eq=False)
class Similarity:
    """A similarity transform ``x -> scale * rotation @ x + translation``.

    Attributes:
        rotation: ``(3, 3)`` float64.
        translation: ``(3,)`` float64.
        scale: positive scale factor (1 for a rigid transform).
    """

    rotation: torch.Tensor
    translation: torch.Tensor
    scale: float = 1.0

    @staticmethod
    def identity() -> Similarity:
        return Similarity(torch.eye(3, dtype=torch.float64), torch.zeros(3, dtype=torch.float64), 1.0)

    def matrix(self) -> torch.Tensor:
        """``(4, 4)`` Sim(3) matrix ``[[s R, t], [0, 1]]``."""
        return make_pose(self.scale * self.rotation, self.translation)

    def rigid_matrix(self) -> torch.Tensor:
        """``(4, 4)`` SE(3) matrix ``[[R, t], [0, 1]]`` (the scale left out)."""
        return make_pose(self.rotation, self.translation)

    def apply_to_points(self, points: torch.Tensor) -> torch.Tensor:
        """``(..., 3)`` points mapped by the similarity."""
        return self.scale * points @ self.rotation.T + self.translation


def umeyama_alignment(points_src: torch.Tensor, points_dst: torch.Tensor, with_scale: bool = False) -> Similarity:
    """The similarity minimising ``sum ||points_dst - (s R points_src + t)||^2``.

    Args:
        points_src: ``(N, 3)`` points to move (the estimate's positions).
        points_dst: ``(N, 3)`` target points (the reference's positions).
        with_scale: estimate the scale too (Sim(3)); otherwise ``s = 1`` (SE(3)).

    Returns:
        The :class:`Similarity` with ``points_dst ~ s R points_src + t``.

    Raises:
        TrajectoryError: the point sets differ in shape, or are degenerate (all points on a line).

    Example:
        >>> src = torch.rand(10, 3, dtype=torch.float64)
        >>> sim = umeyama_alignment(src, 2.0 * src + 1.0, with_scale=True)
        >>> round(sim.scale, 6)
        2.0
    """
    check_shape("points_src", points_src, (None, 3))
    check_shape("points_dst", points_dst, (None, 3))
    if points_src.shape != points_dst.shape:
        raise TrajectoryError(
            f"umeyama_alignment: point sets differ in shape, {tuple(points_src.shape)} vs {tuple(points_dst.shape)}"
        )
    x = points_src.to(torch.float64)
    y = points_dst.to(torch.float64)
    n = x.shape[0]
    mean_x, mean_y = x.mean(dim=0), y.mean(dim=0)
    x_centred, y_centred = x - mean_x, y - mean_y
    sigma_x = float((x_centred * x_centred).sum()) / n  # variance, Umeyama eq. 36
    covariance = y_centred.T @ x_centred / n  # eq. 38
    u, d, vh = torch.linalg.svd(covariance)
    if int((d > torch.finfo(torch.float64).eps).sum()) < 2:
        raise TrajectoryError(
            f"umeyama_alignment: degenerate point sets ({n} points, covariance rank < 2); alignment is not possible"
        )
    s = torch.ones(3, dtype=torch.float64)
    if float(torch.linalg.det(u) * torch.linalg.det(vh)) < 0.0:
        s[2] = -1.0  # keep a proper rotation (Kabsch)
    rotation = u @ torch.diag(s) @ vh  # eq. 40
    scale = float((d * s).sum()) / sigma_x if with_scale else 1.0  # eq. 42
    translation = mean_y - scale * (rotation @ mean_x)  # eq. 41
    return Similarity(rotation, translation, scale)


def apply_similarity(traj: Trajectory, similarity: Similarity) -> Trajectory:
    """Move a trajectory by a similarity: translations scaled by ``s``, then ``[R, t]`` left-multiplied.

    Rotations stay proper: ``R_new = R @ R_world_cam``, ``p_new = s R p + t``.
    """
    poses = traj.poses.clone()
    poses[:, :3, 3] = poses[:, :3, 3] * similarity.scale
    return traj.with_poses(similarity.rigid_matrix() @ poses)


def align_trajectory(
    traj_est: Trajectory,
    traj_ref: Trajectory,
    alignment: AlignmentType = AlignmentType.se3,
    n_poses: int | None = None,
) -> tuple[Trajectory, Similarity]:
    """Align ``traj_est`` to ``traj_ref`` (pose ``i`` of one matches pose ``i`` of the other).

    Args:
        traj_est: the estimate, moved by the alignment.
        traj_ref: the reference, same length.
        alignment: :class:`AlignmentType`; ``scale`` applies only the Sim(3) scale (as evo's ``-s``).
        n_poses: estimate the alignment from the first ``n_poses`` poses only (default: all).

    Returns:
        The aligned estimate and the :class:`Similarity` applied to it.
    """
    if len(traj_est) != len(traj_ref):
        raise TrajectoryError(
            f"align_trajectory: trajectories differ in length ({len(traj_est)} vs {len(traj_ref)} poses)"
        )
    if alignment is AlignmentType.none:
        return traj_est, Similarity.identity()
    if n_poses is not None and n_poses < 1:
        raise TrajectoryError(f"align_trajectory: n_poses must be positive, got {n_poses}")
    count = len(traj_est) if n_poses is None else min(n_poses, len(traj_est))
    with_scale = alignment in (AlignmentType.sim3, AlignmentType.scale)
    similarity = umeyama_alignment(traj_est.positions[:count], traj_ref.positions[:count], with_scale)
    if alignment is AlignmentType.scale:
        identity = Similarity.identity()
        similarity = Similarity(identity.rotation, identity.translation, similarity.scale)
    return apply_similarity(traj_est, similarity), similarity


def align_origin(traj_est: Trajectory, traj_ref: Trajectory) -> tuple[Trajectory, torch.Tensor]:
    """Move the estimate rigidly so that its first pose equals the reference's first pose (evo's
    ``--align_origin``): ``T_ref_est = T_world_ref0 @ inv(T_world_est0)`` left-multiplies every pose.

    Returns:
        The moved estimate and the ``(4, 4)`` transform applied.
    """
    if len(traj_est) == 0 or len(traj_ref) == 0:
        raise TrajectoryError("align_origin: a trajectory is empty")
    T_ref_est = traj_ref.poses[0] @ torch.linalg.inv(traj_est.poses[0])
    return traj_est.transformed(T_ref_est), T_ref_est
