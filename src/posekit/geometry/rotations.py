"""Rotation representations and conversions, batched over any leading dimensions.

Conventions (see CONVENTIONS.md):

- Quaternions are ``(w, x, y, z)``, Hamilton, unit norm; :func:`canonicalize_quaternion` puts them on the
  ``w >= 0`` hemisphere. Every function that makes a quaternion (from a matrix, a rotation vector of any
  angle, a log-quaternion, or a product: :func:`quaternion_multiply`) returns a canonical one. The
  exceptions say so in their names or keep their input's hemisphere, as in pytorch3d:
  :func:`quaternion_raw_multiply` (the plain Hamilton product), :func:`normalize_quaternion` and
  :func:`quaternion_conjugate` (canonical in, canonical out).
- Axis-angle is the rotation vector ``omega = angle * axis`` (the SO(3) logarithm).
- Euler angles are ``(roll, pitch, yaw)`` with ``R = Rz(yaw) @ Ry(pitch) @ Rx(roll)`` (Apolloscape).
- The log-quaternion (MapNet) is ``acos(w) * v / |v|`` for ``q = (w, v)``, ``w >= 0``: half the rotation vector.

All functions are differentiable with finite gradients at angle 0 and near pi, and work in float32 and float64.
Angles are radians.

Bad input raises a typed error (:mod:`posekit.errors`): a wrong shape, an integer dtype, batches that do not
broadcast or dtypes that differ (:class:`ShapeError`); a zero or non-finite quaternion, and a matrix that is
not a rotation (NaN, a reflection, a scale) where the result would otherwise be silently wrong: conversions
of matrices to quaternions, rotation vectors, Euler angles and angles (:class:`RotationError`, see
:func:`posekit.geometry.checks.check_rigid`). Empty batches give empty results.
"""

from __future__ import annotations

import torch

from posekit.errors import RotationError
from posekit.geometry.checks import check_batch, check_input, check_rigid
from posekit.geometry.series import rodrigues_coefficients

# Below this squared norm, series expansions replace the closed forms (both are exact to float64 precision).
_SMALL_SQ = 1e-8


def _safe_norm(v: torch.Tensor, dim: int = -1, keepdim: bool = False) -> torch.Tensor:
    """Euclidean norm whose gradient is 0 (not NaN) at the zero vector, where its value is exactly 0."""
    sq = (v * v).sum(dim=dim, keepdim=keepdim)
    positive = sq > 0
    return torch.where(positive, torch.sqrt(torch.where(positive, sq, 1.0)), 0.0)


def normalize_quaternion(quaternion: torch.Tensor) -> torch.Tensor:
    """Scale quaternions to unit norm; raise :class:`RotationError` for zero or non-finite ones.

    Args:
        quaternion: ``(..., 4)`` quaternions ``(w, x, y, z)``.

    Returns:
        ``(..., 4)`` unit quaternions (the hemisphere is not changed).
    """
    check_input("quaternion", quaternion, (4,))
    norm = torch.linalg.vector_norm(quaternion, dim=-1, keepdim=True)
    if not bool(torch.isfinite(quaternion).all()) or bool((norm <= 1e-12).any()):
        raise RotationError("quaternion: zero-norm or non-finite quaternion cannot be normalised")
    return quaternion / norm


def canonicalize_quaternion(quaternion: torch.Tensor) -> torch.Tensor:
    """Flip quaternions to the ``w >= 0`` hemisphere (``q`` and ``-q`` are the same rotation).

    Args:
        quaternion: ``(..., 4)`` quaternions ``(w, x, y, z)``.

    Returns:
        ``(..., 4)`` quaternions with ``w >= 0``.
    """
    check_input("quaternion", quaternion, (4,))
    sign = torch.where(quaternion[..., :1] < 0, -1.0, 1.0).to(quaternion.dtype)
    return quaternion * sign


def quaternion_multiply(q1: torch.Tensor, q2: torch.Tensor) -> torch.Tensor:
    """Hamilton product ``q1 * q2`` (rotate by ``q2`` first, then ``q1``), canonicalised (``w >= 0``).

    Args:
        q1, q2: ``(..., 4)`` quaternions ``(w, x, y, z)``, broadcastable, same dtype.

    Returns:
        ``(..., 4)`` canonical product.
    """
    return canonicalize_quaternion(quaternion_raw_multiply(q1, q2))


