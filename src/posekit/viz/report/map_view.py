"""A map folder (``posekit map build``) as the report shows it: its manifest's facts and its geometry (a thinned,
coloured point cloud of the mesh vertices or of the sparse points) with the keyframe cameras, in the 3-D viewer.

Both kinds of map are read the same way: the manifest's ``kind`` (``dense``, the default when the field is
absent, or ``sparse``) names the geometry file (``mesh.ply`` or ``points.ply``, or the file the manifest names),
and Open3D reads the vertices and their colours of either a triangle mesh or a point cloud PLY. Keyframe poses come
from ``keyframes.npz`` (``T_world_depth``, the dataset's file poses) when the map has one.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from posekit.errors import FileFormatError
from posekit.geometry.camera import PinholeIntrinsics
from posekit.viz.report.html import escape, note, table
from posekit.viz.report.viewer import MAX_CLOUD_POINTS, ViewerCloud, ViewerSegments, thin_indices

# The map folder's files as posekit.mapping.store writes them (not imported from there: posekit.mapping loads the
# descriptor networks, which every `posekit report` would then pay for; tests/viz/test_map_report.py checks them).
MANIFEST, MESH, KEYFRAMES = "manifest.json", "mesh.ply", "keyframes.npz"
SPARSE_POINTS = "points.ply"
DENSE, SPARSE = "dense", "sparse"
KEYFRAME_COLOUR = "rgba(214, 39, 40, 0.55)"
# Keyframe pose arrays a map's keyframes.npz may hold (file poses first).
_KEYFRAME_POSE_KEYS = ("T_world_depth", "T_world_cam")


@dataclass
class MapGeometry:
    """What the report draws of a map.

    Attributes:
        folder: the map folder.
        manifest: its parsed ``manifest.json``.
        geometry_file: the PLY read.
        points: ``(N, 3)`` float64 world points, thinned to at most ``limit`` (at random, fixed seed).
        colours: ``(N, 3)`` uint8 RGB (grey where the PLY has no colours).
        total_points: how many points the PLY has.
        keyframe_poses: ``(K, 4, 4)`` float64 ``T_world_cam`` of the keyframes (``K = 0`` when the map has none).
        frustum_intrinsics: the camera the keyframe frustums are drawn with (``None``: no calibration).
        T_cam_frustum: ``(4, 4)`` pose of the frustum's camera in the keyframe pose's camera (the colour camera
            in the depth camera).
    """

    folder: Path
    manifest: dict
    geometry_file: Path
    points: np.ndarray
    colours: np.ndarray
    total_points: int
    keyframe_poses: np.ndarray
    frustum_intrinsics: PinholeIntrinsics | None
    T_cam_frustum: np.ndarray

    @property
    def kind(self) -> str:
        return map_kind(self.manifest)


def is_map_folder(folder: str | Path) -> bool:
    """Whether ``folder`` holds a map manifest."""
    return (Path(folder) / MANIFEST).is_file()


def map_kind(manifest: dict) -> str:
    """``dense`` (also when the manifest predates the ``kind`` field) or ``sparse``."""
    return str(manifest.get("kind", DENSE))


def read_manifest(folder: str | Path) -> dict:
    """The parsed manifest of a map folder.

    Raises:
        FileFormatError: no manifest, not JSON, or not a JSON object.
    """
    path = Path(folder) / MANIFEST
    if not path.is_file():
        raise FileFormatError(path, "not a posekit map (no manifest.json); build one with `posekit map build`")
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise FileFormatError(path, f"malformed map manifest: {error}") from None
    if not isinstance(manifest, dict):
        raise FileFormatError(path, f"malformed map manifest: expected a JSON object, got {type(manifest).__name__}")
    return manifest


def geometry_file(folder: str | Path, manifest: dict) -> Path:
    """The map's geometry PLY: the file its manifest names (``mesh.file`` for a dense map, ``files.points_ply``
    or ``points.file`` for a sparse one), else ``mesh.ply`` for a dense map and ``points.ply`` for a sparse one."""
    kind = map_kind(manifest)
    named = None
    sections = (("files", "points_ply"), ("points", "file")) if kind == SPARSE else (("mesh", "file"),)
    for section, key in sections:
        value = manifest.get(section)
        named = named or (value.get(key) if isinstance(value, dict) else None)
    return Path(folder) / (named or (SPARSE_POINTS if kind == SPARSE else MESH))


def read_ply_points(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """``(points (N, 3) float64, colours (N, 3) uint8)`` of a mesh or point-cloud PLY (its vertices).

    Raises:
        FileFormatError: the file is missing, unreadable or has no points.
    """
    import open3d as o3d

    if not path.is_file():
        raise FileFormatError(path, "missing map geometry (the PLY the manifest names)")
    cloud = o3d.io.read_point_cloud(str(path))
    points = np.asarray(cloud.points, dtype=np.float64)
    if len(points) == 0:
        raise FileFormatError(path, "no points in the map geometry (empty or unreadable PLY)")
    colours = np.asarray(cloud.colors, dtype=np.float64)
    if len(colours) != len(points):
        colours = np.full_like(points, 0.5)
    return points, (np.clip(colours, 0, 1) * 255 + 0.5).astype(np.uint8)


def _keyframe_poses(folder: Path) -> np.ndarray:
    path = folder / KEYFRAMES
    if not path.is_file():
        return np.zeros((0, 4, 4))
    try:
        with np.load(path) as data:  # reads only the pose array, not the images
            key = next((k for k in _KEYFRAME_POSE_KEYS if k in data.files), None)
            poses = np.asarray(data[key], dtype=np.float64) if key else np.zeros((0, 4, 4))
    except (OSError, ValueError) as error:
        raise FileFormatError(path, f"malformed keyframe file: {error}") from None
    if poses.ndim != 3 or poses.shape[1:] != (4, 4):
        raise FileFormatError(path, f"keyframe poses: expected shape (K, 4, 4), got {poses.shape}")
    return poses


def _frustum_camera(manifest: dict) -> tuple[PinholeIntrinsics | None, np.ndarray]:
    """The colour camera at the working size and its pose in the depth camera, when the manifest has them."""
    from posekit.mapping.calibration import RgbdCalibration

    try:
        calibration = RgbdCalibration.from_dict(manifest["calibration"])
        height, width = manifest.get("working_size_hw", (calibration.colour.height, calibration.colour.width))
        return calibration.colour.resized(int(width), int(height)), calibration.T_depth_colour.double().numpy()
    except (KeyError, TypeError, ValueError):
        return None, np.eye(4)


def load_map_geometry(folder: str | Path, limit: int = MAX_CLOUD_POINTS) -> MapGeometry:
    """Read what the report draws of the map folder ``folder`` (at most ``limit`` points).

    Raises:
        FileFormatError: no or a malformed manifest, a missing or empty geometry PLY, a malformed keyframe file.
    """
    folder = Path(folder)
    manifest = read_manifest(folder)
    path = geometry_file(folder, manifest)
    points, colours = read_ply_points(path)
    keep = thin_indices(len(points), limit)
    intrinsics, T_cam_frustum = _frustum_camera(manifest)
    return MapGeometry(folder, manifest, path, points[keep], colours[keep], len(points), _keyframe_poses(folder),
                       intrinsics, T_cam_frustum)


def frustum_segments(T_world_cam: np.ndarray, intrinsics: PinholeIntrinsics,
                     depth_m: float) -> tuple[np.ndarray, np.ndarray]:
    """Starts and ends ``(8K, 3)`` of the frustums of ``K`` cameras ``T_world_cam (K, 4, 4)``: the centre to the
    four image corners at ``depth_m`` along the optical axis, and the rectangle joining them."""
    w, h = intrinsics.width - 1, intrinsics.height - 1
    corners_px = np.array([[0, 0], [w, 0], [w, h], [0, h]], dtype=np.float64)
    corners_cam = np.stack([(corners_px[:, 0] - intrinsics.cx) / intrinsics.fx,
                            (corners_px[:, 1] - intrinsics.cy) / intrinsics.fy, np.ones(4)], axis=1) * depth_m
    corners = corners_cam @ T_world_cam[:, :3, :3].transpose(0, 2, 1) + T_world_cam[:, None, :3, 3]  # (K, 4, 3)
    centres = np.repeat(T_world_cam[:, None, :3, 3], 4, axis=1)
    starts = np.concatenate((centres, corners), axis=1)
    ends = np.concatenate((corners, np.roll(corners, -1, axis=1)), axis=1)
    return starts.reshape(-1, 3), ends.reshape(-1, 3)


def frustum_depth(geometry: MapGeometry) -> float:
    """How deep the keyframe frustums are drawn (metres): twice the median spacing of the keyframes, at least 1 %
    and at most 10 % of the cloud's extent (visible in a room and along a road, yet not hiding the scene)."""
    extent = float(np.ptp(geometry.points, axis=0).max()) if len(geometry.points) > 1 else 1.0
    positions = geometry.keyframe_poses[:, :3, 3]
    spacing = float(np.median(np.linalg.norm(np.diff(positions, axis=0), axis=1))) if len(positions) > 1 else 0.0
    return min(0.1 * extent, max(2 * spacing, 0.01 * extent))


