"""Depth-and-pose warping: identity, analytic flow, masks (depth holes, behind the camera, outside the source
frame), no NaN anywhere, no loss floor for a perfect warp, agreement with kornia's warp_frame_depth."""

from __future__ import annotations

import math

import pytest
import torch
from kornia.geometry.depth import warp_frame_depth

from posekit.geometry import (
    PinholeIntrinsics,
    homogeneous_pixel_grid,
    make_pose,
    project_target_to_source,
    sample_at_pixels,
    se3_exp,
    so3_exp,
    warp_source_to_target,
)

H, W = 24, 32
CAMERA = PinholeIntrinsics(30.0, 28.0, 15.2, 11.7, W, H)


def pixel_grid(h: int, w: int, dtype: torch.dtype) -> tuple[torch.Tensor, torch.Tensor]:
    """``(u, v)``, each ``(h, w)``."""
    grid = homogeneous_pixel_grid(h, w, dtype, torch.device("cpu"))
    return grid[0].reshape(h, w), grid[1].reshape(h, w)


def smooth_image(b: int, c: int, h: int, w: int, dtype: torch.dtype) -> torch.Tensor:
    """``(b, c, h, w)`` sums of low-frequency sinusoids in [0, 1], different per image and channel."""
    u, v = pixel_grid(h, w, torch.float64)
    images = []
    for i in range(b):
        channels = []
        for j in range(c):
            phase = 0.7 * i + 1.3 * j
            wave = 0.25 * torch.sin(0.31 * u + 0.17 * v + phase) + 0.2 * torch.cos(0.23 * v - 0.11 * u + 2 * phase)
            channels.append(0.5 + wave)
        images.append(torch.stack(channels))
    return torch.stack(images).to(dtype)