def quaternion_raw_multiply(q1: torch.Tensor, q2: torch.Tensor) -> torch.Tensor:
    """Hamilton product ``q1 * q2`` as it comes: not canonicalised (its ``w`` may be negative).

    Args:
        q1, q2: ``(..., 4)`` quaternions ``(w, x, y, z)``, broadcastable, same dtype.

    Returns:
        ``(..., 4)`` product.
    """
    check_input("q1", q1, (4,))
    check_input("q2", q2, (4,))
    check_batch("q1", q1, 1, "q2", q2, 1)
    w1, x1, y1, z1 = q1.unbind(-1)
    w2, x2, y2, z2 = q2.unbind(-1)
    return torch.stack(
        (
            w1 * w2 - x1 * x2 - y1 * y2 - z1 * z2,
            w1 * x2 + x1 * w2 + y1 * z2 - z1 * y2,
            w1 * y2 - x1 * z2 + y1 * w2 + z1 * x2,
            w1 * z2 + x1 * y2 - y1 * x2 + z1 * w2,
        ),
        dim=-1,
    )


def quaternion_conjugate(quaternion: torch.Tensor) -> torch.Tensor:
    """Conjugate ``(w, -x, -y, -z)``: the inverse rotation of a unit quaternion. Shape ``(..., 4)``."""
    check_input("quaternion", quaternion, (4,))
    return quaternion * quaternion.new_tensor([1.0, -1.0, -1.0, -1.0])


def quaternion_to_matrix(quaternion: torch.Tensor) -> torch.Tensor:
    """Rotation matrices of quaternions. Non-unit quaternions are normalised first (zero ones raise).

    Args:
        quaternion: ``(..., 4)`` quaternions ``(w, x, y, z)``.

    Returns:
        ``(..., 3, 3)`` rotation matrices.

    Example:
        >>> quaternion_to_matrix(torch.tensor([1.0, 0.0, 0.0, 0.0]))
        tensor([[1., 0., 0.],
                [0., 1., 0.],
                [0., 0., 1.]])
    """
    w, x, y, z = normalize_quaternion(quaternion).unbind(-1)
    rows = (
        1 - 2 * (y * y + z * z), 2 * (x * y - w * z), 2 * (x * z + w * y),
        2 * (x * y + w * z), 1 - 2 * (x * x + z * z), 2 * (y * z - w * x),
        2 * (x * z - w * y), 2 * (y * z + w * x), 1 - 2 * (x * x + y * y),
    )
    return torch.stack(rows, dim=-1).reshape(quaternion.shape[:-1] + (3, 3))


def matrix_to_quaternion(matrix: torch.Tensor) -> torch.Tensor:
    """Canonical (``w >= 0``) unit quaternions of rotation matrices, by Shepperd's method.

    Of the four algebraically equivalent formulas, the one dividing by the largest of ``|w|, |x|, |y|, |z|``
    is used, so the result is accurate and the gradient finite for every rotation, including angle pi.

    Args:
        matrix: ``(..., 3, 3)`` rotation matrices (refused beyond
            :data:`~posekit.geometry.checks.RIGID_ATOL`: NaN, reflections, scaled matrices).

    Returns:
        ``(..., 4)`` quaternions ``(w, x, y, z)`` with ``w >= 0``.
    """
    check_input("matrix", matrix, (3, 3))
    check_rigid("matrix", matrix)
    m = matrix.reshape(matrix.shape[:-2] + (9,))
    m00, m01, m02, m10, m11, m12, m20, m21, m22 = m.unbind(-1)
    four_sq = torch.stack(
        (1 + m00 + m11 + m22, 1 + m00 - m11 - m22, 1 - m00 + m11 - m22, 1 - m00 - m11 + m22), dim=-1
    )
    # 2|w|, 2|x|, 2|y|, 2|z|; the clamp keeps the gradient of the unselected, possibly zero, entries finite.
    q_abs = torch.sqrt(torch.clamp(four_sq, min=1e-12))
    candidates = torch.stack(
        (
            torch.stack((q_abs[..., 0] ** 2, m21 - m12, m02 - m20, m10 - m01), dim=-1),
            torch.stack((m21 - m12, q_abs[..., 1] ** 2, m10 + m01, m02 + m20), dim=-1),
            torch.stack((m02 - m20, m10 + m01, q_abs[..., 2] ** 2, m12 + m21), dim=-1),
            torch.stack((m10 - m01, m20 + m02, m21 + m12, q_abs[..., 3] ** 2), dim=-1),
        ),
        dim=-2,
    ) / (2.0 * torch.clamp(q_abs, min=0.1)[..., None])
    best = q_abs.argmax(dim=-1, keepdim=True)
    index = best[..., None].expand(best.shape + (4,))
    quaternion = torch.gather(candidates, -2, index).squeeze(-2)
    return canonicalize_quaternion(quaternion / torch.linalg.vector_norm(quaternion, dim=-1, keepdim=True))


