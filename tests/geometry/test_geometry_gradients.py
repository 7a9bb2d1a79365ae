"""Gradients: finite (no NaN/inf) at angle 0, near 0 and near pi; exact (d log(exp(w))/dw = I, also at 0);
``torch.autograd.gradcheck`` in float64 for exp/log, projection and warping (pose through se3_exp, depth)."""

from __future__ import annotations

import math

import pytest
import torch
from torch.autograd import gradcheck
from torch.autograd.functional import jacobian

from posekit.geometry import (
    PinholeIntrinsics,
    angle_between_quaternions,
    angle_between_rotations,
    axis_angle_to_quaternion,
    log_to_quaternion,
    matrix_to_euler,
    matrix_to_quaternion,
    project_points,
    project_target_to_source,
    quaternion_to_axis_angle,
    quaternion_to_log,
    quaternion_to_matrix,
    rotation_matrix_angle,
    se3_exp,
    se3_log,
    so3_exp,
    so3_log,
    warp_source_to_target,
)

EDGE_ANGLES = [0.0, 1e-12, 1e-9, 1e-6, 1e-3, math.pi - 1e-3, math.pi - 1e-6, math.pi]
# gradcheck needs the function smooth within its step (1e-6) of each point: away from the switches of the
# series expansions (angle 1e-4 and 0.1) and from pi, where the logarithm's branch changes.
GRADCHECK_ANGLES = [0.0, 3e-3, 0.05, 0.7, 2.0, 3.0]


def assert_finite_gradients(function, *inputs: torch.Tensor) -> None:
    """Backpropagate a random weighting of ``function(*inputs)``'s outputs; every input gradient is finite."""
    leaves = [x.detach().clone().requires_grad_(True) for x in inputs]
    outputs = function(*leaves)
    outputs = outputs if isinstance(outputs, tuple) else (outputs,)
    generator = torch.Generator().manual_seed(0)
    loss = sum((out * torch.randn(out.shape, generator=generator, dtype=out.dtype)).sum() for out in outputs)
    grads = torch.autograd.grad(loss, leaves, allow_unused=False)
    for grad in grads:
        assert bool(torch.isfinite(grad).all()), grad


@pytest.fixture
def edge_rotvecs(special_axes) -> torch.Tensor:
    """``(8 * 5, 3)`` float64 rotation vectors: every EDGE_ANGLE about every special axis."""
    return torch.cat([special_axes * angle for angle in EDGE_ANGLES])


@pytest.fixture
def edge_twists(edge_rotvecs) -> torch.Tensor:
    rho = torch.tensor([0.4, -0.3, 1.1], dtype=torch.float64).expand(len(edge_rotvecs), 3)
    return torch.cat((rho, edge_rotvecs), dim=-1)


# --------------------------------------------------------------------------------------------------------
# Finite gradients at the edges


def test_exp_and_log_gradients_are_finite_at_0_and_pi(dtype, edge_rotvecs, edge_twists):
    rotvecs, twists = edge_rotvecs.to(dtype), edge_twists.to(dtype)
    assert_finite_gradients(so3_exp, rotvecs)
    assert_finite_gradients(se3_exp, twists)
    assert_finite_gradients(so3_log, so3_exp(rotvecs))
    assert_finite_gradients(se3_log, se3_exp(twists))
    assert_finite_gradients(lambda w: so3_log(so3_exp(w)), rotvecs)
    assert_finite_gradients(lambda xi: se3_log(se3_exp(xi)), twists)


def test_conversion_gradients_are_finite_at_0_and_pi(dtype, edge_rotvecs):
    rotvecs = edge_rotvecs.to(dtype)
    matrices, quaternions = so3_exp(rotvecs), axis_angle_to_quaternion(rotvecs)
    assert_finite_gradients(matrix_to_quaternion, matrices)
    assert_finite_gradients(quaternion_to_matrix, quaternions)
    assert_finite_gradients(axis_angle_to_quaternion, rotvecs)
    assert_finite_gradients(quaternion_to_axis_angle, quaternions)
    assert_finite_gradients(quaternion_to_log, quaternions)
    assert_finite_gradients(log_to_quaternion, rotvecs / 2)
    assert_finite_gradients(matrix_to_euler, matrices)


def test_angle_gradients_are_finite_at_0_and_pi(dtype, edge_rotvecs, random_quaternions):
    rotvecs = edge_rotvecs.to(dtype)
    base_q = random_quaternions(len(rotvecs), dtype=dtype)
    base = quaternion_to_matrix(base_q)
    rotated = base @ so3_exp(rotvecs)
    assert_finite_gradients(rotation_matrix_angle, so3_exp(rotvecs))
    assert_finite_gradients(angle_between_rotations, base, rotated)
    assert_finite_gradients(angle_between_quaternions, base_q, matrix_to_quaternion(rotated))
    assert_finite_gradients(angle_between_quaternions, base_q, base_q)  # exactly 0
    assert_finite_gradients(angle_between_rotations, base, base)


