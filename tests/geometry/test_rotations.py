"""Rotation representations: round trips, the canonical hemisphere, stable angles, special cases, and
cross-checks against scipy.spatial.transform.Rotation and kornia on random inputs.

scipy stores quaternions as (x, y, z, w) and its extrinsic "xyz" Euler angles mean R = Rz Ry Rx, which is our
(roll, pitch, yaw) convention. kornia's quaternions are (w, x, y, z), like ours.
"""

from __future__ import annotations

import math

import kornia.geometry.conversions as kc
import numpy as np
import pytest
import torch
from kornia.geometry.liegroup import So3
from scipy.spatial.transform import Rotation

from posekit.geometry import (
    angle_between_quaternions,
    angle_between_rotations,
    axis_angle_to_matrix,
    axis_angle_to_quaternion,
    canonicalize_quaternion,
    euler_to_matrix,
    hat,
    log_to_quaternion,
    matrix_to_axis_angle,
    matrix_to_euler,
    matrix_to_quaternion,
    quaternion_conjugate,
    quaternion_multiply,
    quaternion_to_axis_angle,
    quaternion_to_log,
    quaternion_to_matrix,
    rotation_matrix_angle,
    vee,
)

SPECIAL_ANGLES = [0.0, 1e-8, 1e-5, math.pi - 1e-6, math.pi]


def to_scipy(quaternion_wxyz: torch.Tensor) -> Rotation:
    """A scipy Rotation of (..., 4) (w, x, y, z) quaternions (flattened)."""
    return Rotation.from_quat(quaternion_wxyz.double().reshape(-1, 4)[:, [1, 2, 3, 0]].numpy())


def from_numpy(array: np.ndarray, like: torch.Tensor | None = None, dtype: torch.dtype = torch.float64) -> torch.Tensor:
    return torch.from_numpy(np.ascontiguousarray(array)).to(like.dtype if like is not None else dtype)


def assert_close(actual: torch.Tensor, expected: torch.Tensor, atol: float) -> None:
    assert actual.shape == expected.shape, (actual.shape, expected.shape)
    err = (actual.double() - expected.double()).abs().max().item() if actual.numel() else 0.0
    assert err <= atol, f"max abs error {err:.3g} > {atol:.3g}"


def rotation_about(axis: torch.Tensor, angle: float, dtype: torch.dtype) -> torch.Tensor:
    """Exact (float64, scipy) rotation matrix about a unit axis, cast to ``dtype``."""
    return from_numpy(Rotation.from_rotvec((axis * angle).numpy()).as_matrix(), dtype=dtype)


# --------------------------------------------------------------------------------------------------------
# Cross-checks against scipy on random inputs (batched over two leading dimensions).


def test_quaternion_to_matrix_matches_scipy(dtype, tol, random_quaternions):
    q = random_quaternions(4, 25, dtype=dtype)
    matrix = quaternion_to_matrix(q)
    assert matrix.shape == (4, 25, 3, 3) and matrix.dtype == dtype
    expected = from_numpy(to_scipy(q).as_matrix()).reshape(4, 25, 3, 3)
    assert_close(matrix, expected, tol)


def test_matrix_to_quaternion_matches_scipy_on_canonical_hemisphere(dtype, tol, random_quaternions):
    expected_rotations = to_scipy(random_quaternions(100))
    matrix = from_numpy(expected_rotations.as_matrix(), dtype=dtype)
    q = matrix_to_quaternion(matrix)
    assert q.dtype == dtype
    assert bool((q[..., 0] >= 0).all())
    expected = from_numpy(expected_rotations.as_quat()[:, [3, 0, 1, 2]])
    expected = expected * torch.where(expected[:, :1] < 0, -1.0, 1.0).double()
    assert_close(q, expected, tol)


def test_axis_angle_matches_scipy(dtype, tol, random_rotvecs):
    rotvec = random_rotvecs(5, 20, max_angle=math.pi - 1e-3)
    expected_matrix = from_numpy(Rotation.from_rotvec(rotvec.reshape(-1, 3).numpy()).as_matrix()).reshape(5, 20, 3, 3)
    assert_close(axis_angle_to_matrix(rotvec.to(dtype)), expected_matrix, tol)
    assert_close(matrix_to_axis_angle(expected_matrix.to(dtype)), rotvec, 2 * tol)