def axis_angle_to_quaternion(axis_angle: torch.Tensor) -> torch.Tensor:
    """Quaternions of rotation vectors.

    Args:
        axis_angle: ``(..., 3)`` rotation vectors ``angle * axis`` (radians).

    Returns:
        ``(..., 4)`` canonical unit quaternions ``(w, x, y, z)`` (``w >= 0``: an angle beyond pi gives the
        quaternion of the same rotation by ``2 pi - angle`` about the opposite axis).
    """
    check_input("axis_angle", axis_angle, (3,))
    theta_sq = (axis_angle * axis_angle).sum(-1, keepdim=True)
    small = theta_sq < _SMALL_SQ
    theta = torch.sqrt(torch.where(small, torch.ones_like(theta_sq), theta_sq))
    half_sinc = torch.where(small, 0.5 - theta_sq / 48.0, torch.sin(theta / 2) / theta)
    half_cos = torch.where(small, 1.0 - theta_sq / 8.0, torch.cos(theta / 2))
    return canonicalize_quaternion(torch.cat((half_cos, half_sinc * axis_angle), dim=-1))


def quaternion_to_axis_angle(quaternion: torch.Tensor) -> torch.Tensor:
    """Rotation vectors (angle in [0, pi]) of quaternions; non-unit quaternions are normalised.

    Args:
        quaternion: ``(..., 4)`` quaternions ``(w, x, y, z)``.

    Returns:
        ``(..., 3)`` rotation vectors.
    """
    q = canonicalize_quaternion(normalize_quaternion(quaternion))
    w, v = q[..., :1], q[..., 1:]
    n_sq = (v * v).sum(-1, keepdim=True)
    small = n_sq < _SMALL_SQ
    n = torch.sqrt(torch.where(small, torch.ones_like(n_sq), n_sq))
    w_safe = torch.where(small, w, torch.ones_like(w))  # w ~ 1 where small
    # angle / |v| = 2 atan2(|v|, w) / |v|, with its series 2/w - 2|v|^2 / (3 w^3) near |v| = 0.
    factor = torch.where(small, 2.0 / w_safe - 2.0 * n_sq / (3.0 * w_safe**3), 2.0 * torch.atan2(n, w) / n)
    return factor * v


def hat(vector: torch.Tensor) -> torch.Tensor:
    """Skew-symmetric matrices ``[v]x`` with ``[v]x @ u = v x u``. ``(..., 3) -> (..., 3, 3)``."""
    check_input("vector", vector, (3,))
    x, y, z = vector.unbind(-1)
    zero = torch.zeros_like(x)
    return torch.stack((zero, -z, y, z, zero, -x, -y, x, zero), dim=-1).reshape(vector.shape[:-1] + (3, 3))


def vee(matrix: torch.Tensor) -> torch.Tensor:
    """Inverse of :func:`hat` (reads the antisymmetric part). ``(..., 3, 3) -> (..., 3)``."""
    check_input("matrix", matrix, (3, 3))
    return 0.5 * torch.stack(
        (
            matrix[..., 2, 1] - matrix[..., 1, 2],
            matrix[..., 0, 2] - matrix[..., 2, 0],
            matrix[..., 1, 0] - matrix[..., 0, 1],
        ),
        dim=-1,
    )


