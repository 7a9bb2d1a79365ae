"""SO(3) and SE(3): exponential and logarithm maps, composition, inverse, relative pose (the "SE3 generator").

A pose ``T_a_b`` is a ``(..., 4, 4)`` rigid transform mapping points in frame ``b`` to frame ``a``:
``X_a = T_a_b @ X_b``. A 6-vector is ``(t, omega)``: translation first, then the rotation vector.

Two readings of a 6-vector exist and the names say which one is meant:

- :func:`se3_exp` / :func:`se3_log`: the SE(3) exponential map, ``t = V(omega) rho`` (the Lie algebra).
- :func:`translation_axis_angle_to_matrix` / :func:`matrix_to_translation_axis_angle`: ``R = exp(omega)`` and
  the translation used as it is (the reading of most pose-network heads).

All functions are batched, differentiable with finite gradients at angle 0 and near pi, float32 and float64.

Bad input raises a typed error: wrong shapes, integer dtypes, batches that do not broadcast, differing dtypes
(:class:`~posekit.errors.ShapeError`); transforms that are not rigid (NaN, a reflection, a scale, a last row
other than ``0 0 0 1``) where the answer would be silently wrong: :func:`se3_inverse`, :func:`se3_log`,
:func:`matrix_to_translation_axis_angle` (:class:`~posekit.errors.RotationError`).
"""

from __future__ import annotations

import torch

from posekit.geometry.checks import check_batch, check_input, check_rigid
from posekit.geometry.rotations import (
    axis_angle_to_matrix,
    hat,
    matrix_to_axis_angle,
    matrix_to_quaternion,
    quaternion_to_matrix,
)
from posekit.geometry.series import inverse_left_jacobian_coefficient, left_jacobian_coefficients

so3_exp = axis_angle_to_matrix
so3_log = matrix_to_axis_angle


def make_pose(rotation: torch.Tensor, translation: torch.Tensor) -> torch.Tensor:
    """Assemble ``(..., 4, 4)`` rigid transforms from ``(..., 3, 3)`` rotations and ``(..., 3)`` translations."""
    check_input("rotation", rotation, (3, 3))
    check_input("translation", translation, (3,))
    check_batch("rotation", rotation, 2, "translation", translation.to(rotation.dtype), 1)
    batch = torch.broadcast_shapes(rotation.shape[:-2], translation.shape[:-1])
    top = torch.cat((rotation.expand(batch + (3, 3)), translation.expand(batch + (3,))[..., None]), dim=-1)
    bottom = torch.zeros(batch + (1, 4), dtype=top.dtype, device=top.device)
    bottom[..., 0, 3] = 1.0
    return torch.cat((top, bottom), dim=-2)