def test_euler_matches_scipy_xyz_extrinsic(dtype, tol, generator):
    roll_yaw = (torch.rand(200, 2, generator=generator, dtype=torch.float64) * 2 - 1) * math.pi * 0.999
    pitch = (torch.rand(200, 1, generator=generator, dtype=torch.float64) * 2 - 1) * (math.pi / 2 - 1e-3)
    euler = torch.cat((roll_yaw[:, :1], pitch, roll_yaw[:, 1:]), dim=-1)
    expected_matrix = from_numpy(Rotation.from_euler("xyz", euler.numpy()).as_matrix())
    assert_close(euler_to_matrix(euler.to(dtype)), expected_matrix, tol)
    recovered = matrix_to_euler(expected_matrix.to(dtype))
    assert_close(recovered, from_numpy(Rotation.from_matrix(expected_matrix.numpy()).as_euler("xyz")), 50 * tol)
    assert_close(recovered, euler, 50 * tol)


def test_euler_is_rz_ry_rx():
    roll, pitch, yaw = 0.3, -0.7, 2.1
    c, s = math.cos, math.sin
    rx = torch.tensor([[1, 0, 0], [0, c(roll), -s(roll)], [0, s(roll), c(roll)]], dtype=torch.float64)
    ry = torch.tensor([[c(pitch), 0, s(pitch)], [0, 1, 0], [-s(pitch), 0, c(pitch)]], dtype=torch.float64)
    rz = torch.tensor([[c(yaw), -s(yaw), 0], [s(yaw), c(yaw), 0], [0, 0, 1]], dtype=torch.float64)
    expected = rz @ ry @ rx
    assert_close(euler_to_matrix(torch.tensor([roll, pitch, yaw], dtype=torch.float64)), expected, 1e-15)


def test_log_quaternion_is_mapnet_formula(dtype, tol, random_quaternions):
    q = canonicalize_quaternion(random_quaternions(300))
    w, v = q[:, :1], q[:, 1:]
    expected = torch.acos(w) * v / v.norm(dim=-1, keepdim=True)
    assert_close(quaternion_to_log(q.to(dtype)), expected, 10 * tol)
    # and it is half the rotation vector
    assert_close(quaternion_to_log(q.to(dtype)), from_numpy(to_scipy(q).as_rotvec()) / 2, 10 * tol)


# --------------------------------------------------------------------------------------------------------
# Cross-checks against kornia.


def test_matches_kornia_conversions(random_quaternions):
    q = canonicalize_quaternion(random_quaternions(300))
    matrix = quaternion_to_matrix(q)
    rotvec = matrix_to_axis_angle(matrix)
    assert_close(matrix, kc.quaternion_to_rotation_matrix(q), 1e-14)
    assert_close(matrix_to_quaternion(matrix), canonicalize_quaternion(kc.rotation_matrix_to_quaternion(matrix)), 1e-14)
    assert_close(axis_angle_to_matrix(rotvec), kc.axis_angle_to_rotation_matrix(rotvec), 1e-14)
    assert_close(rotvec, kc.rotation_matrix_to_axis_angle(matrix), 1e-13)
    assert_close(axis_angle_to_quaternion(rotvec), kc.axis_angle_to_quaternion(rotvec), 1e-14)
    assert_close(quaternion_to_axis_angle(q), kc.quaternion_to_axis_angle(q), 1e-13)
    assert_close(quaternion_to_log(q), kc.quaternion_exp_to_log(q), 1e-13)
    log = quaternion_to_log(q)
    assert_close(log_to_quaternion(log), canonicalize_quaternion(kc.quaternion_log_to_exp(log)), 1e-14)
    roll, pitch, yaw = kc.euler_from_quaternion(*q.unbind(-1))
    assert_close(matrix_to_euler(matrix), torch.stack((roll, pitch, yaw), dim=-1), 1e-13)
    from_euler = torch.stack(kc.quaternion_from_euler(roll, pitch, yaw), dim=-1)
    assert_close(quaternion_to_matrix(from_euler), matrix, 1e-14)


def test_matches_kornia_so3(random_rotvecs):
    rotvec = random_rotvecs(100, max_angle=math.pi - 1e-3)
    assert_close(axis_angle_to_matrix(rotvec), So3.exp(rotvec).matrix(), 1e-14)
    kornia_log = So3.from_matrix(So3.exp(rotvec).matrix()).log()
    assert_close(matrix_to_axis_angle(axis_angle_to_matrix(rotvec)), kornia_log, 1e-12)


# --------------------------------------------------------------------------------------------------------
# Round trips.