def axis_angle_to_matrix(axis_angle: torch.Tensor) -> torch.Tensor:
    """Rotation matrices of rotation vectors: Rodrigues' formula, the SO(3) exponential.

    Args:
        axis_angle: ``(..., 3)`` rotation vectors (radians).

    Returns:
        ``(..., 3, 3)`` rotation matrices ``I + A K + B K^2`` with ``K = hat(axis_angle)``.
    """
    check_input("axis_angle", axis_angle, (3,))
    a, b = rodrigues_coefficients((axis_angle * axis_angle).sum(-1))
    k = hat(axis_angle)
    eye = torch.eye(3, dtype=axis_angle.dtype, device=axis_angle.device)
    return eye + a[..., None, None] * k + b[..., None, None] * (k @ k)


def matrix_to_axis_angle(matrix: torch.Tensor) -> torch.Tensor:
    """Rotation vectors of rotation matrices (the SO(3) logarithm). ``(..., 3, 3) -> (..., 3)``."""
    return quaternion_to_axis_angle(matrix_to_quaternion(matrix))


def euler_to_matrix(euler: torch.Tensor) -> torch.Tensor:
    """Rotation matrices of ``(roll, pitch, yaw)`` angles: ``R = Rz(yaw) @ Ry(pitch) @ Rx(roll)``.

    Args:
        euler: ``(..., 3)`` angles ``(roll, pitch, yaw)`` in radians.

    Returns:
        ``(..., 3, 3)`` rotation matrices.
    """
    check_input("euler", euler, (3,))
    roll, pitch, yaw = euler.unbind(-1)
    cr, sr = torch.cos(roll), torch.sin(roll)
    cp, sp = torch.cos(pitch), torch.sin(pitch)
    cy, sy = torch.cos(yaw), torch.sin(yaw)
    rows = (
        cy * cp, cy * sp * sr - sy * cr, cy * sp * cr + sy * sr,
        sy * cp, sy * sp * sr + cy * cr, sy * sp * cr - cy * sr,
        -sp, cp * sr, cp * cr,
    )
    return torch.stack(rows, dim=-1).reshape(euler.shape[:-1] + (3, 3))


def matrix_to_euler(matrix: torch.Tensor) -> torch.Tensor:
    """``(roll, pitch, yaw)`` of rotation matrices, inverse of :func:`euler_to_matrix`.

    Pitch is in [-pi/2, pi/2]. Roll comes from the last row; yaw is then read from ``R Rx(roll)^T =
    Rz(yaw) Ry(pitch)``, whose second column ``(-sin yaw, cos yaw, 0)`` stays well conditioned near gimbal
    lock, so ``euler_to_matrix(matrix_to_euler(R))`` reproduces ``R`` to rounding even there. At gimbal lock
    (``cos(pitch)`` below the dtype's epsilon) roll is set to 0 and the rotation about the vertical goes
    into yaw.

    Args:
        matrix: ``(..., 3, 3)`` rotation matrices.

    Returns:
        ``(..., 3)`` angles in radians.
    """
    check_input("matrix", matrix, (3, 3))
    check_rigid("matrix", matrix)
    r00, r01, r02 = matrix[..., 0, 0], matrix[..., 0, 1], matrix[..., 0, 2]
    r10, r11, r12 = matrix[..., 1, 0], matrix[..., 1, 1], matrix[..., 1, 2]
    r20, r21, r22 = matrix[..., 2, 0], matrix[..., 2, 1], matrix[..., 2, 2]
    cos_pitch = _safe_norm(torch.stack((r00, r10), -1))
    pitch = torch.atan2(-r20, cos_pitch)
    locked = cos_pitch < torch.finfo(matrix.dtype).eps
    # atan2(0, 1) where locked: its gradient is finite, atan2(0, 0)'s is not.
    roll = torch.atan2(torch.where(locked, 0.0, r21), torch.where(locked, 1.0, r22))
    sin_roll, cos_roll = torch.sin(roll), torch.cos(roll)
    yaw = torch.atan2(sin_roll * r02 - cos_roll * r01, cos_roll * r11 - sin_roll * r12)
    return torch.stack((roll, pitch, yaw), dim=-1)


