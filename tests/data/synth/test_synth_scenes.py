"""Procedural scenes vary per seed, repeat per seed, and leave room for the cameras; user meshes load with
their colours and textures."""

from __future__ import annotations

import numpy as np
import pytest
import trimesh
from PIL import Image

from posekit.data.synth import MeshUpAxis, Renderer, default_intrinsics, load_mesh_scene, look_at, room_scene, street_scene
from posekit.data.synth.street import KERB_HEIGHT, LANE_WIDTH, SIDEWALK_WIDTH
from posekit.errors import FileFormatError


def _fingerprint(scene) -> list:
    return [(p.positions.tobytes(), None if p.texture is None else p.texture.tobytes()) for p in scene.parts]


@pytest.mark.parametrize("build", [room_scene, lambda seed: street_scene(seed, length=120.0)], ids=["room", "street"])
def test_same_seed_same_scene_other_seed_other_scene(build):
    assert _fingerprint(build(4)) == _fingerprint(build(4))
    assert _fingerprint(build(4)) != _fingerprint(build(5))


def test_room_furniture_stays_below_the_handheld_camera():
    for seed in range(5):
        scene = room_scene(seed)
        region = scene.layout.eye_region
        for part in scene.parts:
            p = part.positions
            inside = np.all((p[:, :2] > region.low[:2]) & (p[:, :2] < region.high[:2]), axis=1)
            top = p[inside, 2]
            tall = top.max() if top.size else 0.0
            is_room_shell = tall >= scene.layout.bounds.high[2] - 1e-6  # the ceiling and walls
            assert is_room_shell or tall < region.low[2], (seed, tall)


def test_street_buildings_keep_off_the_road_and_sidewalk():
    scene = street_scene(2, length=250.0)
    road = scene.layout.road
    clearance = LANE_WIDTH + SIDEWALK_WIDTH
    for part in scene.parts:
        tall = part.positions[:, 2] > KERB_HEIGHT + 0.05  # walls, windows, shop pictures
        if not np.any(tall):
            continue
        points = part.positions[tall, :2]
        distance = np.min(np.linalg.norm(points[:, None, :] - road.points[None, ::4, :2], axis=2), axis=1)
        assert distance.min() > clearance - 0.5


def _colored_box_ply(path):
    box = trimesh.creation.box(extents=(1.0, 1.0, 1.0))
    box.visual.vertex_colors = np.tile([200, 30, 30, 255], (len(box.vertices), 1))
    box.export(path)


def test_ply_with_vertex_colours_renders_in_its_colour(tmp_path):
    path = tmp_path / "box.ply"
    _colored_box_ply(path)
    scene = load_mesh_scene(path, lit=False)
    assert scene.name == "box" and np.allclose(scene.layout.up, [0, 0, 1])
    k = default_intrinsics(64, 48, fov_deg=60.0)
    pose = look_at(np.array([[3.0, 0.5, 0.4]]), np.zeros((1, 3)), scene.layout.up)[0]
    with Renderer(scene, k) as renderer:
        view = renderer.render(pose)
    hit = view.depth > 0
    assert hit.mean() > 0.05
    np.testing.assert_allclose(view.color[hit].mean(axis=0), np.array([200, 30, 30]) / 255, atol=0.02)


def test_textured_glb_keeps_its_texture_the_right_way_up(tmp_path):
    """A quad whose texture is red on top and blue below, seen upright, shows red above blue."""
    texture = np.zeros((64, 64, 3), np.uint8)
    texture[:32] = (255, 0, 0)
    texture[32:] = (0, 0, 255)
    # glTF is y-up: a quad in the x-y plane facing +z, uv (OBJ convention, v up) so the image stands upright
    vertices = np.array([[-1, -1, 0], [1, -1, 0], [1, 1, 0], [-1, 1, 0]], float)
    uv = np.array([[0, 0], [1, 0], [1, 1], [0, 1]], float)
    mesh = trimesh.Trimesh(vertices, [[0, 1, 2], [0, 2, 3]], process=False,
                           visual=trimesh.visual.TextureVisuals(uv=uv, image=Image.fromarray(texture)))
    path = tmp_path / "poster.glb"
    mesh.export(path)
    scene = load_mesh_scene(path, lit=False)
    assert np.allclose(scene.layout.up, [0, 1, 0])
    assert any(part.texture is not None for part in scene.parts)
    k = default_intrinsics(40, 40, fov_deg=40.0)
    pose = look_at(np.array([[0.0, 0.0, 4.0]]), np.zeros((1, 3)), scene.layout.up)[0]
    with Renderer(scene, k) as renderer:
        view = renderer.render(pose)
    top, bottom = view.color[12, 20], view.color[28, 20]
    assert top[0] > 0.9 and top[2] < 0.1, top
    assert bottom[2] > 0.9 and bottom[0] < 0.1, bottom


def test_mesh_up_axis_can_be_given(tmp_path):
    path = tmp_path / "box.ply"
    _colored_box_ply(path)
    assert np.allclose(load_mesh_scene(path, up=MeshUpAxis.MINUS_Y).layout.up, [0, -1, 0])
    assert np.allclose(load_mesh_scene(path, up="x").layout.up, [1, 0, 0])


def test_bad_mesh_files_are_named(tmp_path):
    with pytest.raises(FileFormatError, match="not found"):
        load_mesh_scene(tmp_path / "missing.obj")
    bad = tmp_path / "broken.ply"
    bad.write_text("ply\nthis is not a mesh\n")
    with pytest.raises(FileFormatError, match="broken.ply"):
        load_mesh_scene(bad)