# --------------------------------------------------------------------------------------------------------
# Exact first derivatives: log(exp(w)) = w on the principal branch, so its Jacobian is the identity


@pytest.mark.parametrize("angle", [0.0, 1e-9, 1e-4, 0.1, 1.0, math.pi - 1e-3])
def test_jacobian_of_log_exp_is_identity(special_axes, angle):
    for axis in special_axes:
        w = axis * angle
        assert torch.allclose(jacobian(lambda x: so3_log(so3_exp(x)), w), torch.eye(3, dtype=torch.float64), atol=1e-8)
        xi = torch.cat((torch.tensor([0.4, -0.3, 1.1], dtype=torch.float64), w))
        assert torch.allclose(jacobian(lambda x: se3_log(se3_exp(x)), xi), torch.eye(6, dtype=torch.float64), atol=1e-8)


def test_exp_derivative_at_identity_is_the_generator():
    """d exp(xi) / d xi at 0 is the se(3) generator: d R / d omega_k = hat(e_k), d t / d rho = I."""
    d = jacobian(se3_exp, torch.zeros(6, dtype=torch.float64))  # (4, 4, 6)
    assert torch.equal(d[:3, 3, :3], torch.eye(3, dtype=torch.float64))
    for k in range(3):
        e = torch.zeros(3, dtype=torch.float64)
        e[k] = 1
        assert torch.allclose(d[:3, :3, 3 + k], torch.linalg.cross(e.expand(3, 3), torch.eye(3, dtype=torch.float64)).T)


# --------------------------------------------------------------------------------------------------------
# gradcheck (float64)


@pytest.fixture
def gradcheck_rotvecs(special_axes) -> torch.Tensor:
    # Not the symmetric axis (1, 1, 1) at large angles: there |x| = |y| = |z| ties the branch choice of
    # Shepperd's method, whose formulas agree on rotations but not on gradcheck's off-manifold steps.
    axes = special_axes[[3, 4, 0, 1, 2, 4]]
    return torch.stack([axis * angle for axis, angle in zip(axes, GRADCHECK_ANGLES)])


def test_gradcheck_so3_exp_log(gradcheck_rotvecs):
    w = gradcheck_rotvecs.clone().requires_grad_(True)
    assert gradcheck(so3_exp, (w,))
    assert gradcheck(so3_log, (so3_exp(gradcheck_rotvecs).requires_grad_(True),))
    assert gradcheck(lambda x: so3_log(so3_exp(x)), (w,))


def test_gradcheck_se3_exp_log(gradcheck_rotvecs):
    rho = torch.tensor([[0.4, -0.3, 1.1]], dtype=torch.float64).expand(len(gradcheck_rotvecs), 3)
    xi = torch.cat((rho, gradcheck_rotvecs), dim=-1).requires_grad_(True)
    assert gradcheck(se3_exp, (xi,))
    assert gradcheck(se3_log, (se3_exp(xi.detach()).requires_grad_(True),))


def test_gradcheck_angles(gradcheck_rotvecs, random_quaternions):
    rotvecs = gradcheck_rotvecs[1:]  # the angle is |.|-like (not differentiable) at exactly 0
    matrices = so3_exp(rotvecs).requires_grad_(True)
    assert gradcheck(rotation_matrix_angle, (matrices,))
    base = random_quaternions(len(rotvecs))
    other = matrix_to_quaternion(quaternion_to_matrix(base) @ so3_exp(rotvecs))
    assert gradcheck(angle_between_quaternions, (base.requires_grad_(True), other.requires_grad_(True)))
    matrices = (quaternion_to_matrix(base).detach(), quaternion_to_matrix(other).detach())
    assert gradcheck(angle_between_rotations, tuple(m.requires_grad_(True) for m in matrices))


def test_gradcheck_project_points(generator):
    shift = torch.tensor([-0.5, -0.5, 1.0], dtype=torch.float64).reshape(1, 3, 1, 1)
    points = torch.rand(2, 3, 4, 5, generator=generator, dtype=torch.float64) + shift
    intrinsics = torch.tensor([[500.0, 480.0, 320.0, 240.0], [300.0, 310.0, 160.0, 120.0]], dtype=torch.float64)
    inputs = (points.requires_grad_(True), intrinsics.requires_grad_(True))
    assert gradcheck(lambda p, k: project_points(p, k)[0], inputs)


