"""The report of a map folder, without real data: hand-made dense and sparse map folders (a PLY, a manifest,
keyframe poses), the viewer's cloud encoding, and the errors for a map the report cannot draw."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest

from posekit.errors import ConfigError, FileFormatError
from posekit.viz.ground import DisplayUpAxis, to_display_frame
from posekit.viz.report import build_report_html
from posekit.viz.report.map_report import camera_up_axis
from posekit.viz.report.map_view import frustum_segments, load_map_geometry
from posekit.viz.report.viewer import MAX_CLOUD_POINTS, ViewerCloud, decode_cloud, thin_indices, viewer_html
from posekit.geometry.camera import PinholeIntrinsics
from tests.conftest import invoke

CALIBRATION = {"model": "registered", "depth": {"fx": 100.0, "fy": 100.0, "cx": 79.5, "cy": 59.5, "width": 160, "height": 120},
               "colour": {"fx": 100.0, "fy": 100.0, "cx": 79.5, "cy": 59.5, "width": 160, "height": 120},
               "T_depth_colour": np.eye(4).tolist()}


def viewer_data(html: str, element_id: str) -> dict:
    block = re.search(rf'<div class="viewer" id="{element_id}">.*?<script type="application/json" class="viewer-data">'
                      r"(.*?)</script>", html, re.S)
    assert block, f"no viewer {element_id}"
    return json.loads(block.group(1))


def _upright_poses(count: int) -> np.ndarray:
    """Cameras on a line along x, looking along +z with image y pointing down world -z... i.e. world z up."""
    poses = np.repeat(np.eye(4)[None], count, axis=0)
    # camera x = world x, camera y = world -z (down), camera z = world y (forward)
    poses[:, :3, :3] = np.array([[1.0, 0.0, 0.0], [0.0, 0.0, 1.0], [0.0, -1.0, 0.0]])
    poses[:, 0, 3] = np.linspace(0.0, 1.0, count)
    poses[:, 2, 3] = 1.5
    return poses


def make_map_folder(root, points: np.ndarray, colours: np.ndarray, kind: str | None = "sparse",
                    poses: np.ndarray | None = None, calibration: bool = True):
    """A map folder as ``posekit map build`` (or a sparse builder) writes it: manifest, PLY, keyframe poses."""
    import open3d as o3d

    root.mkdir(parents=True, exist_ok=True)
    cloud = o3d.geometry.PointCloud(o3d.utility.Vector3dVector(points))
    cloud.colors = o3d.utility.Vector3dVector(colours)
    ply = "points.ply" if kind == "sparse" else "mesh.ply"
    o3d.io.write_point_cloud(str(root / ply), cloud)
    manifest = {"posekit_map_version": 1, "frames_fused": [f"f/{i:03d}" for i in range(12)], "voxel_size_m": 0.02,
                "working_size_hw": [120, 160], "libraries": {"open3d": o3d.__version__}}
    if calibration:
        manifest["calibration"] = CALIBRATION
    if kind is not None:
        manifest["kind"] = kind
    (root / "manifest.json").write_text(json.dumps(manifest))
    poses = _upright_poses(4) if poses is None else poses
    np.savez(root / "keyframes.npz", names=np.array([f"k{i}" for i in range(len(poses))]), T_world_depth=poses)
    return root


def _room(count: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    return rng.uniform([-1, 1, 0], [2, 4, 2.5], (count, 3)), rng.uniform(0, 1, (count, 3))


def test_cloud_encoding_round_trips_within_half_a_step():
    points, colours = _room(500)
    data = viewer_data(viewer_html([], ["x", "y", "z"], "v", clouds=[ViewerCloud("c", points, (colours * 255).astype(np.uint8))]), "v")
    cloud = data["clouds"][0]
    decoded, decoded_colours = decode_cloud(cloud)
    assert cloud["count"] == cloud["source_count"] == 500
    assert np.abs(decoded - points).max() <= cloud["step"] / 2 + 1e-12
    assert np.array_equal(decoded_colours, (colours * 255).astype(np.uint8))


def test_thinning_keeps_the_limit_and_is_repeatable():
    kept = thin_indices(60_000, MAX_CLOUD_POINTS)
    assert len(kept) == MAX_CLOUD_POINTS == len(np.unique(kept)) and np.array_equal(kept, thin_indices(60_000, MAX_CLOUD_POINTS))
    assert np.array_equal(thin_indices(10, MAX_CLOUD_POINTS), np.arange(10))


def test_sparse_map_report_draws_the_points_and_keyframe_cameras(tmp_path):
    points, colours = _room(2000)
    folder = make_map_folder(tmp_path / "sparse_map", points, colours, kind="sparse")
    html = build_report_html(folder)
    assert "posekit map: sparse_map" in html and "2000 of the 2000 points of points.ply drawn" in html
    data = viewer_data(html, "map-viewer")
    assert data["labels"] == ["x", "y", "z"]  # the cameras' -y axis is world z
    decoded, decoded_colours = decode_cloud(data["clouds"][0])
    expected = to_display_frame(points, DisplayUpAxis.Z)[0]
    # every point of the PLY, in its order (under the limit nothing is thinned); 16 bits over a 3 m room
    assert np.abs(decoded - expected).max() < 1e-4
    assert np.abs(decoded_colours.astype(int) - np.round(colours * 255)).max() <= 1
    cameras = next(s for s in data["series"] if s["name"] == "keyframe cameras")
    assert cameras["markers"] and np.allclose(cameras["points"], _upright_poses(4)[:, :3, 3], atol=1e-4)
    assert len(data["segments"][0]["lines"]) == 4 * 8  # a frustum is 8 lines
    # the manifest's facts
    assert "<td>kind</td><td>sparse</td>" in html and "<td>voxel_size_m</td><td class=num>0.02</td>" in html
    assert "<td>frames_fused</td><td>12: f/000 … f/011</td>" in html and "libraries.open3d" in html


def test_a_manifest_without_kind_is_a_dense_map_and_large_clouds_are_thinned(tmp_path):
    points, colours = _room(MAX_CLOUD_POINTS + 7000)
    folder = make_map_folder(tmp_path / "dense", points, colours, kind=None, calibration=False)
    geometry = load_map_geometry(folder)
    assert geometry.kind == "dense" and geometry.geometry_file.name == "mesh.ply"
    assert len(geometry.points) == MAX_CLOUD_POINTS and geometry.total_points == MAX_CLOUD_POINTS + 7000
    html = build_report_html(folder)
    assert f"{MAX_CLOUD_POINTS} of the {MAX_CLOUD_POINTS + 7000} points of mesh.ply drawn" in html
    assert "dense (no kind field: dense)" in html
    data = viewer_data(html, "map-viewer")
    assert data["clouds"][0]["count"] == MAX_CLOUD_POINTS and data["segments"] == []  # no calibration: no frustums
    assert len(html) < 1_000_000, "the page stays small at the point limit"


def test_a_map_without_its_ply_is_a_clear_error(tmp_path):
    points, colours = _room(100)
    folder = make_map_folder(tmp_path / "map", points, colours, kind=None)
    (folder / "mesh.ply").unlink()
    with pytest.raises(FileFormatError, match="mesh.ply"):
        build_report_html(folder)
    result = invoke("report", folder)
    assert result.exit_code == 2 and "mesh.ply" in result.output and "missing map geometry" in result.output


def test_an_empty_ply_and_a_broken_manifest_are_clear_errors(tmp_path):
    points, colours = _room(100)
    folder = make_map_folder(tmp_path / "map", points, colours, kind="sparse")
    (folder / "points.ply").write_text("ply\nformat ascii 1.0\nelement vertex 0\nproperty float x\nend_header\n")
    with pytest.raises(FileFormatError, match="no points"):
        build_report_html(folder)
    (folder / "manifest.json").write_text("{not json")
    result = invoke("report", folder)
    assert result.exit_code == 2 and "manifest.json" in result.output and "malformed map manifest" in result.output


def test_a_folder_that_is_neither_run_nor_map_says_so(tmp_path):
    (tmp_path / "notes.txt").write_text("nothing here")
    html = build_report_html(tmp_path)
    assert "Nothing to report" in html and "neither a run folder, nor a map folder" in html


def test_a_map_is_reported_alone(tmp_path):
    points, colours = _room(100)
    folder = make_map_folder(tmp_path / "map", points, colours)
    with pytest.raises(ConfigError, match="reported alone"):
        build_report_html([folder, tmp_path])


def test_frustums_reach_the_image_corners():
    intrinsics = PinholeIntrinsics(100.0, 100.0, 79.5, 59.5, 160, 120)
    starts, ends = frustum_segments(np.eye(4)[None], intrinsics, 2.0)
    assert starts.shape == ends.shape == (8, 3)
    assert np.allclose(starts[:4], 0) and np.allclose(ends[0], [-79.5 / 50, -59.5 / 50, 2.0])
    assert np.allclose(ends[:4, 2], 2.0) and np.allclose(starts[4:], ends[:4])


def test_camera_up_axis_is_the_cameras_minus_y():
    assert camera_up_axis(_upright_poses(3)) is DisplayUpAxis.Z
    assert camera_up_axis(np.eye(4)[None]) is DisplayUpAxis.NEG_Y  # an OpenCV camera at identity: y down


def test_the_report_reads_the_files_the_map_store_writes():
    from posekit.mapping import store
    from posekit.viz.report import map_view

    assert (map_view.MANIFEST, map_view.MESH, map_view.KEYFRAMES) == (store.MANIFEST, store.MESH, store.KEYFRAMES)


def _write_localize_run(run, map_name: str) -> None:
    """A hand-made ``posekit localize`` run folder: summary, per-frame errors, estimated and true poses."""
    from posekit.metrics.trajectory import Trajectory
    from posekit.metrics.trajectory_files import write_tum

    import torch

    truth = torch.from_numpy(_upright_poses(5))
    estimate = truth.clone()
    estimate[:, 2, 3] += 0.1
    times = torch.arange(5, dtype=torch.float64)
    run.mkdir(parents=True)
    write_tum(run / "groundtruth_frames.tum", Trajectory(truth, times))
    write_tum(run / "poses_frames.tum", Trajectory(estimate, times))
    (run / "summary.json").write_text(json.dumps({"median_t_m": 0.1, "frames": 5, "map": map_name, "method": "retrieval+pnp"}))
    (run / "frames.csv").write_text("frame,t_err_m,r_err_deg,success\n" + "".join(f"f{i},0.1,0.0,{int(i != 3)}\n" for i in range(5)))


def test_a_localize_run_inside_its_map_folder_shows_the_map_and_both_trajectories(tmp_path):
    points, colours = _room(300)
    folder = make_map_folder(tmp_path / "map", points, colours, kind=None)
    _write_localize_run(folder / "localize", "a/path/that/moved")  # posekit localize's default RUN = MAP/localize
    html = build_report_html(folder / "localize")
    data = viewer_data(html, "trajectory-viewer")
    assert data["clouds"][0]["count"] == 300 and f"Map: {folder}" in html
    names = [s["name"] for s in data["series"]]
    assert names == ["keyframe cameras", "ground truth (frames)", "estimated (frames)"]
    assert data["series"][0]["visible"] is False and data["segments"][0]["visible"] is False  # not over the routes
    assert np.allclose(np.array(data["series"][2]["points"])[:, 2], 1.6)  # display up = world z, raised 10 cm
    assert "5 frames, 1 flagged." in html and '<section id="errors">' in html


def test_a_localize_run_whose_map_is_gone_still_shows_its_trajectories(tmp_path):
    _write_localize_run(tmp_path / "run", str(tmp_path / "no_map"))
    html = build_report_html(tmp_path / "run")
    assert "was not found: trajectories only" in html
    data = viewer_data(html, "trajectory-viewer")
    assert data["clouds"] == [] and [s["name"] for s in data["series"]] == ["ground truth (frames)", "estimated (frames)"]


def test_the_geometry_file_is_the_one_the_manifest_names(tmp_path):
    from posekit.viz.report.map_view import geometry_file

    assert geometry_file(tmp_path, {"kind": "sparse", "files": {"points_ply": "cloud.ply"}}) == tmp_path / "cloud.ply"
    assert geometry_file(tmp_path, {"kind": "sparse"}) == tmp_path / "points.ply"
    assert geometry_file(tmp_path, {"mesh": {"file": "fused.ply"}}) == tmp_path / "fused.ply"
    assert geometry_file(tmp_path, {}) == tmp_path / "mesh.ply"


def test_frustum_depth_follows_the_keyframe_spacing_within_the_extent(tmp_path):
    from posekit.viz.report.map_view import frustum_depth

    points, colours = _room(200)  # a 3 m room
    geometry = load_map_geometry(make_map_folder(tmp_path / "map", points, colours))  # 4 cameras 1/3 m apart
    assert frustum_depth(geometry) == pytest.approx(0.1 * np.ptp(geometry.points, axis=0).max())  # capped at 10 %
    geometry.keyframe_poses = _upright_poses(101)  # 1 cm apart
    assert frustum_depth(geometry) == pytest.approx(0.01 * np.ptp(geometry.points, axis=0).max())  # at least 1 %
