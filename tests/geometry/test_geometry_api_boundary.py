"""The geometry API boundary (issue 11): batch mismatches, mixed dtypes, integer inputs, zero-size batches,
NaN / reflections / scaled matrices, channels-last images: a typed posekit error naming the argument, or the
right answer, never a raw torch error. And (issue 10) every quaternion-producing function is canonical,
except ``quaternion_raw_multiply``, which says so."""

from __future__ import annotations

import math

import pytest
import torch

from posekit.errors import RotationError, ShapeError
from posekit.geometry import (
    PinholeIntrinsics,
    angle_between_quaternions,
    angle_between_rotations,
    axis_angle_to_matrix,
    axis_angle_to_quaternion,
    canonicalize_quaternion,
    log_to_quaternion,
    make_pose,
    matrix_to_axis_angle,
    matrix_to_euler,
    matrix_to_quaternion,
    quaternion_multiply,
    quaternion_raw_multiply,
    quaternion_to_matrix,
    relative_pose,
    rotation_matrix_angle,
    se3_compose,
    se3_exp,
    se3_inverse,
    se3_log,
    transform_points,
    warp_source_to_target,
)

ROTATION = axis_angle_to_matrix(torch.tensor([0.3, -0.2, 0.5], dtype=torch.float64))
POSE = make_pose(ROTATION, torch.tensor([1.0, 2.0, 3.0], dtype=torch.float64))
REFLECTION = ROTATION * torch.tensor([1.0, 1.0, -1.0], dtype=torch.float64)
SCALED = 1.1 * ROTATION
NAN = ROTATION.clone()
NAN[1, 1] = float("nan")

MATRIX_FUNCTIONS = [matrix_to_quaternion, matrix_to_axis_angle, matrix_to_euler, rotation_matrix_angle]
POSE_FUNCTIONS = [se3_inverse, se3_log]


@pytest.mark.parametrize("function", MATRIX_FUNCTIONS, ids=lambda f: f.__name__)
@pytest.mark.parametrize(("bad", "message"), [(REFLECTION, "det = -1"), (SCALED, "not a rotation"), (NAN, "non-finite")],
                         ids=["reflection", "scaled", "nan"])
def test_rotation_conversions_refuse_non_rotations(function, bad, message):
    with pytest.raises(RotationError, match=message):
        function(torch.stack((ROTATION, bad)))
    with pytest.raises(RotationError, match=r"at index \(1,\)"):
        function(torch.stack((ROTATION, bad)))


@pytest.mark.parametrize("function", POSE_FUNCTIONS, ids=lambda f: f.__name__)
def test_se3_functions_refuse_non_rigid_transforms(function):
    for rotation in (REFLECTION, SCALED, NAN):
        bad = POSE.clone()
        bad[:3, :3] = rotation
        with pytest.raises(RotationError, match="pose"):
            function(bad)
    bad = POSE.clone()
    bad[3, 0] = 0.5
    with pytest.raises(RotationError, match="last row must be 0 0 0 1"):
        function(bad)


def test_se3_inverse_is_an_inverse_whenever_it_answers():
    inverse = se3_inverse(POSE)
    torch.testing.assert_close(inverse @ POSE, torch.eye(4, dtype=torch.float64))
    # rounded rotations (as stored in trajectory files) are inverted as the transpose, as before
    rounded = torch.round(POSE * 1e4) / 1e4
    torch.testing.assert_close(se3_inverse(rounded) @ rounded, torch.eye(4, dtype=torch.float64), atol=1e-3, rtol=0)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: se3_compose(torch.eye(4).repeat(2, 1, 1), torch.eye(4).repeat(3, 1, 1)), r"batch shapes \(2,\) and \(3,\)"),
        (lambda: quaternion_multiply(torch.ones(2, 4), torch.ones(3, 4)), "do not broadcast"),
        (lambda: angle_between_rotations(torch.eye(3).repeat(2, 1, 1), torch.eye(3).repeat(5, 1, 1)), "do not broadcast"),
        (lambda: transform_points(torch.eye(4).repeat(2, 1, 1), torch.zeros(3, 5, 3)), "do not broadcast"),
        (lambda: relative_pose(torch.eye(4).repeat(2, 1, 1), torch.eye(4).repeat(4, 1, 1)), "do not broadcast"),
        (lambda: se3_compose(torch.eye(4), torch.eye(4, dtype=torch.float64)), "dtypes differ"),
        (lambda: transform_points(torch.eye(4, dtype=torch.float64), torch.zeros(5, 3)), "dtypes differ"),
        (lambda: quaternion_to_matrix(torch.tensor([1, 0, 0, 0])), "floating-point"),
        (lambda: axis_angle_to_matrix(torch.zeros(3, dtype=torch.int64)), "floating-point"),
        (lambda: se3_exp(torch.zeros(6, dtype=torch.int32)), "floating-point"),
        (lambda: se3_inverse(torch.eye(4, dtype=torch.int64)), "floating-point"),
        (lambda: matrix_to_quaternion([[1.0, 0, 0], [0, 1, 0], [0, 0, 1]]), "torch.Tensor"),
        (lambda: make_pose(torch.eye(3).repeat(2, 1, 1), torch.zeros(3, 3)), "do not broadcast"),
    ],
)
def test_api_misuse_is_a_shape_error(call, message):
    with pytest.raises(ShapeError, match=message):
        call()


