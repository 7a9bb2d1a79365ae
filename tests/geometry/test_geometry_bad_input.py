"""Bad input: wrong shapes and dtypes raise ShapeError (a ValueError) naming the expected and the actual shape;
zero or non-finite quaternions raise RotationError; improper or non-orthonormal rotation matrices raise."""

from __future__ import annotations

import math

import pytest
import torch

from posekit.errors import PosekitError, RotationError, ShapeError
from posekit.geometry import (
    PinholeIntrinsics,
    angle_between_quaternions,
    axis_angle_to_matrix,
    backproject_depth,
    check_rotation_matrix,
    euler_to_matrix,
    matrix_to_quaternion,
    normalize_quaternion,
    project_points,
    project_target_to_source,
    quaternion_to_axis_angle,
    quaternion_to_matrix,
    se3_exp,
    se3_log,
    so3_exp,
    transform_points,
    warp_source_to_target,
)

CAMERA = PinholeIntrinsics(10.0, 10.0, 3.5, 2.5, 8, 6)


def test_shape_error_is_a_value_error_and_a_posekit_error():
    assert issubclass(ShapeError, ValueError) and issubclass(ShapeError, PosekitError)
    assert issubclass(RotationError, ValueError) and issubclass(RotationError, PosekitError)


@pytest.mark.parametrize(
    ("function", "bad", "expected"),
    [
        pytest.param(quaternion_to_matrix, torch.zeros(5, 3), r"\(\.\.\., 4\).*\(5, 3\)", id="quaternion_to_matrix"),
        pytest.param(
            matrix_to_quaternion, torch.zeros(2, 3, 4), r"\(\.\.\., 3, 3\).*\(2, 3, 4\)", id="matrix_to_quaternion"
        ),
        pytest.param(axis_angle_to_matrix, torch.zeros(7, 4), r"\(\.\.\., 3\).*\(7, 4\)", id="axis_angle_to_matrix"),
        pytest.param(euler_to_matrix, torch.zeros(2), r"\(\.\.\., 3\).*\(2,\)", id="euler_to_matrix"),
        pytest.param(se3_exp, torch.zeros(4, 3), r"\(\.\.\., 6\).*\(4, 3\)", id="se3_exp"),
        pytest.param(se3_log, torch.zeros(3, 3), r"\(\.\.\., 4, 4\).*\(3, 3\)", id="se3_log"),
        pytest.param(so3_exp, torch.zeros(3, 2), r"\(\.\.\., 3\).*\(3, 2\)", id="so3_exp"),
    ],
)
def test_wrong_shapes_name_expected_and_actual(function, bad, expected):
    with pytest.raises(ShapeError, match=expected):
        function(bad)
    with pytest.raises(ValueError):
        function(bad)


def test_non_tensor_input_is_a_shape_error():
    with pytest.raises(ShapeError, match="torch.Tensor"):
        quaternion_to_matrix([1.0, 0.0, 0.0, 0.0])


def test_transform_points_checks_the_points():
    with pytest.raises(ShapeError, match=r"\(5, 2\)"):
        transform_points(torch.eye(4), torch.zeros(5, 2))
    with pytest.raises(ShapeError, match=r"\(\.\.\., 4, 4\).*\(3, 4\)"):
        transform_points(torch.eye(4)[:3], torch.zeros(5, 3))


@pytest.mark.parametrize(
    "bad",
    [torch.zeros(4), torch.zeros(3, 4), torch.tensor([math.nan, 0, 0, 1.0]), torch.tensor([math.inf, 0, 0, 0.0])],
    ids=["zero", "zero-batch", "nan", "inf"],
)
def test_zero_or_non_finite_quaternions_raise(bad):
    for function in (normalize_quaternion, quaternion_to_matrix, quaternion_to_axis_angle):
        with pytest.raises(RotationError):
            function(bad)
    with pytest.raises(RotationError):
        angle_between_quaternions(bad, torch.tensor([1.0, 0.0, 0.0, 0.0]).expand_as(bad))