def map_viewer_parts(geometry: MapGeometry, to_display, frustums_visible: bool = True,
                     ) -> tuple[list[ViewerCloud], list[ViewerSegments], np.ndarray]:
    """The cloud, the keyframe frustums (shown when the page opens if ``frustums_visible``) and the keyframe
    positions ``(K, 3)`` in the display frame; ``to_display`` maps ``(N, 3)`` world points into it."""
    name = "map points" if geometry.kind == SPARSE else "map (mesh vertices)"
    clouds = [ViewerCloud(name, to_display(geometry.points), geometry.colours, geometry.total_points)]
    poses = geometry.keyframe_poses
    if len(poses) == 0 or geometry.frustum_intrinsics is None:
        return clouds, [], to_display(poses[:, :3, 3]) if len(poses) else np.zeros((0, 3))
    T_world_frustum = poses @ geometry.T_cam_frustum
    starts, ends = frustum_segments(T_world_frustum, geometry.frustum_intrinsics, frustum_depth(geometry))
    segments = [ViewerSegments("keyframe frustums", to_display(starts), to_display(ends), KEYFRAME_COLOUR,
                               frustums_visible)]
    return clouds, segments, to_display(poses[:, :3, 3])


def _fact(value: object) -> object:
    """A manifest value as a table cell: lists of frames as their count, first and last."""
    if isinstance(value, list) and value and all(isinstance(v, str) for v in value):
        return f"{len(value)}: {value[0]} … {value[-1]}" if len(value) > 1 else f"1: {value[0]}"
    if isinstance(value, (int, float, str, bool)) or value is None:
        return value
    return json.dumps(value)