def test_zero_size_batches_give_empty_results():
    empty3, empty4 = torch.zeros(0, 3, 3), torch.zeros(0, 4, 4)
    assert matrix_to_quaternion(empty3).shape == (0, 4)
    assert se3_inverse(empty4).shape == (0, 4, 4) and se3_log(empty4).shape == (0, 6)
    assert quaternion_multiply(torch.zeros(0, 4), torch.zeros(0, 4)).shape == (0, 4)
    assert rotation_matrix_angle(empty3).shape == (0,)
    assert transform_points(empty4, torch.zeros(0, 5, 3)).shape == (0, 5, 3)
    k = PinholeIntrinsics(10.0, 10.0, 3.5, 2.5, 8, 6)
    out = warp_source_to_target(torch.zeros(0, 3, 6, 8), torch.ones(0, 1, 6, 8), torch.eye(4), k)
    assert out.warped.shape == (0, 3, 6, 8)


def test_channels_last_images_are_detected():
    k = PinholeIntrinsics(10.0, 10.0, 15.5, 11.5, 32, 24)
    depth = torch.ones(2, 1, 24, 32)
    with pytest.raises(ShapeError, match=r"looks channels-last .*permute\(0, 3, 1, 2\)"):
        warp_source_to_target(torch.rand(2, 24, 32, 3), depth, torch.eye(4), k)
    with pytest.raises(ShapeError, match="floating-point"):
        warp_source_to_target(torch.zeros(2, 3, 24, 32, dtype=torch.uint8), depth, torch.eye(4), k)
    assert warp_source_to_target(torch.rand(2, 3, 24, 32), depth, torch.eye(4), k).warped.shape == (2, 3, 24, 32)


@pytest.mark.parametrize(
    "args",
    [
        (float("inf"), 10.0, 1.0, 1.0, 8, 6),
        (10.0, float("nan"), 1.0, 1.0, 8, 6),
        (10.0, 10.0, float("inf"), 1.0, 8, 6),
        (10.0, 10.0, 1.0, 1.0, 8.5, 6),
        (10.0, 10.0, 1.0, 1.0, 8, float("inf")),
        (10.0, 10.0, 1.0, 1.0, True, 6),
        (10.0, 10.0, 1.0, 1.0, 0, 6),
        (0.0, 10.0, 1.0, 1.0, 8, 6),
    ],
)
def test_pinhole_intrinsics_refuse_non_finite_and_fractional_values(args):
    with pytest.raises(ShapeError, match="intrinsics"):
        PinholeIntrinsics(*args)


def test_integral_float_sizes_become_ints():
    k = PinholeIntrinsics(10.0, 10.0, 1.0, 1.0, 8.0, 6)
    assert (k.width, k.height) == (8, 6) and isinstance(k.width, int)


# ---------------------------------------------------------------------------------------------- quaternions


def test_quaternion_multiply_is_canonical_and_raw_multiply_is_not():
    q = torch.tensor([0.0, 1.0, 0.0, 0.0], dtype=torch.float64)  # 180 deg about x
    raw = quaternion_raw_multiply(q, q)  # 360 deg: (-1, 0, 0, 0)
    torch.testing.assert_close(raw, torch.tensor([-1.0, 0.0, 0.0, 0.0], dtype=torch.float64))
    torch.testing.assert_close(quaternion_multiply(q, q), torch.tensor([1.0, 0.0, 0.0, 0.0], dtype=torch.float64))
    generator = torch.Generator().manual_seed(0)
    q1, q2 = torch.randn(2, 200, 4, generator=generator, dtype=torch.float64)
    q1, q2 = q1 / q1.norm(dim=-1, keepdim=True), q2 / q2.norm(dim=-1, keepdim=True)
    product = quaternion_multiply(q1, q2)
    assert bool((product[:, 0] >= 0).all()) and bool((quaternion_raw_multiply(q1, q2)[:, 0] < 0).any())
    torch.testing.assert_close(product, canonicalize_quaternion(quaternion_raw_multiply(q1, q2)))
    torch.testing.assert_close(quaternion_to_matrix(product), quaternion_to_matrix(q1) @ quaternion_to_matrix(q2))


@pytest.mark.parametrize("angle", [0.5, math.pi - 1e-9, 1.5 * math.pi, 2 * math.pi - 0.1, 3.5 * math.pi])
def test_axis_angle_to_quaternion_is_canonical_beyond_pi(angle):
    axis = torch.tensor([0.6, -0.8, 0.0], dtype=torch.float64)
    q = axis_angle_to_quaternion(axis * angle)
    assert float(q[0]) >= 0.0
    torch.testing.assert_close(quaternion_to_matrix(q), axis_angle_to_matrix(axis * angle))
    assert float(log_to_quaternion(axis * angle / 2)[0]) >= 0.0


def test_angle_between_quaternions_checks_batches():
    q = torch.tensor([[1.0, 0.0, 0.0, 0.0]], dtype=torch.float64)
    assert float(angle_between_quaternions(q, -q)) == 0.0
    with pytest.raises(ShapeError, match="dtypes differ"):
        angle_between_quaternions(q, q.float())