def ramp(u: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
    """A linear image ``I(u, v)``: bilinear sampling reproduces it exactly anywhere inside the image."""
    return 0.1 + 0.02 * u + 0.015 * v


def translation_pose(t: list[list[float]], dtype: torch.dtype) -> torch.Tensor:
    translation = torch.tensor(t, dtype=dtype)
    return make_pose(torch.eye(3, dtype=dtype).expand(len(t), 3, 3), translation)


def border_distance(u: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
    """Distance in pixels from ``(u, v)`` to the nearest of the lines through the border pixel centres."""
    return torch.stack(((u - 0).abs(), (u - (W - 1)).abs(), (v - 0).abs(), (v - (H - 1)).abs())).amin(0)


def assert_all_finite(*tensors: torch.Tensor) -> None:
    for tensor in tensors:
        assert bool(torch.isfinite(tensor).all())


@pytest.fixture
def depth_field(generator):
    """``depth_field(b, dtype)``: a tilted plane 1.5..3 m away plus a little noise, ``(b, 1, H, W)``."""

    def draw(b: int, dtype: torch.dtype) -> torch.Tensor:
        u, v = pixel_grid(H, W, torch.float64)
        plane = 2.0 + 0.02 * (u - W / 2) - 0.015 * (v - H / 2)
        noise = 0.05 * torch.rand(b, 1, H, W, generator=generator, dtype=torch.float64)
        return (plane + noise).to(dtype)

    return draw


# --------------------------------------------------------------------------------------------------------
# Identity and analytic flow


def test_identity_pose_reproduces_the_image(dtype, depth_field, generator):
    image = torch.rand(2, 3, H, W, generator=generator, dtype=torch.float64).to(dtype)
    depth = depth_field(2, dtype)
    tolerance = 5e-5 if dtype == torch.float32 else 1e-12
    k = CAMERA.as_tensor(dtype)
    for pose in (torch.eye(4, dtype=dtype), torch.eye(4, dtype=dtype).expand(2, 4, 4)):
        for intrinsics in (CAMERA, k, k.expand(2, 4)):
            out = warp_source_to_target(image, depth, pose, intrinsics)
            assert out.warped.dtype == dtype and out.warped.shape == image.shape
            assert bool(out.valid.all()), "every pixel, the border included, is valid for the identity"
            assert torch.allclose(out.warped, image, atol=tolerance, rtol=0)
            assert torch.allclose(out.flow, torch.zeros_like(out.flow), atol=tolerance, rtol=0)
            assert torch.allclose(out.source_depth, depth, atol=tolerance, rtol=0)


def test_pure_translation_of_a_fronto_parallel_plane_gives_the_analytic_flow(dtype):
    """Depth Z everywhere, T_src_tgt = translation t: X_src = X_tgt + t, so
    u_src = fx (X + tx) / (Z + tz) + cx with X = (u - cx) Z / fx (and likewise for v)."""
    z = 2.0
    t = [[0.3, -0.1, 0.4], [-0.45, 0.2, -0.3]]
    depth = torch.full((2, 1, H, W), z, dtype=dtype)
    u, v = pixel_grid(H, W, torch.float64)
    image = ramp(u, v).expand(2, 1, H, W).to(dtype)
    out = warp_source_to_target(image, depth, translation_pose(t, dtype), CAMERA)

    fx, fy, cx, cy = CAMERA.fx, CAMERA.fy, CAMERA.cx, CAMERA.cy
    for i, (tx, ty, tz) in enumerate(t):
        u_src = fx * ((u - cx) * z / fx + tx) / (z + tz) + cx
        v_src = fy * ((v - cy) * z / fy + ty) / (z + tz) + cy
        tolerance = 1e-4 if dtype == torch.float32 else 1e-10
        assert torch.allclose(out.flow[i, 0].double(), u_src - u, atol=tolerance, rtol=0)
        assert torch.allclose(out.flow[i, 1].double(), v_src - v, atol=tolerance, rtol=0)
        assert torch.allclose(out.source_depth[i, 0].double(), torch.full_like(u, z + tz), atol=tolerance, rtol=0)
        inside = (u_src >= 0) & (u_src <= W - 1) & (v_src >= 0) & (v_src <= H - 1)
        clear = border_distance(u_src, v_src) > 1e-3  # away from the border, where rounding may decide either way
        assert 0.2 < inside.double().mean() < 0.95, "the motion takes part of the image out of frame"
        assert torch.equal(out.valid[i, 0][clear], inside[clear])
        valid = out.valid[i, 0]
        assert torch.allclose(out.warped[i, 0][valid].double(), ramp(u_src, v_src)[valid], atol=10 * tolerance, rtol=0)
        assert bool((out.warped[i, 0][~valid] == 0).all())


# --------------------------------------------------------------------------------------------------------
# Masks and NaN safety


@pytest.mark.parametrize("pose_kind", ["identity", "general"])
def test_depth_holes_are_invalid_and_nothing_is_nan(dtype, depth_field, pose_kind):
    """A naive warp divides by the depth's z where it is 0 and returns NaN even for the identity pose; here
    holes (0, NaN, +-inf, negative) are invalid, their output 0, and no output or gradient is NaN."""
    depth = depth_field(2, dtype)
    holes = torch.zeros_like(depth, dtype=torch.bool)
    hole_values = [0.0, math.nan, math.inf, -math.inf, -1.0]
    for value, (row, col) in zip(hole_values, [(0, 0), (5, 7), (11, 20), (23, 31), (12, 3)]):
        depth[:, :, row, col] = value
        holes[:, :, row, col] = True
    depth[1, 0, 3:9, 4:12] = 0.0  # a larger hole
    holes[1, 0, 3:9, 4:12] = True
    xi = torch.zeros(2, 6, dtype=dtype) if pose_kind == "identity" else torch.tensor(
        [[0.05, -0.03, 0.1, 0.02, -0.04, 0.03], [-0.08, 0.02, -0.05, -0.01, 0.03, -0.05]], dtype=dtype
    )
    xi.requires_grad_(True)
    depth.requires_grad_(True)
    image = smooth_image(2, 3, H, W, dtype).requires_grad_(True)

    out = warp_source_to_target(image, depth, se3_exp(xi), CAMERA)
    assert_all_finite(out.warped, out.flow, out.source_pixels, out.source_depth)
    assert not bool(out.valid[holes].any())
    assert bool((out.warped.detach()[holes.expand_as(out.warped)] == 0).all())
    if pose_kind == "identity":
        assert torch.equal(out.valid, ~holes)

    weights = torch.linspace(-1, 1, H * W, dtype=dtype).reshape(1, 1, H, W)
    loss = (out.warped * weights).sum() + (out.flow * weights).sum() + (out.source_depth * weights).sum()
    loss.backward()
    assert_all_finite(xi.grad, depth.grad, image.grad)
    assert bool((depth.grad[holes] == 0).all())
    assert float(xi.grad.abs().sum()) > 0 and float(depth.grad.abs().sum()) > 0


def test_points_behind_the_source_camera_are_masked(dtype, depth_field):
    """Rotating the source camera by 100 degrees puts part of the scene behind it."""
    depth = depth_field(1, dtype)
    rotation = so3_exp(torch.tensor([0.0, math.radians(100), 0.0], dtype=dtype))
    pose = make_pose(rotation, torch.tensor([0.0, 0, 1.0], dtype=dtype))
    out = warp_source_to_target(smooth_image(1, 1, H, W, dtype), depth, pose, CAMERA)
    behind = out.source_depth <= 0
    assert 0.05 < behind.double().mean() < 0.95
    assert not bool(out.valid[behind].any())
    assert bool((out.warped[behind] == 0).all())
    assert_all_finite(out.warped, out.flow, out.source_pixels)

    everything_behind = translation_pose([[0.0, 0.0, -5.0]], dtype)
    out = warp_source_to_target(smooth_image(1, 1, H, W, dtype), depth, everything_behind, CAMERA)
    assert not bool(out.valid.any())
    assert bool((out.warped == 0).all())
    assert_all_finite(out.flow, out.source_pixels, out.source_depth)


def test_valid_mask_matches_an_independent_projection(dtype, depth_field):
    """valid = depth known & in front of the source camera & inside the source image, computed here with the
    textbook formula (K (R z K^-1 x + t)) in float64."""
    depth = depth_field(2, torch.float64)
    depth[0, 0, ::5, ::3] = 0.0
    xi = torch.tensor([[0.6, -0.2, 0.3, 0.05, 0.4, -0.1], [-0.3, 0.5, 1.5, -0.3, 0.1, 0.2]], dtype=torch.float64)
    pose = se3_exp(xi)
    out = warp_source_to_target(smooth_image(2, 1, H, W, dtype), depth.to(dtype), pose.to(dtype), CAMERA)

    k = CAMERA.matrix()
    rays = torch.linalg.inv(k) @ homogeneous_pixel_grid(H, W, torch.float64, torch.device("cpu"))
    points = pose[:, :3, :3] @ (rays * depth.reshape(2, 1, -1)) + pose[:, :3, 3:]
    projected = k @ points
    z = projected[:, 2]
    u, v = projected[:, 0] / z, projected[:, 1] / z
    expected = (depth.reshape(2, -1) > 0) & (z > 0) & (u >= 0) & (u <= W - 1) & (v >= 0) & (v <= H - 1)
    clear = border_distance(u, v) > 1e-3  # away from the border, where rounding may decide either way
    assert 0.1 < expected.double().mean() < 0.9
    assert torch.equal(out.valid.reshape(2, -1)[clear], expected[clear])


# --------------------------------------------------------------------------------------------------------
# A perfect warp has no loss floor


def render_textured_plane(dtype: torch.dtype, texture, T_src_tgt: torch.Tensor, plane_z: float):
    """Source and target views of the plane Z_src = plane_z whose colour at (X, Y) is texture(X, Y).

    Returns the source image, the target image and the target depth, all rendered analytically (no warp).
    """
    k = CAMERA.matrix()
    pixels = homogeneous_pixel_grid(H, W, torch.float64, torch.device("cpu"))
    rays = torch.linalg.inv(k) @ pixels  # (3, N), z = 1
    source = texture(rays[0] * plane_z, rays[1] * plane_z)
    rotation, translation = T_src_tgt[:3, :3], T_src_tgt[:3, 3]
    direction = rotation @ rays
    depth = (plane_z - translation[2]) / direction[2]  # target z-depth of the plane along each target ray
    points_src = direction * depth + translation[:, None]
    target = texture(points_src[0], points_src[1])
    shape = (1, 1, H, W)
    return source.reshape(shape).to(dtype), target.reshape(shape).to(dtype), depth.reshape(shape).to(dtype)


def masked_mean_abs(a: torch.Tensor, b: torch.Tensor, valid: torch.Tensor) -> float:
    return float(((a - b).abs() * valid).sum() / valid.sum())


@pytest.mark.parametrize("texture_kind", ["linear", "smooth"])
def test_perfect_warp_has_no_loss_floor(dtype, texture_kind):
    """The founding article trained without an out-of-frame mask and measured a loss floor even with the
    true pose. Here the masked photometric error of the true pose is ~0 (exactly 0 up to rounding for a
    texture that bilinear sampling reproduces), far below that of a wrong pose, while the same error without
    the mask is large because part of the target view is not seen by the source."""
    if texture_kind == "linear":
        texture, floor_free = (lambda x, y: 0.5 + 0.3 * x - 0.2 * y), (1e-5 if dtype == torch.float32 else 1e-12)
    else:
        texture, floor_free = (lambda x, y: 0.5 + 0.2 * torch.sin(3 * x + 1) * torch.cos(2 * y)), 2e-3
    T_src_tgt = se3_exp(torch.tensor([0.25, -0.1, 0.15, 0.03, -0.08, 0.05], dtype=torch.float64))
    source, target, depth = render_textured_plane(dtype, texture, T_src_tgt, plane_z=2.0)
    true = warp_source_to_target(source, depth, T_src_tgt.to(dtype), CAMERA)
    wrong = warp_source_to_target(source, depth, torch.eye(4, dtype=dtype), CAMERA)
    assert 0.05 < 1 - true.valid.double().mean() < 0.5, "part of the target view is out of the source frame"
    masked_true = masked_mean_abs(true.warped, target, true.valid)
    assert masked_true < floor_free
    masked_wrong = masked_mean_abs(wrong.warped, target, wrong.valid)
    assert masked_wrong > 0.01 and masked_wrong > 20 * masked_true
    unmasked_true = float((true.warped - target).abs().mean())
    assert unmasked_true > 0.02, "without the mask the true pose would leave a floor"


# --------------------------------------------------------------------------------------------------------
# Against kornia


def test_matches_kornia_warp_frame_depth_in_the_valid_region(dtype, depth_field):
    b = 3
    image = smooth_image(b, 3, H, W, dtype)
    depth = depth_field(b, dtype)
    xi = torch.tensor(
        [[0.1, -0.05, 0.2, 0.02, -0.05, 0.03], [-0.2, 0.1, -0.1, -0.04, 0.02, -0.06], [0.0, 0.0, 0.5, 0.1, 0.1, 0.0]],
        dtype=dtype,
    )
    pose = se3_exp(xi)
    ours = warp_source_to_target(image, depth, pose, CAMERA)
    theirs = warp_frame_depth(image, depth, pose, CAMERA.matrix(dtype).expand(b, 3, 3))
    valid = ours.valid.expand_as(image)
    assert 0.3 < valid.double().mean() < 1.0
    tolerance = 1e-4 if dtype == torch.float32 else 1e-12
    assert float((ours.warped - theirs)[valid].abs().max()) <= tolerance


def test_gradients_match_kornia_in_the_valid_region(depth_field):
    """In float64 the gradients of a masked loss with respect to the pose and the depth agree with kornia's
    (autograd through its homogeneous formulation) to rounding."""
    b = 2
    image = smooth_image(b, 3, H, W, torch.float64)
    depth0 = depth_field(b, torch.float64)
    xi0 = torch.tensor(
        [[0.1, -0.05, 0.2, 0.02, -0.05, 0.03], [-0.2, 0.1, -0.1, -0.04, 0.02, -0.06]], dtype=torch.float64
    )
    weights = smooth_image(b, 3, H, W, torch.float64) - 0.5
    mask = warp_source_to_target(image, depth0, se3_exp(xi0), CAMERA).valid

    def gradients(warp):
        xi, depth = xi0.clone().requires_grad_(True), depth0.clone().requires_grad_(True)
        ((warp(depth, se3_exp(xi)) * mask * weights).sum()).backward()
        return xi.grad, depth.grad

    ours = gradients(lambda depth, pose: warp_source_to_target(image, depth, pose, CAMERA).warped)
    theirs = gradients(lambda depth, pose: warp_frame_depth(image, depth, pose, CAMERA.matrix().expand(b, 3, 3)))
    for a, k in zip(ours, theirs):
        assert torch.allclose(a, k, atol=1e-10, rtol=1e-9)


# --------------------------------------------------------------------------------------------------------
# Different source camera, sampling helper, consistency of the two entry points


def test_source_with_other_intrinsics_and_size(dtype):
    """Source: the 2x2-average-pooled image with intrinsics scaled by 1/2. A linear ramp survives pooling and
    bilinear sampling exactly, so the identity warp gives back the full-resolution ramp wherever valid; the
    outermost target pixels fall outside the pooled image's pixel centres and are invalid."""
    u, v = pixel_grid(H, W, torch.float64)
    full = ramp(u, v).reshape(1, 1, H, W)
    pooled = torch.nn.functional.avg_pool2d(full, 2).to(dtype)
    depth = torch.full((1, 1, H, W), 2.0, dtype=dtype)
    identity = torch.eye(4, dtype=dtype)
    out = warp_source_to_target(pooled, depth, identity, CAMERA, source_intrinsics=CAMERA.scaled(0.5, 0.5))
    expected_valid = (u >= 0.5) & (u <= W - 1.5) & (v >= 0.5) & (v <= H - 1.5)
    assert torch.equal(out.valid[0, 0], expected_valid)
    tolerance = 1e-5 if dtype == torch.float32 else 1e-12
    assert torch.allclose(out.warped[0, 0][expected_valid].double(), full[0, 0][expected_valid], atol=tolerance, rtol=0)
    u_src = out.source_pixels[0, 0].double()
    assert torch.allclose(u_src, (u - 0.5) / 2, atol=tolerance, rtol=0)


def test_sample_at_pixels_uses_pixel_centres(dtype, generator):
    image = torch.rand(1, 2, 5, 7, generator=generator, dtype=torch.float64).to(dtype)
    u, v = pixel_grid(5, 7, dtype)
    pixels = torch.stack((u, v))[None]
    assert torch.allclose(sample_at_pixels(image, pixels), image, atol=1e-6 if dtype == torch.float32 else 1e-14)
    middle = torch.tensor([1.5, 2.0], dtype=dtype).reshape(1, 2, 1, 1)
    assert torch.allclose(sample_at_pixels(image, middle)[0, :, 0, 0], (image[0, :, 2, 1] + image[0, :, 2, 2]) / 2)
    outside = torch.tensor([-3.0, 10.0], dtype=dtype).reshape(1, 2, 1, 1)
    assert bool((sample_at_pixels(image, outside) == 0).all())


def test_warp_and_projection_agree(dtype, depth_field):
    depth = depth_field(2, dtype)
    pose = se3_exp(torch.tensor([[0.3, -0.1, 0.2, 0.05, 0.1, -0.02], [0.0, 0.2, -0.3, 0.0, -0.1, 0.1]], dtype=dtype))
    image = smooth_image(2, 3, H, W, dtype)
    out = warp_source_to_target(image, depth, pose, CAMERA)
    projection = project_target_to_source(depth, pose, CAMERA)
    assert torch.equal(out.valid, projection.valid)
    assert torch.equal(out.source_pixels, projection.source_pixels)
    assert torch.equal(out.source_depth, projection.source_depth)
    assert torch.equal(out.flow, projection.flow)
    u, v = pixel_grid(H, W, dtype)
    assert torch.allclose(projection.flow, projection.source_pixels - torch.stack((u, v)), atol=0, rtol=0)
    sampled = sample_at_pixels(image, projection.source_pixels) * projection.valid
    assert torch.allclose(out.warped, sampled, atol=1e-5 if dtype == torch.float32 else 1e-12, rtol=0)
