"""Maps built from real 7-Scenes frames: the manifest, the PLY, and the mesh rendered at a keyframe's pose."""

from __future__ import annotations

import json

import pytest
import torch

from posekit.errors import DatasetError, FileFormatError
from posekit.mapping import ColourModel, RgbdCalibration, load_map
from posekit.mapping.frames import load_colour
from tests.conftest import require_real_data
from tests.mapping.small_map import sevenscenes_frames


@pytest.fixture(scope="module")
def data():
    return require_real_data("7scenes_redkitchen_seq01")


def test_manifest_keeps_colour_and_depth_cameras_apart(small_map):
    manifest = json.loads((small_map.folder / "manifest.json").read_text())
    calibration = manifest["calibration"]
    assert calibration["model"] == "kinect-7scenes" and manifest["kind"] == "dense"
    assert calibration["depth"]["fx"] == 585.0 and calibration["colour"]["fx"] == 525.0
    assert calibration["T_depth_colour"][0][3] == pytest.approx(0.025)
    assert manifest["frames_fused"][:2] == ["frames/cam0/000000", "frames/cam0/000004"]
    assert len(manifest["keyframes"]) == 10 and manifest["voxel_size_m"] == 0.02
    assert {"open3d", "torch", "posekit"} <= set(manifest["libraries"])
    assert small_map.colour_intrinsics.fx == pytest.approx(525.0 / 4)


def test_mesh_is_a_ply_other_tools_open(small_map):
    import open3d as o3d

    mesh = o3d.io.read_triangle_mesh(str(small_map.folder / "mesh.ply"))
    assert len(mesh.triangles) > 10000 and mesh.has_vertex_colors()


def test_map_rendered_at_a_keyframe_pose_matches_its_image(small_map, data):
    # Measured: mean |rendered - real| colour 0.04-0.05 on the covered pixels (240x320, 1 cm voxels, 100 frames);
    # with the registered 585 px colour camera 0.05-0.08. Bound 0.07 at 120x160 with 2 cm voxels.
    renderer = small_map.renderer()
    k = small_map.colour_intrinsics
    for index in (1, 5):
        pose = small_map.calibration.T_world_colour(small_map.keyframes.T_world_depth[index])
        view = renderer.render(pose, k)
        assert view.coverage > 0.6
        covered = (view.depth > 0).expand(1, 3, -1, -1)
        error = (view.colour - small_map.keyframes.images[index : index + 1]).abs()[covered].mean()
        assert error < 0.07
        # and a pose 10 cm away renders a clearly different picture
        moved = pose.clone()
        moved[:3, 3] += torch.tensor([0.1, 0.0, 0.0], dtype=torch.float64)
        off = renderer.render(moved, k)
        both = ((off.depth > 0) & (view.depth > 0)).expand(1, 3, -1, -1)
        assert (off.colour - small_map.keyframes.images[index : index + 1]).abs()[both].mean() > error + 0.01


def test_keyframe_depth_is_the_mesh_in_the_colour_camera(small_map, data):
    # The stored depth (colour camera) moved into the depth camera agrees with the sensor depth there.
    from posekit.geometry.camera import backproject_depth, project_points
    from posekit.geometry.lie import transform_points
    from posekit.geometry.warp import sample_at_pixels
    from posekit.mapping.frames import load_depth

    frame = sevenscenes_frames(data, "4")[0]
    index = small_map.keyframes.names.index(frame.key)
    stored = small_map.keyframes.depth[index : index + 1]
    assert stored.shape == (1, 1, 120, 160) and (stored > 0).float().mean() > 0.6
    points_colour = backproject_depth(stored, small_map.colour_intrinsics).reshape(1, 3, -1).transpose(1, 2)
    points_depth = transform_points(small_map.calibration.T_depth_colour.float(), points_colour).transpose(1, 2)
    pixels, _ = project_points(points_depth, small_map.calibration.depth)
    sensor = sample_at_pixels(load_depth(frame)[None], pixels.reshape(1, 2, 120, 160), mode="nearest")
    z = points_depth[:, 2].reshape(1, 1, 120, 160)
    both = (sensor > 0) & (stored > 0)
    assert both.float().mean() > 0.5
    assert (sensor - z).abs()[both].median() < 0.01


def test_colour_focal_525_fits_the_data_better_than_585(data):
    # The check behind the 7-Scenes colour model: warp colour of frame 300 into frame 320 through depth and
    # the file poses; the colour difference is lower with the 525 px colour camera than with 585 px.
    from posekit.geometry.camera import PinholeIntrinsics
    from posekit.mapping import colour_at_depth_pixels
    from posekit.mapping.frames import load_depth

    a, b = sevenscenes_frames(data, "300,320")
    k_depth = PinholeIntrinsics(585.0, 585.0, 320.0, 240.0, 640, 480)
    errors = {}
    for model in (ColourModel.REGISTERED, ColourModel.KINECT_7SCENES):  # the built-in models, not a file
        calibration = RgbdCalibration.from_model(k_depth, model)
        colour_a = colour_at_depth_pixels(load_colour(a)[None], load_depth(a)[None], calibration)
        # b's depth pixels seen from a: render-free check through a's colour projected by the depth geometry
        colour_b = colour_at_depth_pixels(load_colour(b)[None], load_depth(b)[None], calibration)
        errors[model] = _cross_error(a, b, colour_a, colour_b, k_depth)
    assert errors[ColourModel.KINECT_7SCENES] < errors[ColourModel.REGISTERED] - 0.005


def _cross_error(a, b, colour_a, colour_b, k):
    from posekit.geometry.warp import warp_source_to_target
    from posekit.geometry.lie import relative_pose
    from posekit.mapping.frames import load_depth

    warp = warp_source_to_target(colour_a, load_depth(b)[None], relative_pose(a.T_world_cam, b.T_world_cam)[None].float(), k)
    valid = warp.valid & (colour_b.sum(1, keepdim=True) > 0) & (warp.warped.sum(1, keepdim=True) > 0)
    return float((warp.warped - colour_b).abs().mean(1, keepdim=True)[valid].mean())


def test_load_map_errors(tmp_path):
    with pytest.raises(FileFormatError, match="not a posekit map"):
        load_map(tmp_path)
    (tmp_path / "manifest.json").write_text("{not json")
    with pytest.raises(FileFormatError, match="malformed map manifest"):
        load_map(tmp_path)


def test_build_map_needs_frames_with_depth(tmp_path, data):
    from dataclasses import replace

    from posekit.mapping import build_map

    with pytest.raises(DatasetError, match="no frame"):
        build_map([], tmp_path)
    frame = sevenscenes_frames(data, "0")[0]
    with pytest.raises(DatasetError, match="no depth"):
        build_map([replace(frame, depth_path=None, depth_scale=None)], tmp_path)