def quaternion_to_log(quaternion: torch.Tensor) -> torch.Tensor:
    """MapNet log-quaternion ``acos(w) * v / |v|`` (w >= 0 hemisphere). ``(..., 4) -> (..., 3)``."""
    return 0.5 * quaternion_to_axis_angle(quaternion)


def log_to_quaternion(log_quaternion: torch.Tensor) -> torch.Tensor:
    """Inverse of :func:`quaternion_to_log`: ``(cos|u|, sin|u| u / |u|)``. ``(..., 3) -> (..., 4)``."""
    check_input("log_quaternion", log_quaternion, (3,))
    return axis_angle_to_quaternion(2.0 * log_quaternion)


def rotation_matrix_angle(matrix: torch.Tensor) -> torch.Tensor:
    """Rotation angle in [0, pi] of rotation matrices, stable at 0 and pi (atan2 of sine and cosine).

    Args:
        matrix: ``(..., 3, 3)``.

    Returns:
        ``(...)`` angles in radians.
    """
    check_input("matrix", matrix, (3, 3))
    check_rigid("matrix", matrix)
    cos = (matrix.diagonal(dim1=-2, dim2=-1).sum(-1) - 1.0) / 2.0
    sin = _safe_norm(2.0 * vee(matrix)) / 2.0
    return torch.atan2(sin, cos)


def angle_between_rotations(rotation_a: torch.Tensor, rotation_b: torch.Tensor) -> torch.Tensor:
    """Angle of ``R_a^T R_b`` in radians. ``(..., 3, 3), (..., 3, 3) -> (...)``."""
    check_input("rotation_a", rotation_a, (3, 3))
    check_input("rotation_b", rotation_b, (3, 3))
    check_batch("rotation_a", rotation_a, 2, "rotation_b", rotation_b, 2)
    return rotation_matrix_angle(rotation_a.transpose(-1, -2) @ rotation_b)


def angle_between_quaternions(quaternion_a: torch.Tensor, quaternion_b: torch.Tensor) -> torch.Tensor:
    """Angle ``2 acos(|<q_a, q_b>|)`` in radians, computed stably as ``2 atan2(|v|, |w|)`` of ``q_a^-1 q_b``.

    Non-unit quaternions are normalised. ``(..., 4), (..., 4) -> (...)``.
    """
    qa = normalize_quaternion(quaternion_a)
    qb = normalize_quaternion(quaternion_b)
    check_batch("quaternion_a", qa, 1, "quaternion_b", qb, 1)
    d = quaternion_raw_multiply(quaternion_conjugate(qa), qb)
    return 2.0 * torch.atan2(_safe_norm(d[..., 1:]), d[..., 0].abs())


def check_rotation_matrix(matrix: torch.Tensor, atol: float = 1e-4, name: str = "rotation") -> None:
    """Raise :class:`RotationError` unless every matrix is orthonormal with determinant +1 (within ``atol``).

    Args:
        matrix: ``(..., 3, 3)``.
        atol: tolerance on ``|R^T R - I|`` and ``|det R - 1|``.
        name: what to call the matrix in the message.
    """
    check_input(name, matrix, (3, 3))
    m = matrix.double()
    eye = torch.eye(3, dtype=m.dtype, device=m.device)
    ortho_err = (m.transpose(-1, -2) @ m - eye).abs().amax(dim=(-1, -2))
    det = torch.linalg.det(m)
    if not bool(torch.isfinite(m).all()):
        raise RotationError(f"{name}: contains non-finite values")
    if bool((ortho_err > atol).any()):
        raise RotationError(f"{name}: not orthonormal (max |R^T R - I| = {float(ortho_err.max()):.3g} > {atol})")
    if bool(((det - 1.0).abs() > atol).any()):
        raise RotationError(f"{name}: not a proper rotation (determinant {float(det.flatten()[((det - 1).abs()).argmax()]):.4f}, expected +1)")