def test_round_trips(dtype, tol, random_quaternions, generator):
    q = random_quaternions(6, 30, dtype=dtype)
    canonical = canonicalize_quaternion(q)
    matrix = quaternion_to_matrix(q)
    assert_close(matrix_to_quaternion(matrix), canonical, 2 * tol)
    assert_close(axis_angle_to_matrix(matrix_to_axis_angle(matrix)), matrix, 2 * tol)
    assert_close(euler_to_matrix(matrix_to_euler(matrix)), matrix, 2 * tol)
    assert_close(log_to_quaternion(quaternion_to_log(q)), canonical, 2 * tol)
    assert_close(axis_angle_to_quaternion(quaternion_to_axis_angle(q)), canonical, 2 * tol)
    assert_close(quaternion_to_matrix(axis_angle_to_quaternion(matrix_to_axis_angle(matrix))), matrix, 2 * tol)
    euler = (torch.rand(50, 3, generator=generator, dtype=torch.float64) * 2 - 1) * torch.tensor([3.1, 1.5, 3.1])
    assert_close(matrix_to_euler(euler_to_matrix(euler.to(dtype))), euler, 20 * tol)


def test_every_returned_quaternion_is_canonical(dtype, random_quaternions, random_rotvecs):
    q = random_quaternions(500, dtype=dtype)
    assert bool((q[:, 0] < 0).any()), "the test needs quaternions on both hemispheres"
    for result in (
        canonicalize_quaternion(q),
        matrix_to_quaternion(quaternion_to_matrix(q)),
        log_to_quaternion(quaternion_to_log(q)),
        axis_angle_to_quaternion(random_rotvecs(500, dtype=dtype)),
    ):
        assert bool((result[:, 0] >= 0).all())


def test_canonicalize_keeps_rotation_and_is_idempotent(dtype, tol, random_quaternions):
    q = random_quaternions(200, dtype=dtype)
    canonical = canonicalize_quaternion(q)
    assert_close(quaternion_to_matrix(canonical), quaternion_to_matrix(q), tol)
    assert torch.equal(canonicalize_quaternion(canonical), canonical)
    assert torch.equal(canonical[q[:, 0] >= 0], q[q[:, 0] >= 0])
    assert_close(quaternion_to_log(-q), quaternion_to_log(q), tol)


def test_quaternion_algebra(dtype, tol, random_quaternions):
    q1, q2 = random_quaternions(2, 50, dtype=dtype).unbind(0)
    r1, r2 = quaternion_to_matrix(q1), quaternion_to_matrix(q2)
    assert_close(quaternion_to_matrix(quaternion_multiply(q1, q2)), r1 @ r2, 2 * tol)
    assert_close(quaternion_to_matrix(quaternion_conjugate(q1)), r1.transpose(-1, -2), tol)
    # non-unit quaternions are normalised, never used as they are
    assert_close(quaternion_to_matrix(3.7 * q1), r1, 2 * tol)
    assert_close(quaternion_to_axis_angle(0.2 * q1), quaternion_to_axis_angle(q1), 4 * tol)


def test_hat_and_vee(dtype, tol, generator):
    v, w = torch.randn(2, 40, 3, generator=generator, dtype=torch.float64).to(dtype).unbind(0)
    assert_close((hat(v) @ w[..., None])[..., 0], torch.linalg.cross(v, w), 4 * tol)
    assert torch.equal(vee(hat(v)), v)
    assert torch.equal(hat(v).transpose(-1, -2), -hat(v))


# --------------------------------------------------------------------------------------------------------
# Special cases: identity, tiny angles, exactly and nearly pi, about several axes.


@pytest.mark.parametrize("angle", SPECIAL_ANGLES)
def test_special_angles(dtype, tol, special_axes, angle):
    for axis in special_axes:
        rotvec = axis * angle
        expected = rotation_about(axis, angle, torch.float64)
        matrix = axis_angle_to_matrix(rotvec.to(dtype))
        assert_close(matrix, expected, tol)

        exact = expected.to(dtype)
        log = matrix_to_axis_angle(exact)
        assert bool(torch.isfinite(log).all())
        if angle < math.pi:
            assert_close(log, rotvec, 4 * tol)
        else:  # at exactly pi, +axis and -axis are the same rotation
            assert min((log.double() - rotvec).abs().max(), (log.double() + rotvec).abs().max()) <= 4 * tol
            assert_close(axis_angle_to_matrix(log), exact, 4 * tol)

        q = matrix_to_quaternion(exact)
        assert float(q[0]) >= 0
        assert_close(quaternion_to_matrix(q), exact, 2 * tol)

        measured = rotation_matrix_angle(exact)
        assert abs(float(measured) - angle) <= 4 * tol
        if 0 < angle < 1e-4:  # tiny angles keep their relative precision (acos of the trace would give 0)
            assert abs(float(measured) - angle) <= 1e-5 * angle