# A small, smooth scene for the warp: sampling positions off the integer grid and well inside the frame.
WARP_H, WARP_W = 12, 16
WARP_CAMERA = PinholeIntrinsics(14.0, 13.0, 7.3, 5.6, WARP_W, WARP_H)


def warp_scene(generator) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Smooth 2-image batch (sums of sinusoids), depth 1.8..2.4 m, small motions (t, omega)."""
    v, u = torch.meshgrid(
        torch.arange(WARP_H, dtype=torch.float64), torch.arange(WARP_W, dtype=torch.float64), indexing="ij"
    )
    first = 0.5 + 0.3 * torch.sin(0.5 * u + 0.3 * v)
    second = 0.5 + 0.2 * torch.cos(0.4 * u - 0.6 * v + 1.0) + 0.1 * torch.sin(0.9 * v)
    image = torch.stack((first, second))[:, None]
    depth = 1.8 + 0.6 * torch.rand(2, 1, WARP_H, WARP_W, generator=generator, dtype=torch.float64)
    xi = torch.tensor(
        [[0.013, -0.021, 0.034, 0.004, -0.007, 0.011], [-0.017, 0.009, -0.026, -0.006, 0.005, -0.008]],
        dtype=torch.float64,
    )
    return image, depth, xi


def test_gradcheck_warp_wrt_pose_and_depth(generator):
    image, depth, xi = warp_scene(generator)
    inside = warp_source_to_target(image, depth, se3_exp(xi), WARP_CAMERA).valid
    assert 0.6 < inside.double().mean() < 1.0  # some pixels leave the frame; they must contribute nothing

    def warp(pose_vector: torch.Tensor, target_depth: torch.Tensor) -> torch.Tensor:
        return warp_source_to_target(image, target_depth, se3_exp(pose_vector), WARP_CAMERA).warped

    assert gradcheck(warp, (xi.requires_grad_(True), depth.requires_grad_(True)), fast_mode=True)


def test_gradcheck_warp_slow_mode_on_a_crop(generator):
    """The full Jacobian, element by element, on a 6x8 crop of the scene (fast mode checks projections)."""
    image, depth, xi = warp_scene(generator)
    camera = WARP_CAMERA.cropped(4, 3, 8, 6)
    image, depth = image[:1, :, 3:9, 4:12].contiguous(), depth[:1, :, 3:9, 4:12].contiguous()
    xi = (xi[:1] * 4).requires_grad_(True)

    def warp(pose_vector: torch.Tensor, target_depth: torch.Tensor) -> torch.Tensor:
        return warp_source_to_target(image, target_depth, se3_exp(pose_vector), camera).warped

    assert 0.5 < warp_source_to_target(image, depth, se3_exp(xi), camera).valid.double().mean() < 1.0
    assert gradcheck(warp, (xi, depth.requires_grad_(True)))


def test_gradcheck_projection_outputs_wrt_pose_depth_and_intrinsics(generator):
    """The source pixels, the source depth and the sampling grid, each differentiable on its own."""
    _, depth, xi = warp_scene(generator)
    intrinsics = WARP_CAMERA.as_tensor(torch.float64).expand(2, 4).clone()

    def project(pose_vector, target_depth, k):
        projection = project_target_to_source(target_depth, se3_exp(pose_vector), k)
        return projection.source_pixels, projection.source_depth, projection.sampling_grid

    inputs = (xi.requires_grad_(True), depth.requires_grad_(True), intrinsics.requires_grad_(True))
    assert gradcheck(project, inputs, fast_mode=True)
    for output in range(3):  # each output alone: the backward's paths for unused outputs are skipped
        assert gradcheck(lambda *x: project(*x)[output], inputs, fast_mode=True)


def test_gradcheck_warp_with_points_behind_the_camera(generator):
    """A rotation of 100 degrees about y puts part of the scene behind the source camera."""
    image, depth, _ = warp_scene(generator)
    xi = torch.tensor([[0.0, 0.0, 0.3, 0.0, math.radians(100), 0.0]] * 2, dtype=torch.float64)
    projection = project_target_to_source(depth, se3_exp(xi), WARP_CAMERA)
    behind = projection.source_depth <= 0
    assert 0.05 < behind.double().mean() < 0.95

    def project(pose_vector, target_depth):
        projection = project_target_to_source(target_depth, se3_exp(pose_vector), WARP_CAMERA)
        return projection.source_pixels, projection.source_depth

    assert gradcheck(project, (xi.requires_grad_(True), depth.requires_grad_(True)), fast_mode=True)