def test_check_rotation_matrix_accepts_rotations(random_quaternions):
    check_rotation_matrix(quaternion_to_matrix(random_quaternions(4, 10)))
    check_rotation_matrix(quaternion_to_matrix(random_quaternions(10, dtype=torch.float32)))


def test_check_rotation_matrix_rejects_reflections(random_quaternions):
    flip_z = torch.diag(torch.tensor([1.0, 1.0, -1.0], dtype=torch.float64))
    reflection = quaternion_to_matrix(random_quaternions(5)) @ flip_z
    with pytest.raises(RotationError, match="proper"):
        check_rotation_matrix(reflection)
    with pytest.raises(RotationError):
        check_rotation_matrix(-torch.eye(3))


def test_check_rotation_matrix_rejects_non_orthonormal(random_quaternions):
    rotation = quaternion_to_matrix(random_quaternions(5))
    with pytest.raises(RotationError, match="orthonormal"):
        check_rotation_matrix(1.01 * rotation)
    sheared = rotation.clone()
    sheared[2, 0, 1] += 1e-2
    with pytest.raises(RotationError, match="orthonormal"):
        check_rotation_matrix(sheared)
    with pytest.raises(RotationError):
        check_rotation_matrix(torch.full((3, 3), math.nan))
    with pytest.raises(ShapeError, match=r"\(3, 4\)"):
        check_rotation_matrix(torch.zeros(3, 4))


def test_camera_functions_check_shapes_and_dtypes():
    with pytest.raises(ShapeError, match=r"\(\*, 1, \*, \*\).*\(2, 6, 8\)"):
        backproject_depth(torch.ones(2, 6, 8), CAMERA)
    with pytest.raises(ShapeError, match="dtype"):
        backproject_depth(torch.ones(2, 1, 6, 8, dtype=torch.int64), CAMERA)
    with pytest.raises(ShapeError, match=r"\(B, 3, \.\.\.\).*\(2, 2, 5\)"):
        project_points(torch.ones(2, 2, 5), CAMERA)
    with pytest.raises(ShapeError, match=r"\(2, 4\).*\(3, 4\)"):
        project_points(torch.ones(2, 3, 5), torch.ones(3, 4))
    with pytest.raises(ShapeError, match=r"\(2, 4\).*\(5,\)"):
        backproject_depth(torch.ones(2, 1, 6, 8), torch.ones(5))


def test_warp_checks_shapes_and_dtypes():
    image, depth, pose = torch.rand(2, 3, 6, 8), torch.ones(2, 1, 6, 8), torch.eye(4)
    warp_source_to_target(image, depth, pose, CAMERA)  # the good call works
    with pytest.raises(ShapeError, match=r"\(\*, 1, \*, \*\).*\(2, 3, 6, 8\)"):
        warp_source_to_target(image, torch.ones(2, 3, 6, 8), pose, CAMERA)
    with pytest.raises(ShapeError, match=r"\(2, \*, \*, \*\).*\(3, 3, 6, 8\)"):
        warp_source_to_target(torch.rand(3, 3, 6, 8), depth, pose, CAMERA)
    with pytest.raises(ShapeError, match=r"\(2, 4, 4\).*\(2, 3, 4\)"):
        warp_source_to_target(image, depth, torch.eye(4)[:3].expand(2, 3, 4), CAMERA)
    with pytest.raises(ShapeError, match=r"\(2, 4, 4\).*\(3, 4, 4\)"):
        warp_source_to_target(image, depth, torch.eye(4).expand(3, 4, 4), CAMERA)
    with pytest.raises(ShapeError, match=r"\(2, 4\).*\(3,\)"):
        warp_source_to_target(image, depth, pose, torch.ones(3))
    with pytest.raises(ShapeError, match="dtype"):
        warp_source_to_target(image, depth.long(), pose, CAMERA)
    with pytest.raises(ShapeError, match="dtype"):
        warp_source_to_target((image * 255).to(torch.uint8), depth, pose, CAMERA)
    with pytest.raises(ShapeError, match="torch.Tensor"):
        project_target_to_source(depth, [[1.0, 0, 0, 0]] * 4, CAMERA)
