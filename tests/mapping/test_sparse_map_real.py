"""Sparse maps triangulated by pycolmap from real posed KITTI frames: reprojection, manifest, PLY, round trip."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from posekit.errors import DatasetError, FileFormatError
from posekit.geometry.camera import project_points
from posekit.geometry.lie import se3_inverse, transform_points
from posekit.mapping import load_map
from posekit.mapping.sparse import covisible_pairs, build_sparse_map
from posekit.mapping.sparse_store import SparseMap
from posekit.mapping.store import PoseMap
from tests.conftest import require_real_data
from tests.mapping.small_sparse_map import (
    KITTI_SEQ06,
    SMALL_SPARSE_CONFIG,
    SPARSE_TRAIN_FRAMES,
    build_small_sparse_map,
    kitti_frames,
)


@pytest.fixture(scope="module")
def data():
    return require_real_data(KITTI_SEQ06)


@pytest.fixture(scope="module")
def sparse_map(data, tmp_path_factory):
    return build_small_sparse_map(data, tmp_path_factory.mktemp("sparse"))


def _reprojection_errors(pose_map) -> np.ndarray:
    """Pixel distance between each observation and its point projected with the training frame's known pose."""
    points = pose_map.points
    T_cam_world = se3_inverse(pose_map.keyframes.T_world_depth)[torch.from_numpy(points.obs_keyframe)]
    world = torch.from_numpy(points.xyz[points.obs_point])
    camera = transform_points(T_cam_world, world[:, None, :])[:, 0]
    pixels, in_front = project_points(camera[:, :, None], pose_map.colour_intrinsics)
    assert bool(in_front.all())
    return np.linalg.norm(pixels[:, :, 0].numpy() - points.obs_pixel, axis=1)


def test_points_reproject_into_the_training_images(sparse_map):
    # Measured at 120x400 (7 frames): 190 points, median 0.52 px, 95th percentile 1.43 px, max 3.03 px.
    # COLMAP's track filter is 4 px: no observation may exceed it; the median bound is 1 px.
    errors = _reprojection_errors(sparse_map)
    assert len(sparse_map.points.xyz) > 100 and len(errors) >= 3 * len(sparse_map.points.xyz)
    assert np.median(errors) < 1.0 and errors.max() < 4.0
    assert np.all(sparse_map.points.track_length >= 2)


def test_wrong_poses_do_not_reproject(sparse_map):
    # the check above can fail: with every pose shifted 0.5 m sideways the same points reproject far off
    shifted = sparse_map.keyframes.T_world_depth.clone()
    shifted[:, 0, 3] += 0.5
    moved = SparseMap(sparse_map.folder, sparse_map.manifest, sparse_map.calibration,
                      type(sparse_map.keyframes)(sparse_map.keyframes.names, sparse_map.keyframes.images,
                                                 sparse_map.keyframes.depth, shifted, sparse_map.keyframes.descriptors),
                      sparse_map.points)
    assert np.median(_reprojection_errors(moved)) > 3.0


def test_manifest_names_kind_frames_camera_and_libraries(sparse_map, data):
    manifest = json.loads((sparse_map.folder / "manifest.json").read_text())
    assert manifest["kind"] == "sparse" and sparse_map.kind == "sparse"
    assert manifest["frames_used"] == [f.key for f in kitti_frames(data, SPARSE_TRAIN_FRAMES)]
    assert manifest["calibration"]["depth"]["fx"] == pytest.approx(707.0912)
    assert manifest["camera_working_size"]["width"] == 400 and manifest["working_size_hw"] == [120, 400]
    assert manifest["features"]["type"] == "sift" and manifest["units"]["length"] == "m"
    assert {"pycolmap", "open3d", "posekit"} <= set(manifest["libraries"])
    assert manifest["triangulation"]["points"] == len(sparse_map.points.xyz)


def test_map_round_trips_through_load_map(sparse_map):
    loaded = load_map(sparse_map.folder)
    assert isinstance(loaded, SparseMap) and loaded.kind == "sparse"
    np.testing.assert_allclose(loaded.points.xyz, sparse_map.points.xyz)
    np.testing.assert_array_equal(loaded.points.obs_descriptor, sparse_map.points.obs_descriptor)
    assert loaded.points.obs_descriptor.shape[1] == 128 and loaded.points.obs_descriptor.dtype == np.uint8
    assert loaded.keyframes.names == sparse_map.keyframes.names
    torch.testing.assert_close(loaded.keyframes.T_world_depth, sparse_map.keyframes.T_world_depth)
    assert loaded.keyframes.images.shape == (len(SPARSE_TRAIN_FRAMES), 3, 120, 400)


def test_points_ply_opens_in_open3d_and_the_colmap_model_in_pycolmap(sparse_map):
    import open3d as o3d

    cloud = o3d.io.read_point_cloud(str(sparse_map.folder / "points.ply"))
    assert len(cloud.points) == len(sparse_map.points.xyz) and cloud.has_colors()
    np.testing.assert_allclose(np.asarray(cloud.points), sparse_map.points.xyz, atol=1e-9)
    import pycolmap  # and COLMAP reads the reconstruction kept beside it

    assert pycolmap.Reconstruction(str(sparse_map.folder / "colmap")).num_points3D() == len(sparse_map.points.xyz)


def test_old_manifest_without_kind_is_dense():
    assert PoseMap(None, {}, None, None).kind == "dense"


def test_unknown_kind_and_missing_files_are_clear_errors(sparse_map, tmp_path):
    manifest = json.loads((sparse_map.folder / "manifest.json").read_text())
    (tmp_path / "manifest.json").write_text(json.dumps({**manifest, "kind": "voxels"}))
    with pytest.raises(FileFormatError, match="unknown map kind"):
        load_map(tmp_path)
    (tmp_path / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(FileFormatError, match="missing map file"):
        load_map(tmp_path)


def test_empty_map_is_refused(sparse_map, data, tmp_path):
    with pytest.raises(DatasetError, match="at least 2"):
        build_sparse_map(kitti_frames(data, (0,)), tmp_path / "one", SMALL_SPARSE_CONFIG, log=lambda line: None)
    folder = tmp_path / "empty"
    folder.mkdir()
    for name in ("manifest.json", "keyframes.npz", "descriptors.npz"):
        (folder / name).write_bytes((sparse_map.folder / name).read_bytes())
    np.savez(folder / "points.npz", xyz=np.zeros((0, 3)), colour=np.zeros((0, 3), np.uint8), error_px=np.zeros(0))
    with pytest.raises(FileFormatError, match="no 3-D points"):
        load_map(folder)


def test_covisible_pairs_follow_the_known_poses():
    poses = torch.eye(4, dtype=torch.float64).repeat(5, 1, 1)
    poses[:, 2, 3] = torch.arange(5, dtype=torch.float64)  # driving forward 1 m per frame
    poses[4, :3, :3] = torch.diag(torch.tensor([-1.0, 1.0, -1.0], dtype=torch.float64))  # the last one looks back
    assert covisible_pairs(poses, 1, 45.0) == [(0, 1), (1, 2), (2, 3)]
