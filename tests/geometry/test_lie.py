"""SO(3)/SE(3): exp/log against the matrix exponential, scipy's logm and kornia's Se3; compose, inverse,
relative pose (T_src_tgt = inv(T_world_src) @ T_world_tgt maps target points into the source frame)."""

from __future__ import annotations

import math

import numpy as np
import pytest
import scipy.linalg
import torch
from kornia.geometry.liegroup import Se3

from posekit.geometry import (
    hat,
    make_pose,
    matrix_to_quaternion_translation,
    matrix_to_translation_axis_angle,
    quaternion_to_matrix,
    quaternion_translation_to_matrix,
    relative_pose,
    rotation_matrix_angle,
    se3_compose,
    se3_exp,
    se3_inverse,
    se3_log,
    so3_exp,
    so3_log,
    split_pose,
    transform_points,
    translation_axis_angle_to_matrix,
)

SE3_ANGLES = [0.0, 1e-9, 1e-4, 0.1, 1.0, math.pi - 1e-3, math.pi]


def assert_close(actual: torch.Tensor, expected: torch.Tensor, atol: float) -> None:
    assert actual.shape == expected.shape, (actual.shape, expected.shape)
    err = (actual.double() - expected.double()).abs().max().item()
    assert err <= atol, f"max abs error {err:.3g} > {atol:.3g}"


def twist_matrix(xi: torch.Tensor) -> torch.Tensor:
    """The 4x4 se(3) matrix [[hat(omega), rho], [0, 0]] of (..., 6) twists (rho, omega)."""
    top = torch.cat((hat(xi[..., 3:]), xi[..., :3, None]), dim=-1)
    return torch.cat((top, torch.zeros(xi.shape[:-1] + (1, 4), dtype=xi.dtype)), dim=-2)


@pytest.fixture
def special_twists(special_axes) -> torch.Tensor:
    """``(7 * 5, 6)`` float64 twists: every angle of SE3_ANGLES about every special axis, varied translations."""
    rows = []
    for i, angle in enumerate(SE3_ANGLES):
        for j, axis in enumerate(special_axes):
            rho = torch.tensor([0.3 - 0.1 * i, -0.5 + 0.2 * j, 1.2], dtype=torch.float64)
            rows.append(torch.cat((rho, axis * angle)))
    return torch.stack(rows)


@pytest.fixture
def random_poses(random_quaternions, generator):
    """``random_poses(*shape)``: float64 rigid transforms with random rotations and translations in [-2, 2]^3."""

    def draw(*shape: int) -> torch.Tensor:
        translation = (torch.rand(*shape, 3, generator=generator, dtype=torch.float64) * 4 - 2)
        return make_pose(quaternion_to_matrix(random_quaternions(*shape)), translation)

    return draw


# --------------------------------------------------------------------------------------------------------
# exp and log


def test_se3_exp_matches_matrix_exponential(dtype, special_twists):
    pose = se3_exp(special_twists.to(dtype))
    assert pose.dtype == dtype and pose.shape == (len(special_twists), 4, 4)
    expected = torch.linalg.matrix_exp(twist_matrix(special_twists))
    assert_close(pose, expected, 4e-6 if dtype == torch.float32 else 1e-14)
    assert torch.equal(pose[:, 3], torch.tensor([0.0, 0, 0, 1], dtype=dtype).expand(len(pose), 4))


def test_se3_exp_matches_kornia(special_twists):
    expected = Se3.exp(special_twists).matrix()
    assert_close(se3_exp(special_twists), expected, 1e-14)


def test_se3_log_inverts_exp(dtype, special_twists):
    tolerance = 4e-6 if dtype == torch.float32 else 1e-12
    pose = se3_exp(special_twists.to(dtype))
    xi = se3_log(pose)
    assert xi.dtype == dtype and bool(torch.isfinite(xi).all())
    below_pi = special_twists[:, 3:].norm(dim=-1) < math.pi - 1e-6
    assert_close(xi[below_pi], special_twists[below_pi], tolerance)
    # at exactly pi the rotation vector is defined up to sign: exp(log(T)) must still be T, angle pi
    assert_close(se3_exp(xi[~below_pi]), pose[~below_pi], tolerance)
    at_pi = torch.full((int((~below_pi).sum()),), math.pi, dtype=torch.float64)
    assert_close(xi[~below_pi, 3:].norm(dim=-1), at_pi, tolerance)


def test_se3_log_matches_scipy_logm_and_kornia(random_poses):
    pose = random_poses(40)
    angles = rotation_matrix_angle(pose[:, :3, :3])
    assert float(angles.max()) < math.pi - 1e-3  # logm's principal branch is unique there
    xi = se3_log(pose)
    for i in range(len(pose)):
        log = torch.from_numpy(np.real(scipy.linalg.logm(pose[i].numpy())))
        expected = torch.cat((log[:3, 3], torch.stack((log[2, 1], log[0, 2], log[1, 0]))))
        assert_close(xi[i], expected, 1e-10)
    assert_close(xi, Se3.from_matrix(pose).log(), 1e-12)


