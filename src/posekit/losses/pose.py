"""Pose losses: PoseNet's weighted loss with a fixed beta, the learned homoscedastic weighting, the geometric
reprojection loss (Kendall and Cipolla 2017) and the supervised relative-pose loss.

Per-sample distances are norms of difference vectors: ``L1`` is ``sum |d_i|``, ``L2`` is the Euclidean norm
``sqrt(sum d_i^2)`` (not squared, as in the PoseNet papers); the loss is their mean over the batch. Quaternion
distances are invariant to the sign of either quaternion (``q`` and ``-q`` are the same rotation):
``min(|q_hat - q|, |q_hat + q|)`` after normalising both.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

import torch
import torch.nn.functional as F
from torch import nn

from posekit.geometry import (
    PinholeIntrinsics,
    angle_between_rotations,
    backproject_depth,
    matrix_to_translation_axis_angle,
    project_points,
    se3_inverse,
    split_pose,
    transform_points,
    translation_axis_angle_to_matrix,
)
from posekit.geometry.checks import check_shape, check_trailing_shape


class Norm(str, Enum):
    """The norm of a difference vector: ``L1`` (sum of absolute values) or ``L2`` (Euclidean)."""

    L1 = "l1"
    L2 = "l2"


class RobustKernel(str, Enum):
    """The per-point penalty of the reprojection loss: ``L1`` (``|du| + |dv|``, Kendall and Cipolla's choice) or
    ``HUBER`` (Huber on the pixel distance)."""

    L1 = "l1"
    HUBER = "huber"


class RelativePoseLossKind(str, Enum):
    """How the rotation of a relative pose is compared: as ``(t, omega)`` vectors (``VECTOR``) or by the angle of
    ``R_pred^T R_target`` (``ANGLE``, in radians)."""

    VECTOR = "vector"
    ANGLE = "angle"


@dataclass
class PoseLossOutput:
    """A pose loss and its unweighted parts (batch means), for logging.

    Attributes:
        total: the scalar to minimise.
        translation: the translation term before weighting.
        rotation: the rotation term before weighting.
    """

    total: torch.Tensor
    translation: torch.Tensor
    rotation: torch.Tensor


def vector_distance(prediction: torch.Tensor, target: torch.Tensor, norm: Norm | str = Norm.L1) -> torch.Tensor:
    """Per-sample norm of ``prediction - target``. ``(B, D), (B, D) -> (B,)``.

    The L2 norm has a zero (not NaN) gradient at a zero difference.
    """
    check_shape("target", target, tuple(prediction.shape))
    difference = prediction - target
    if Norm(norm) is Norm.L1:
        return difference.abs().sum(-1)
    squared = (difference * difference).sum(-1)
    return torch.sqrt(squared.clamp_min(torch.finfo(difference.dtype).tiny))


def quaternion_distance(prediction: torch.Tensor, target: torch.Tensor, norm: Norm | str = Norm.L1) -> torch.Tensor:
    """Sign-invariant quaternion distance ``min(|q_hat - q|, |q_hat + q|)`` of normalised quaternions.

    Args:
        prediction, target: ``(B, 4)`` quaternions ``(w, x, y, z)`` (need not be unit or canonical).
        norm: the norm of the difference.

    Returns:
        ``(B,)``.
    """
    check_trailing_shape("prediction", prediction, (4,))
    check_shape("target", target, tuple(prediction.shape))
    p = F.normalize(prediction, dim=-1, eps=1e-8)
    q = F.normalize(target, dim=-1, eps=1e-8)
    return torch.minimum(vector_distance(p, q, norm), vector_distance(p, -q, norm))


def _pose_terms(pred_translation, pred_quaternion, target_translation, target_quaternion, norm):
    check_shape("pred_translation", pred_translation, (None, 3))
    check_shape("target_translation", target_translation, tuple(pred_translation.shape))
    check_shape("pred_quaternion", pred_quaternion, (pred_translation.shape[0], 4))
    translation = vector_distance(pred_translation, target_translation, norm).mean()
    rotation = quaternion_distance(pred_quaternion, target_quaternion, norm).mean()
    return translation, rotation


class PoseNetLoss(nn.Module):
    """PoseNet's loss ``L_x + beta L_q`` with a fixed ``beta``.

    Args:
        beta: weight of the quaternion term (512 in the article, on Apolloscape; PoseNet used 120-750 indoors).
        norm: :class:`Norm` of the differences.

    Example:
        >>> loss = PoseNetLoss(beta=10.0)
        >>> q = torch.tensor([[1.0, 0, 0, 0]])
        >>> loss(torch.tensor([[1.0, 2, 2]]), q, torch.zeros(1, 3), -q).total
        tensor(5.)
    """

    def __init__(self, beta: float = 512.0, norm: Norm | str = Norm.L1):
        super().__init__()
        self.beta = float(beta)
        self.norm = Norm(norm)

    def forward(self, pred_translation: torch.Tensor, pred_quaternion: torch.Tensor,
                target_translation: torch.Tensor, target_quaternion: torch.Tensor) -> PoseLossOutput:
        """``(B, 3)``, ``(B, 4)`` predictions and targets -> :class:`PoseLossOutput`."""
        lx, lq = _pose_terms(pred_translation, pred_quaternion, target_translation, target_quaternion, self.norm)
        return PoseLossOutput(total=lx + self.beta * lq, translation=lx, rotation=lq)


class LearnedPoseLoss(nn.Module):
    """Homoscedastic-uncertainty weighting (Kendall and Cipolla 2017):
    ``exp(-s_x) L_x + s_x + exp(-s_q) L_q + s_q`` with ``s_x``, ``s_q`` learned (``nn.Parameter``).

    Both regulariser terms are present (the article's listing forgot ``+ s_x``, which lets ``s_x`` grow without
    bound). Give this module's parameters to the optimiser along with the network's.

    Args:
        sx, sq: initial values (0 and -3 as in the paper).
        norm: :class:`Norm` of the differences.
    """

    def __init__(self, sx: float = 0.0, sq: float = -3.0, norm: Norm | str = Norm.L1):
        super().__init__()
        self.sx = nn.Parameter(torch.tensor(float(sx)))
        self.sq = nn.Parameter(torch.tensor(float(sq)))
        self.norm = Norm(norm)

    def forward(self, pred_translation: torch.Tensor, pred_quaternion: torch.Tensor,
                target_translation: torch.Tensor, target_quaternion: torch.Tensor) -> PoseLossOutput:
        """``(B, 3)``, ``(B, 4)`` predictions and targets -> :class:`PoseLossOutput`."""
        lx, lq = _pose_terms(pred_translation, pred_quaternion, target_translation, target_quaternion, self.norm)
        total = torch.exp(-self.sx) * lx + self.sx + torch.exp(-self.sq) * lq + self.sq
        return PoseLossOutput(total=total, translation=lx, rotation=lq)


def sample_scene_points(
    depth: torch.Tensor,
    intrinsics: torch.Tensor | PinholeIntrinsics,
    T_world_cam: torch.Tensor,
    num_points: int,
    generator: torch.Generator | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Random 3-D scene points in the world frame from pixels with known depth, for the reprojection loss.

    Args:
        depth: ``(B, 1, H, W)`` metres, 0 = unknown.
        intrinsics: ``(B, 4)`` or ``(4,)`` tensor or :class:`PinholeIntrinsics`.
        T_world_cam: ``(B, 4, 4)`` ground-truth camera-to-world poses.
        num_points: points per image (without repetition; fewer valid pixels leave masked-out slots).
        generator: random generator for reproducible sampling.

    Returns:
        ``points_in_world``: ``(B, N, 3)``; ``mask``: ``(B, N)`` bool, False for slots without a valid pixel.
    """
    check_shape("depth", depth, (None, 1, None, None))
    b, _, h, w = depth.shape
    check_shape("T_world_cam", T_world_cam, (b, 4, 4))
    points_in_cam = backproject_depth(depth, intrinsics).reshape(b, 3, h * w).transpose(1, 2)
    valid = (depth.reshape(b, h * w) > 0) & torch.isfinite(depth.reshape(b, h * w))
    device = depth.device if generator is None else generator.device
    scores = torch.rand(b, h * w, generator=generator, device=device).to(depth.device)
    scores = scores.masked_fill(~valid, -1.0)  # invalid pixels are picked last
    index = scores.topk(min(num_points, h * w), dim=1).indices
    mask = valid.gather(1, index)
    picked = points_in_cam.gather(1, index[..., None].expand(-1, -1, 3))
    return transform_points(T_world_cam, picked), mask


class GeometricReprojectionLoss(nn.Module):
    """Kendall and Cipolla (2017)'s geometric loss: the pixel distance between the projections of scene points
    through the ground-truth and the predicted camera.

    Points behind either camera are masked out (they cannot be projected; points behind the predicted camera
    give no gradient, so combine with :class:`PoseNetLoss` early in training, as the paper does). The loss is the
    mean penalty over the valid points of the batch, 0 when there is none.

    Args:
        kernel: :class:`RobustKernel`.
        huber_delta: the Huber threshold in pixels.
        max_error: clamp each point's penalty at this many pixels (None: no clamp) against outliers.
        min_depth: points with camera z below this are "behind".
    """

    def __init__(self, kernel: RobustKernel | str = RobustKernel.L1, huber_delta: float = 10.0,
                 max_error: float | None = None, min_depth: float = 1e-3):
        super().__init__()
        self.kernel = RobustKernel(kernel)
        self.huber_delta = float(huber_delta)
        self.max_error = max_error
        self.min_depth = float(min_depth)

    def forward(
        self,
        T_world_cam_pred: torch.Tensor,
        T_world_cam_target: torch.Tensor,
        points_in_world: torch.Tensor,
        intrinsics: torch.Tensor | PinholeIntrinsics,
        point_mask: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """Scalar loss.

        Args:
            T_world_cam_pred, T_world_cam_target: ``(B, 4, 4)`` camera-to-world poses.
            points_in_world: ``(B, N, 3)``.
            intrinsics: ``(B, 4)`` or ``(4,)`` tensor or :class:`PinholeIntrinsics`.
            point_mask: optional ``(B, N)`` bool, False for points to ignore.
        """
        check_shape("T_world_cam_pred", T_world_cam_pred, (None, 4, 4))
        b = T_world_cam_pred.shape[0]
        check_shape("T_world_cam_target", T_world_cam_target, (b, 4, 4))
        check_shape("points_in_world", points_in_world, (b, None, 3))
        pixels_pred, front_pred = self._project(T_world_cam_pred, points_in_world, intrinsics)
        pixels_target, front_target = self._project(T_world_cam_target, points_in_world, intrinsics)
        valid = front_pred[:, 0] & front_target[:, 0]
        if point_mask is not None:
            check_shape("point_mask", point_mask, tuple(valid.shape))
            valid = valid & point_mask.bool()
        residual = pixels_pred - pixels_target  # (B, 2, N)
        if self.kernel is RobustKernel.L1:
            penalty = residual.abs().sum(1)
        else:
            distance = torch.sqrt((residual * residual).sum(1).clamp_min(torch.finfo(residual.dtype).tiny))
            penalty = F.huber_loss(distance, torch.zeros_like(distance), reduction="none", delta=self.huber_delta)
        if self.max_error is not None:
            penalty = penalty.clamp_max(self.max_error)
        penalty = torch.where(valid, penalty, torch.zeros_like(penalty))
        return penalty.sum() / valid.sum().clamp_min(1)

    def _project(self, T_world_cam, points_in_world, intrinsics):
        points_in_cam = transform_points(se3_inverse(T_world_cam), points_in_world)
        return project_points(points_in_cam.transpose(1, 2), intrinsics, min_depth=self.min_depth)


class RelativePoseLoss(nn.Module):
    """Supervised loss on a predicted relative pose ``T_src_tgt`` given as a ``(t, omega)`` 6-vector.

    ``L_t + beta L_r`` where ``L_t`` is the translation distance and ``L_r`` either the rotation-vector distance
    (``VECTOR``) or the rotation angle between prediction and target in radians (``ANGLE``).

    Args:
        kind: :class:`RelativePoseLossKind`.
        beta: weight of the rotation term.
        norm: :class:`Norm` of the vector differences.
    """

    def __init__(self, kind: RelativePoseLossKind | str = RelativePoseLossKind.VECTOR, beta: float = 1.0,
                 norm: Norm | str = Norm.L1):
        super().__init__()
        self.kind = RelativePoseLossKind(kind)
        self.beta = float(beta)
        self.norm = Norm(norm)

    def forward(self, pred_vector: torch.Tensor, T_src_tgt_target: torch.Tensor) -> PoseLossOutput:
        """``(B, 6)`` predicted ``(t, omega)`` and ``(B, 4, 4)`` target ``T_src_tgt`` -> :class:`PoseLossOutput`."""
        check_shape("pred_vector", pred_vector, (None, 6))
        check_shape("T_src_tgt_target", T_src_tgt_target, (pred_vector.shape[0], 4, 4))
        target_vector = matrix_to_translation_axis_angle(T_src_tgt_target.to(pred_vector.dtype))
        translation = vector_distance(pred_vector[:, :3], target_vector[:, :3], self.norm).mean()
        if self.kind is RelativePoseLossKind.VECTOR:
            rotation = vector_distance(pred_vector[:, 3:], target_vector[:, 3:], self.norm).mean()
        else:
            rotation_pred, _ = split_pose(translation_axis_angle_to_matrix(pred_vector))
            rotation_target, _ = split_pose(T_src_tgt_target.to(pred_vector.dtype))
            rotation = angle_between_rotations(rotation_pred, rotation_target).mean()
        return PoseLossOutput(total=translation + self.beta * rotation, translation=translation, rotation=rotation)
