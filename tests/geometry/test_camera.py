"""The pinhole camera: intrinsics under resize/scale/crop follow the pixel-centre convention (pixel (0, 0) is
the centre of the top-left pixel), back-projection then projection is the identity, points behind the camera
are flagged."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from posekit.errors import ShapeError
from posekit.geometry import (
    PinholeIntrinsics,
    backproject_depth,
    homogeneous_pixel_grid,
    project_points,
    sample_at_pixels,
)
from posekit.geometry.camera import batch_intrinsics

KINECT = PinholeIntrinsics(585.0, 580.0, 320.0, 240.0, 640, 480)


def project_one(intrinsics: PinholeIntrinsics, points: torch.Tensor) -> torch.Tensor:
    """``(N, 3)`` float64 camera points to ``(N, 2)`` pixels with ``project_points``."""
    pixels, in_front = project_points(points.T[None], intrinsics.as_tensor(torch.float64))
    assert bool(in_front.all())
    return pixels[0].T


@pytest.fixture
def points_in_view(generator) -> torch.Tensor:
    """``(50, 3)`` float64 points in front of the camera, spread over KINECT's field of view."""
    z = 0.5 + 4 * torch.rand(50, generator=generator, dtype=torch.float64)
    xy = (torch.rand(50, 2, generator=generator, dtype=torch.float64) - 0.5) * z[:, None]
    return torch.cat((xy, z[:, None]), dim=-1)


def test_docstring_example():
    assert PinholeIntrinsics(585.0, 585.0, 320.0, 240.0, 640, 480).resized(320, 240) == PinholeIntrinsics(
        292.5, 292.5, 159.75, 119.75, 320, 240
    )


@pytest.mark.parametrize("size", [(320, 240), (160, 120), (400, 300), (1280, 960), (200, 100)])
def test_resized_intrinsics_equal_projection_then_resize(points_in_view, size):
    """Project at full resolution and map by the resize (u -> sx (u + 0.5) - 0.5), or project with the
    resized intrinsics: the same pixel."""
    width, height = size
    sx, sy = width / KINECT.width, height / KINECT.height
    full = project_one(KINECT, points_in_view)
    expected = torch.stack((sx * (full[:, 0] + 0.5) - 0.5, sy * (full[:, 1] + 0.5) - 0.5), dim=-1)
    resized = KINECT.resized(width, height)
    assert (resized.width, resized.height) == size
    assert torch.allclose(project_one(resized, points_in_view), expected, atol=1e-9, rtol=0)
    assert torch.allclose(project_one(KINECT.scaled(sx, sy), points_in_view), expected, atol=1e-9, rtol=0)