def test_so3_exp_and_log_are_the_rotation_part(dtype, special_twists):
    pose = se3_exp(special_twists.to(dtype))
    assert torch.equal(so3_exp(special_twists[:, 3:].to(dtype)), pose[:, :3, :3])
    assert torch.equal(so3_log(pose[:, :3, :3]), se3_log(pose)[:, 3:])


def test_exp_of_zero_is_exactly_identity(dtype):
    assert torch.equal(se3_exp(torch.zeros(3, 6, dtype=dtype)), torch.eye(4, dtype=dtype).expand(3, 4, 4))
    assert torch.equal(se3_log(torch.eye(4, dtype=dtype)), torch.zeros(6, dtype=dtype))


def test_pure_translation_twist_is_the_translation(dtype):
    xi = torch.tensor([0.5, -1.0, 2.0, 0.0, 0.0, 0.0], dtype=dtype)
    assert torch.equal(se3_exp(xi)[:3, 3], xi[:3])
    assert torch.equal(se3_log(se3_exp(xi)), xi)


# --------------------------------------------------------------------------------------------------------
# compose, inverse, relative pose, points


def test_compose_and_inverse(dtype, random_poses, generator):
    tolerance = 1e-5 if dtype == torch.float32 else 1e-13
    a, b = random_poses(2, 10).to(dtype).unbind(0)
    points = torch.randn(10, 7, 3, generator=generator, dtype=torch.float64).to(dtype)
    assert torch.equal(se3_compose(a, b), a @ b)
    in_a = transform_points(a, transform_points(b, points))
    assert_close(transform_points(se3_compose(a, b), points), in_a, tolerance)
    assert_close(se3_inverse(a), torch.linalg.inv(a.double()), tolerance)
    assert_close(se3_compose(se3_inverse(a), a), torch.eye(4).expand(10, 4, 4), tolerance)
    assert_close(transform_points(se3_inverse(a), transform_points(a, points)), points, tolerance)


def test_relative_pose_maps_target_points_into_source_frame(dtype, random_poses, generator):
    """T_src_tgt = inv(T_world_src) @ T_world_tgt: a world point seen in the target frame, moved by T_src_tgt,
    is where the source camera sees it."""
    tolerance = 1e-5 if dtype == torch.float32 else 1e-13
    T_world_src, T_world_tgt = random_poses(2, 6).unbind(0)
    points_world = torch.randn(6, 20, 3, generator=generator, dtype=torch.float64)
    points_src = transform_points(se3_inverse(T_world_src), points_world)
    points_tgt = transform_points(se3_inverse(T_world_tgt), points_world)
    T_src_tgt = relative_pose(T_world_src.to(dtype), T_world_tgt.to(dtype))
    assert_close(T_src_tgt, torch.linalg.inv(T_world_src) @ T_world_tgt, tolerance)
    assert_close(transform_points(T_src_tgt, points_tgt.to(dtype)), points_src, tolerance)


def test_transform_points_broadcasts_a_single_pose(dtype, random_poses, generator):
    pose = random_poses(1)[0].to(dtype)
    points = torch.randn(4, 9, 3, generator=generator, dtype=torch.float64).to(dtype)
    rotation, translation = split_pose(pose)
    expected = (rotation @ points[..., None])[..., 0] + translation
    assert_close(transform_points(pose, points), expected, 1e-5 if dtype == torch.float32 else 1e-14)


def test_make_and_split_pose_round_trip(dtype, random_poses):
    pose = random_poses(3, 2).to(dtype)
    rotation, translation = split_pose(pose)
    assert torch.equal(make_pose(rotation, translation), pose)
    # one rotation broadcast against a batch of translations
    assert make_pose(rotation[0, 0], translation).shape == (3, 2, 4, 4)


def test_translation_axis_angle_reads_translation_directly(dtype, random_rotvecs, generator):
    tolerance = 4e-6 if dtype == torch.float32 else 1e-13
    omega = random_rotvecs(20, max_angle=math.pi - 1e-3, dtype=dtype)
    t = torch.randn(20, 3, generator=generator, dtype=torch.float64).to(dtype)
    vector = torch.cat((t, omega), dim=-1)
    pose = translation_axis_angle_to_matrix(vector)
    assert torch.equal(pose[:, :3, 3], t)
    assert torch.equal(pose[:, :3, :3], so3_exp(omega))
    assert_close(matrix_to_translation_axis_angle(pose), vector, tolerance)
    # not the SE(3) exponential: there t goes through the left Jacobian
    assert float((se3_exp(vector)[:, :3, 3] - t).abs().max()) > 0.1


def test_quaternion_translation_round_trip(dtype, random_quaternions, generator):
    q = random_quaternions(15, dtype=dtype)
    t = torch.randn(15, 3, generator=generator, dtype=torch.float64).to(dtype)
    pose = quaternion_translation_to_matrix(q, t)
    q2, t2 = matrix_to_quaternion_translation(pose)
    assert torch.equal(t2, t)
    assert_close(q2, q * torch.where(q[:, :1] < 0, -1.0, 1.0).to(dtype), 4e-6 if dtype == torch.float32 else 1e-14)