def _flat_facts(mapping: dict, prefix: str = "") -> list[tuple[str, object]]:
    rows: list[tuple[str, object]] = []
    for key, value in mapping.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict) and value and name != "calibration.T_depth_colour":
            rows += _flat_facts(value, f"{name}.")
        else:
            rows.append((name, _fact(value)))
    return rows


def manifest_table(geometry: MapGeometry) -> str:
    """The manifest's facts (frames, intrinsics, units, voxel size, library versions ...) as a table."""
    rows = [("kind", geometry.kind + ("" if "kind" in geometry.manifest else " (no kind field: dense)")),
            ("geometry file", geometry.geometry_file.name), ("geometry points", geometry.total_points),
            ("keyframe cameras", len(geometry.keyframe_poses))]
    rows += [(k, v) for k, v in _flat_facts(geometry.manifest) if k != "kind"]
    return table(["fact", "value"], rows, css_class="config")


def geometry_note(geometry: MapGeometry) -> str:
    """How many points the viewer draws of how many, and what the cameras are."""
    drawn = len(geometry.points)
    text = (f"{drawn} of the {geometry.total_points} points of {geometry.geometry_file.name} drawn"
            + (" (thinned at random, fixed seed)" if drawn < geometry.total_points else "")
            + f"; {len(geometry.keyframe_poses)} keyframe cameras")
    if geometry.frustum_intrinsics is not None and len(geometry.keyframe_poses):
        text += " (frustums of the colour camera at the working size)"
    return f"<p>{escape(text)}.</p>" if drawn else note(text)