def test_two_by_two_average_pooling_maps_u_to_half_of_u_minus_half():
    """A 2x2-average-pooled pixel u' covers full-resolution pixels 2u' and 2u'+1, whose centre is 2u' + 0.5:
    u = 2u' + 0.5, i.e. u' = (u - 0.5) / 2, which is what ``scaled(0.5, 0.5)`` gives."""
    half = KINECT.scaled(0.5, 0.5)
    assert (half.cx, half.cy) == ((KINECT.cx - 0.5) / 2, (KINECT.cy - 0.5) / 2)
    assert (half.fx, half.fy, half.width, half.height) == (KINECT.fx / 2, KINECT.fy / 2, 320, 240)
    # The image side of the same statement: pool a linear ramp I(u, v) = 3u - 2v + 1 and read the pooled
    # pixel u' as full-resolution coordinate 2u' + 0.5.
    h, w = 8, 12
    v, u = torch.meshgrid(torch.arange(h, dtype=torch.float64), torch.arange(w, dtype=torch.float64), indexing="ij")
    ramp = (3 * u - 2 * v + 1)[None, None]
    pooled = F.avg_pool2d(ramp, 2)
    v2, u2 = torch.meshgrid(
        torch.arange(h // 2, dtype=torch.float64), torch.arange(w // 2, dtype=torch.float64), indexing="ij"
    )
    assert torch.allclose(pooled[0, 0], 3 * (2 * u2 + 0.5) - 2 * (2 * v2 + 0.5) + 1)


def test_pooled_image_sampled_at_resized_projection_matches_full_resolution(points_in_view):
    """Bilinear sampling is exact on a linear ramp, so a 3-D point's intensity read in the full image at
    its full-resolution projection equals the pooled image's at its projection with scaled intrinsics."""
    h, w = KINECT.height, KINECT.width
    v, u = torch.meshgrid(torch.arange(h, dtype=torch.float64), torch.arange(w, dtype=torch.float64), indexing="ij")
    image = ((0.7 * u + 0.3 * v) / (w + h))[None, None]
    pooled = F.avg_pool2d(image, 2)
    full = project_one(KINECT, points_in_view).T.reshape(1, 2, 1, -1)
    small = project_one(KINECT.scaled(0.5, 0.5), points_in_view).T.reshape(1, 2, 1, -1)
    assert torch.allclose(sample_at_pixels(pooled, small), sample_at_pixels(image, full), atol=1e-12)


def test_cropped_intrinsics_shift_the_principal_point(points_in_view):
    left, top = 37, 12
    crop = KINECT.cropped(left, top, 400, 300)
    assert (crop.width, crop.height, crop.fx, crop.fy) == (400, 300, KINECT.fx, KINECT.fy)
    expected = project_one(KINECT, points_in_view) - torch.tensor([left, top], dtype=torch.float64)
    assert torch.allclose(project_one(crop, points_in_view), expected, atol=1e-9)


def test_matrix_round_trip():
    k = KINECT.matrix()
    assert torch.equal(k, torch.tensor([[585.0, 0, 320], [0, 580, 240], [0, 0, 1]], dtype=torch.float64))
    assert PinholeIntrinsics.from_matrix(k, 640, 480) == KINECT
    assert torch.equal(KINECT.as_tensor(), torch.tensor([585.0, 580.0, 320.0, 240.0]))


def test_from_matrix_rejects_skew_and_bad_shapes():
    with pytest.raises(ShapeError):
        PinholeIntrinsics.from_matrix([[585.0, 1.0, 320], [0, 580, 240], [0, 0, 1]], 640, 480)
    with pytest.raises(ShapeError, match=r"\(3, 3\).*\(2, 3\)"):
        PinholeIntrinsics.from_matrix([[585.0, 0, 320], [0, 580, 240]], 640, 480)
    with pytest.raises(ShapeError):
        PinholeIntrinsics(0.0, 580.0, 320.0, 240.0, 640, 480)


def test_backproject_then_project_is_identity(dtype, generator):
    b, h, w = 3, 9, 13
    intrinsics = torch.tensor([[20.0, 22.0, 6.0, 4.0], [15.0, 15.0, 6.5, 4.5], [30.0, 25.0, 5.2, 3.9]], dtype=dtype)
    depth = (0.2 + 5 * torch.rand(b, 1, h, w, generator=generator, dtype=torch.float64)).to(dtype)
    points = backproject_depth(depth, intrinsics)
    assert points.shape == (b, 3, h, w) and points.dtype == dtype
    assert torch.equal(points[:, 2:], depth)
    pixels, in_front = project_points(points, intrinsics)
    assert bool(in_front.all())
    grid = homogeneous_pixel_grid(h, w, dtype, torch.device("cpu"))[:2].reshape(1, 2, h, w)
    tolerance = 2e-5 if dtype == torch.float32 else 1e-12
    assert torch.allclose(pixels, grid.expand(b, 2, h, w), atol=tolerance, rtol=0)
    # X = (u - cx) z / fx
    fx, cx = intrinsics[:, 0, None, None], intrinsics[:, 2, None, None]
    assert torch.allclose(points[:, 0], (grid[:, 0] - cx) * depth[:, 0] / fx, atol=tolerance)


def test_points_behind_the_camera_are_flagged_and_stay_finite(dtype):
    points = torch.tensor(
        [[[0.1, 0.2, 1.0], [0.1, 0.2, 0.0], [0.1, 0.2, -1.0], [0.0, 0.0, 1e-9], [5.0, -3.0, 1e-3]]], dtype=dtype
    ).transpose(1, 2)
    pixels, in_front = project_points(points, KINECT)
    assert in_front.tolist() == [[[True, False, False, False, True]]]
    assert bool(torch.isfinite(pixels).all())
    assert torch.allclose(pixels[0, :, 0], torch.tensor([585 * 0.1 + 320, 580 * 0.2 + 240], dtype=dtype))


def test_project_points_gradient_is_finite_behind_the_camera():
    points = torch.tensor([[[0.1, 0.2, 2.0], [0.1, 0.2, 0.0], [0.1, 0.2, -1.0]]], dtype=torch.float64)
    points = points.transpose(1, 2).requires_grad_(True)
    pixels, _ = project_points(points, KINECT)
    pixels.sum().backward()
    assert bool(torch.isfinite(points.grad).all())
    # in front: d(u + v)/d(X, Y, Z) = (fx / Z, fy / Z, -(fx X + fy Y) / Z^2)
    expected = torch.tensor([585.0 / 2, 580.0 / 2, -(585.0 * 0.1 + 580.0 * 0.2) / 4], dtype=torch.float64)
    assert torch.allclose(points.grad[0, :, 0], expected)


def test_batch_intrinsics_accepts_the_three_forms():
    like = torch.zeros(1, dtype=torch.float64)
    from_object = batch_intrinsics(KINECT, 4, like)
    assert from_object.shape == (4, 4) and from_object.dtype == torch.float64
    assert torch.equal(batch_intrinsics(KINECT.as_tensor(), 4, like), from_object)
    assert torch.equal(batch_intrinsics(from_object, 4, like), from_object)
    with pytest.raises(ShapeError, match=r"\(4, 4\).*\(3, 4\)"):
        batch_intrinsics(from_object[:3], 4, like)
    with pytest.raises(ShapeError):
        batch_intrinsics([585.0, 580.0, 320.0, 240.0], 4, like)
