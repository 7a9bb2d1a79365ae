"""The rasteriser's depth and projection are exact: analytic plane depth, projected known 3-D points."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from scipy.spatial.transform import Rotation

from posekit.data.synth import renderer as renderer_module
from posekit.data.synth.renderer import Renderer, projection_matrix
from posekit.data.synth.textures import load_texture
from posekit.errors import RenderError, ShapeError
from posekit.geometry import PinholeIntrinsics, backproject_depth, project_points, transform_points

from .conftest import plane_scene


def _pose(euler_deg, position) -> np.ndarray:
    pose = np.eye(4)
    pose[:3, :3] = Rotation.from_euler("xyz", euler_deg, degrees=True).as_matrix()
    pose[:3, 3] = position
    return pose


def _analytic_plane_depth(k: PinholeIntrinsics, T_world_cam: np.ndarray, normal, point) -> np.ndarray:
    """z-depth of the ray through each pixel centre to the plane ``normal . (X - point) = 0``."""
    normal = np.asarray(normal, np.float64) / np.linalg.norm(normal)
    v, u = np.mgrid[0 : k.height, 0 : k.width].astype(np.float64)
    rays_cam = np.stack([(u - k.cx) / k.fx, (v - k.cy) / k.fy, np.ones_like(u)], axis=-1)  # z = 1
    rays_world = rays_cam @ T_world_cam[:3, :3].T
    return (normal @ (np.asarray(point) - T_world_cam[:3, 3])) / (rays_world @ normal)


@pytest.mark.parametrize("samples", [1, 4], ids=["single-sample", "multisampled-colour"])
@pytest.mark.parametrize(
    "normal, point, euler, position",
    [
        ((0.2, -0.3, 1.0), (0.1, 0.2, 0.0), (172.0, 9.0, 30.0), (0.3, -0.2, 2.5)),  # oblique view of a floor
        ((1.0, 0.1, 0.05), (4.0, 0.0, 0.0), (-90.0, 0.0, -80.0), (0.0, 0.3, 1.0)),  # a far wall, grazing-ish
    ],
)
def test_plane_depth_matches_the_analytic_z_depth(small_camera, normal, point, euler, position, samples):
    scene = plane_scene(normal, point, texture=load_texture("astronaut"))
    T_world_cam = _pose(euler, position)
    with Renderer(scene, small_camera, samples=samples) as renderer:
        view = renderer.render(T_world_cam)
    expected = _analytic_plane_depth(small_camera, T_world_cam, normal, point)
    visible = view.depth > 0
    assert visible.mean() > 0.5
    assert np.all(expected[visible] > 0)
    relative = np.abs(view.depth[visible] - expected[visible]) / expected[visible]
    assert relative.max() <= 1e-4
    assert view.color.shape == (60, 80, 3) and view.color.dtype == np.float32


def test_projected_known_points_land_on_the_pixels_that_see_them(small_camera):
    """Vertex colours encode world x, y on a plane z = 0 (unlit): each pixel reports the point it sees.

    The renderer is right about the intrinsics and the pixel-centre convention if that point, projected with
    posekit.geometry, lands on the same pixel (to 0.1 px), and if a chosen known 3-D point, projected, reads
    back its own coordinates there.
    """
    extent = 8.0
    scene = plane_scene((0, 0, 1), (0, 0, 0), colors=lambda p: np.stack(
        [(p[:, 0] + extent) / (2 * extent), (p[:, 1] + extent) / (2 * extent), np.zeros(len(p))], 1), size=2 * extent)
    T_world_cam = _pose((165.0, -8.0, 20.0), (0.4, -0.3, 2.0))
    with Renderer(scene, small_camera) as renderer:
        view = renderer.render(T_world_cam)
    seen = view.depth > 0
    world = np.stack([view.color[..., 0] * 2 * extent - extent, view.color[..., 1] * 2 * extent - extent,
                      np.zeros(view.depth.shape)], axis=-1)
    T_cam_world = torch.linalg.inv(torch.from_numpy(T_world_cam))
    points_cam = transform_points(T_cam_world, torch.from_numpy(world[seen]))
    pixels, in_front = project_points(points_cam.T[None], small_camera)
    v, u = np.nonzero(seen)
    assert bool(in_front.all())
    error = np.hypot(pixels[0, 0].numpy() - u, pixels[0, 1].numpy() - v)
    assert error.max() <= 0.1

    known = torch.tensor([[0.7, -0.2, 0.0]], dtype=torch.float64)
    (pixel,), _ = project_points(transform_points(T_cam_world, known).T[None], small_camera)
    pu, pv = pixel[0].item(), pixel[1].item()
    u0, v0 = int(np.floor(pu)), int(np.floor(pv))
    assert 0 <= u0 < small_camera.width - 1 and 0 <= v0 < small_camera.height - 1
    a, b = pu - u0, pv - v0  # bilinear read of the world coordinates at the projected position
    patch = world[v0 : v0 + 2, u0 : u0 + 2, :2]
    read = (1 - b) * ((1 - a) * patch[0, 0] + a * patch[0, 1]) + b * ((1 - a) * patch[1, 0] + a * patch[1, 1])
    # how far apart, in pixels, two points this far apart on the plane are near the known point
    metres_per_pixel = np.linalg.norm(world[v0, u0 + 1, :2] - world[v0, u0, :2])
    assert np.linalg.norm(read - known[0, :2].numpy()) / metres_per_pixel <= 0.1


def test_depth_backprojects_onto_the_plane(small_camera):
    """Through posekit.geometry.backproject_depth, the rendered depth gives points on the plane."""
    normal, point = np.array([0.0, 0.0, 1.0]), np.zeros(3)
    T_world_cam = _pose((180.0, 20.0, 0.0), (0.0, 0.0, 1.5))
    with Renderer(plane_scene(normal, point), small_camera) as renderer:
        depth = renderer.render(T_world_cam).depth
    points_cam = backproject_depth(torch.from_numpy(depth).double()[None, None], small_camera)[0].reshape(3, -1)
    points_world = transform_points(torch.from_numpy(T_world_cam), points_cam.T)
    assert np.all(depth > 0)
    assert points_world[:, 2].abs().max().item() <= 1e-4


def test_nothing_hit_is_background_with_zero_depth(small_camera):
    scene = plane_scene((0, 0, 1), (0, 0, 0), size=1.0)
    looking_up = _pose((0.0, 0.0, 0.0), (0.0, 0.0, 1.0))  # z forward = world up: the plane is behind
    with Renderer(scene, small_camera) as renderer:
        view = renderer.render(looking_up)
    assert np.all(view.depth == 0)
    assert np.all(view.color == 0)


def test_projection_matrix_maps_pixel_centres(small_camera):
    p = projection_matrix(small_camera, 0.1, 10.0)
    point = np.array([0.3, -0.2, 2.0, 1.0])
    clip = p @ point
    ndc = clip[:3] / clip[3]
    u = (ndc[0] + 1) / 2 * small_camera.width - 0.5
    v = (ndc[1] + 1) / 2 * small_camera.height - 0.5
    assert u == pytest.approx(small_camera.fx * 0.3 / 2.0 + small_camera.cx)
    assert v == pytest.approx(small_camera.fy * -0.2 / 2.0 + small_camera.cy)
    with pytest.raises(ShapeError):
        projection_matrix(small_camera, 1.0, 0.5)


def test_bad_pose_shape_is_rejected(small_camera):
    with Renderer(plane_scene((0, 0, 1), (0, 0, 0)), small_camera) as renderer:
        with pytest.raises(ShapeError, match=r"\(4, 4\)"):
            renderer.render(np.eye(3))


def test_missing_gl_backend_says_what_to_install(monkeypatch, small_camera):
    import moderngl

    def no_context(*args, **kwargs):
        raise Exception("libEGL.so: cannot open shared object file")

    monkeypatch.setattr(moderngl, "create_standalone_context", no_context)
    with pytest.raises(RenderError) as error:
        renderer_module.create_context()
    message = str(error.value)
    assert "libegl-mesa0" in message and "libgl1-mesa-dri" in message and "moderngl" in message
    assert "libEGL.so" in message