def split_pose(pose: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Rotation ``(..., 3, 3)`` and translation ``(..., 3)`` of ``(..., 4, 4)`` rigid transforms."""
    check_input("pose", pose, (4, 4))
    return pose[..., :3, :3], pose[..., :3, 3]


def se3_exp(xi: torch.Tensor) -> torch.Tensor:
    """SE(3) exponential of 6-vectors ``(rho, omega)``: ``R = exp(omega)``, ``t = V(omega) rho``.

    Args:
        xi: ``(..., 6)`` twists, translation part first.

    Returns:
        ``(..., 4, 4)`` rigid transforms.

    Example:
        >>> se3_exp(torch.zeros(6))[:3, :3]
        tensor([[1., 0., 0.],
                [0., 1., 0.],
                [0., 0., 1.]])
    """
    check_input("xi", xi, (6,))
    rho, omega = xi[..., :3], xi[..., 3:]
    a, b, c = left_jacobian_coefficients((omega * omega).sum(-1))
    k = hat(omega)
    k2 = k @ k
    eye = torch.eye(3, dtype=xi.dtype, device=xi.device)
    rotation = eye + a[..., None, None] * k + b[..., None, None] * k2
    v = eye + b[..., None, None] * k + c[..., None, None] * k2
    return make_pose(rotation, (v @ rho[..., None])[..., 0])


def se3_log(pose: torch.Tensor) -> torch.Tensor:
    """SE(3) logarithm: the 6-vector ``(rho, omega)`` with ``se3_exp(xi) == pose``, rotation angle in [0, pi].

    Args:
        pose: ``(..., 4, 4)`` rigid transforms.

    Returns:
        ``(..., 6)`` twists.
    """
    check_input("pose", pose, (4, 4))
    check_rigid("pose", pose)
    rotation, translation = split_pose(pose)
    omega = so3_log(rotation)
    d = inverse_left_jacobian_coefficient((omega * omega).sum(-1))
    k = hat(omega)
    eye = torch.eye(3, dtype=pose.dtype, device=pose.device)
    v_inv = eye - 0.5 * k + d[..., None, None] * (k @ k)
    rho = (v_inv @ translation[..., None])[..., 0]
    return torch.cat((rho, omega), dim=-1)


def translation_axis_angle_to_matrix(vector: torch.Tensor) -> torch.Tensor:
    """Rigid transforms from ``(t, omega)`` read directly: ``R = exp(omega)``, translation ``t`` as it is.

    This is how a pose-network head's 6 outputs are usually turned into a pose (not the SE(3) exponential).

    Args:
        vector: ``(..., 6)``.

    Returns:
        ``(..., 4, 4)``.
    """
    check_input("vector", vector, (6,))
    return make_pose(axis_angle_to_matrix(vector[..., 3:]), vector[..., :3])


def matrix_to_translation_axis_angle(pose: torch.Tensor) -> torch.Tensor:
    """Inverse of :func:`translation_axis_angle_to_matrix`. ``(..., 4, 4) -> (..., 6)``."""
    rotation, translation = split_pose(pose)
    return torch.cat((translation, matrix_to_axis_angle(rotation)), dim=-1)


def quaternion_translation_to_matrix(quaternion: torch.Tensor, translation: torch.Tensor) -> torch.Tensor:
    """Rigid transforms from ``(..., 4)`` quaternions ``(w, x, y, z)`` and ``(..., 3)`` translations."""
    return make_pose(quaternion_to_matrix(quaternion), translation)


def matrix_to_quaternion_translation(pose: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Canonical quaternions ``(..., 4)`` and translations ``(..., 3)`` of ``(..., 4, 4)`` rigid transforms."""
    rotation, translation = split_pose(pose)
    return matrix_to_quaternion(rotation), translation


def se3_inverse(pose: torch.Tensor) -> torch.Tensor:
    """Inverse rigid transforms (``T_b_a`` from ``T_a_b``): ``(R^T, -R^T t)``. ``(..., 4, 4) -> (..., 4, 4)``.

    Raises:
        RotationError: a transform is not rigid (``(R^T, -R^T t)`` would not be its inverse).
    """
    check_input("pose", pose, (4, 4))
    check_rigid("pose", pose)
    rotation, translation = split_pose(pose)
    rotation_t = rotation.transpose(-1, -2)
    return make_pose(rotation_t, -(rotation_t @ translation[..., None])[..., 0])


def se3_compose(pose_a_b: torch.Tensor, pose_b_c: torch.Tensor) -> torch.Tensor:
    """``T_a_c = T_a_b @ T_b_c`` for ``(..., 4, 4)`` rigid transforms (broadcast over the batch)."""
    check_input("pose_a_b", pose_a_b, (4, 4))
    check_input("pose_b_c", pose_b_c, (4, 4))
    check_batch("pose_a_b", pose_a_b, 2, "pose_b_c", pose_b_c, 2)
    return pose_a_b @ pose_b_c


def relative_pose(T_world_a: torch.Tensor, T_world_b: torch.Tensor) -> torch.Tensor:
    """``T_a_b = inv(T_world_a) @ T_world_b``: maps points of frame ``b`` into frame ``a``.

    For warping a source image into a target view, ``T_src_tgt = relative_pose(T_world_src, T_world_tgt)``.

    Args:
        T_world_a, T_world_b: ``(..., 4, 4)`` camera-to-world poses.

    Returns:
        ``(..., 4, 4)``.
    """
    return se3_compose(se3_inverse(T_world_a), T_world_b)


def transform_points(T_a_b: torch.Tensor, points_b: torch.Tensor) -> torch.Tensor:
    """Apply rigid transforms to points: ``X_a = R X_b + t``.

    Args:
        T_a_b: ``(..., 4, 4)``.
        points_b: ``(..., N, 3)`` points in frame ``b`` (batch dimensions broadcast with ``T_a_b``'s).

    Returns:
        ``(..., N, 3)`` points in frame ``a``.
    """
    check_input("points_b", points_b, (points_b.shape[-2] if points_b.dim() >= 2 else -1, 3))
    check_input("T_a_b", T_a_b, (4, 4))
    check_batch("T_a_b", T_a_b, 2, "points_b", points_b, 2)
    rotation, translation = split_pose(T_a_b)
    return points_b @ rotation.transpose(-1, -2) + translation[..., None, :]