def test_identity(dtype):
    eye = torch.eye(3, dtype=dtype)
    assert torch.equal(matrix_to_axis_angle(eye), torch.zeros(3, dtype=dtype))
    assert torch.equal(matrix_to_quaternion(eye), torch.tensor([1.0, 0, 0, 0], dtype=dtype))
    assert torch.equal(matrix_to_euler(eye), torch.zeros(3, dtype=dtype))
    assert torch.equal(axis_angle_to_matrix(torch.zeros(3, dtype=dtype)), eye)
    assert torch.equal(quaternion_to_log(torch.tensor([1.0, 0, 0, 0], dtype=dtype)), torch.zeros(3, dtype=dtype))
    assert float(rotation_matrix_angle(eye)) == 0.0


@pytest.mark.parametrize("pitch", [math.pi / 2, -math.pi / 2])
def test_gimbal_lock_matrix_round_trip(dtype, tol, generator, pitch):
    """At 90-degree pitch only yaw - roll (or yaw + roll) is defined: check the matrix, not the angles."""
    n = 100
    angles = (torch.rand(n, 2, generator=generator, dtype=torch.float64) * 2 - 1) * math.pi
    euler = torch.stack((angles[:, 0], torch.full((n,), pitch, dtype=torch.float64), angles[:, 1]), dim=-1)
    matrix = euler_to_matrix(euler).to(dtype)
    recovered = matrix_to_euler(matrix)
    assert bool(torch.isfinite(recovered).all())
    assert_close(euler_to_matrix(recovered), matrix, 4 * tol)
    pitch_tolerance = 1e-3 if dtype == torch.float32 else 1e-7  # sqrt of the rounding of cos(pitch) ~ 0
    assert_close(recovered[:, 1], torch.full((n,), pitch, dtype=torch.float64), pitch_tolerance)
    assert bool((recovered[:, 0] == 0).all()), "roll is set to 0 at gimbal lock"


@pytest.mark.parametrize("offset", [1e-7, 1e-5, 1e-3])
def test_near_gimbal_lock_matrix_round_trip(dtype, tol, generator, offset):
    """Near lock the small entries of R carry rounding noise; the round trip must still reproduce R.

    The matrix goes through a quaternion first, which is where such noise comes from in practice.
    """
    n = 100
    angles = (torch.rand(n, 2, generator=generator, dtype=torch.float64) * 2 - 1) * math.pi
    euler = torch.stack((angles[:, 0], torch.full((n,), math.pi / 2 - offset, dtype=torch.float64), angles[:, 1]), -1)
    matrix = quaternion_to_matrix(matrix_to_quaternion(euler_to_matrix(euler).to(dtype)))
    assert_close(euler_to_matrix(matrix_to_euler(matrix)), matrix, 4 * tol)


# --------------------------------------------------------------------------------------------------------
# Angles between rotations, stable at 0 and pi.


@pytest.mark.parametrize("angle", [0.0, 1e-8, 1e-5, 0.5, math.pi - 1e-6, math.pi])
def test_angle_between_rotations_and_quaternions(dtype, tol, random_quaternions, special_axes, angle):
    q = random_quaternions(len(special_axes))
    delta = axis_angle_to_quaternion(special_axes * angle)
    q_rotated = quaternion_multiply(q, delta)
    r, r_rotated = quaternion_to_matrix(q), quaternion_to_matrix(q_rotated)
    expected = torch.full((len(special_axes),), angle, dtype=torch.float64)
    for measured in (
        angle_between_rotations(r.to(dtype), r_rotated.to(dtype)),
        angle_between_rotations(r_rotated.to(dtype), r.to(dtype)),
        angle_between_quaternions(q.to(dtype), q_rotated.to(dtype)),
        angle_between_quaternions(q.to(dtype), -q_rotated.to(dtype)),  # q and -q: the same rotation
    ):
        assert measured.dtype == dtype
        assert bool(torch.isfinite(measured).all())
        assert_close(measured, expected, 8 * tol)
        if dtype == torch.float64 and 0 < angle < 1e-4:
            # 2 acos(|<q1, q2>|) would return 0 or 2.1e-8 here; atan2 of the norms keeps the precision
            assert float(((measured - angle) / angle).abs().max()) < 1e-6


def test_angle_between_identical_rotations_is_zero(dtype, random_quaternions):
    q = random_quaternions(50, dtype=dtype)
    r = quaternion_to_matrix(q)
    limit = 1e-6 if dtype == torch.float32 else 1e-14
    assert float(angle_between_rotations(r, r).max()) <= limit
    assert float(angle_between_quaternions(q, q).max()) <= limit
    assert float(angle_between_quaternions(q, -q).max()) <= limit
