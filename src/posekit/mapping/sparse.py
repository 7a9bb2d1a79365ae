"""Build a sparse point map from posed RGB-only frames with COLMAP (pycolmap), keeping the poses fixed.

1. SIFT features of every frame at the working size (:class:`~posekit.mapping.sparse_features.SiftExtractor`),
   written with the camera, rig, frames and images into a COLMAP database in a temporary folder;
2. image pairs from the known poses: each frame with its ``neighbours`` nearest frames (position) that look
   within ``max_pair_angle_deg`` of its direction; COLMAP matches them and verifies each pair's two-view geometry
   (``pycolmap.match_image_pairs``);
3. a reconstruction with the known poses (``T_cam_world = inv(T_world_cam)``), triangulated by COLMAP's point
   triangulator (``pycolmap.triangulate_points``: track building, triangulation-angle and reprojection checks,
   bundle adjustment of the points with the poses held constant);
4. per point its position, colour and track; per observation its pixel and descriptor (for 2D-3D matching);
   keyframes = all frames (colour at the working size, pose, global descriptor for retrieval).

The folder layout is :mod:`posekit.mapping.sparse_store`'s.
"""

from __future__ import annotations

import json
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from posekit.data.records import FrameRecord
from posekit.errors import ConfigError, DatasetError
from posekit.fileio import atomic_write_text
from posekit.geometry.camera import PinholeIntrinsics
from posekit.mapping.calibration import ColourModel, RgbdCalibration
from posekit.mapping.descriptors import DESCRIPTOR_BACKBONE, DESCRIPTOR_SIZE, GlobalDescriptor
from posekit.mapping.frames import WorkingSize, load_colour
from posekit.mapping.sparse_features import COLMAP_PIXEL_OFFSET, SiftConfig, SiftExtractor, SiftFeatures, _pycolmap
from posekit.mapping.sparse_store import (
    COLMAP_MODEL,
    DESCRIPTORS,
    KIND,
    POINTS,
    POINTS_PLY,
    SparseMap,
    SparsePoints,
    write_sparse_files,
)
from posekit.mapping.store import MANIFEST, MAP_VERSION, KeyframeStore, _check_same_camera, _library_versions, load_map


@dataclass(frozen=True)
class SparseMapConfig:
    """Settings of :func:`build_sparse_map`.

    Attributes:
        size: working ``(H, W)`` of features and keyframes (and of queries at localisation).
        sift: feature settings.
        neighbours: each frame is matched with this many nearest frames (by position).
        max_pair_angle_deg: ... that look within this angle of its viewing direction.
        min_triangulation_angle_deg: COLMAP's minimum angle between rays of a new point.
        max_reprojection_px: COLMAP's track filter (at the working size).
    """

    size: WorkingSize = WorkingSize(192, 640)
    sift: SiftConfig = SiftConfig()
    neighbours: int = 5
    max_pair_angle_deg: float = 45.0
    min_triangulation_angle_deg: float = 1.5
    max_reprojection_px: float = 4.0


def default_sparse_size(camera: PinholeIntrinsics, longest: int = 640) -> WorkingSize:
    """The frames' size scaled (never up) so that its longer side is at most ``longest`` pixels."""
    scale = min(1.0, longest / max(camera.width, camera.height))
    return WorkingSize(max(16, round(camera.height * scale)), max(16, round(camera.width * scale)))


def covisible_pairs(T_world_cam: torch.Tensor, neighbours: int, max_angle_deg: float) -> list[tuple[int, int]]:
    """Sorted unique pairs ``(i, j)``, ``i < j``: each of ``(N, 4, 4)`` poses with its ``neighbours`` nearest poses
    (camera centres) whose optical axes are within ``max_angle_deg`` of its own."""
    centres = T_world_cam[:, :3, 3].double()
    axes = T_world_cam[:, :3, 2].double()
    distance = torch.cdist(centres, centres)
    facing = (axes @ axes.T) >= np.cos(np.radians(max_angle_deg))
    distance[~facing] = float("inf")
    distance.fill_diagonal_(float("inf"))
    pairs = set()
    k = min(neighbours, len(centres) - 1)
    for i, row in enumerate(distance):
        for j in row.topk(k, largest=False).indices.tolist() if k > 0 else []:
            if np.isfinite(float(row[j])):
                pairs.add((min(i, j), max(i, j)))
    return sorted(pairs)


def _colmap_camera(pycolmap, intrinsics: PinholeIntrinsics):
    """A COLMAP PINHOLE camera of posekit ``intrinsics`` (COLMAP's principal point is +0.5 px)."""
    camera = pycolmap.Camera.create_from_model_name(1, "PINHOLE", 0.0, intrinsics.width, intrinsics.height)
    camera.params = [intrinsics.fx, intrinsics.fy, intrinsics.cx + COLMAP_PIXEL_OFFSET, intrinsics.cy + COLMAP_PIXEL_OFFSET]
    return camera


def _write_database(pycolmap, path: Path, image_folder: Path, images: torch.Tensor, features: list[SiftFeatures],
                    intrinsics: PinholeIntrinsics) -> list[str]:
    """A COLMAP database with one camera, one rig, one frame and image per keyframe and their features; the
    images are written (8-bit) to ``image_folder`` for COLMAP's colour look-up. Returns the image names."""
    names = []
    with pycolmap.Database.open(str(path)) as database:
        camera_id = database.write_camera(_colmap_camera(pycolmap, intrinsics))
        sensor = pycolmap.sensor_t(type=pycolmap.SensorType.CAMERA, id=camera_id)
        rig = pycolmap.Rig(rig_id=1)
        rig.add_ref_sensor(sensor)
        rig_id = database.write_rig(rig)
        for index, (image, found) in enumerate(zip(images, features)):
            name = f"{index:06d}.png"
            pixels = (image * 255 + 0.5).clamp(0, 255).to(torch.uint8).permute(1, 2, 0).contiguous().numpy()
            pycolmap.Bitmap.from_array(pixels).write(str(image_folder / name))
            frame = pycolmap.Frame(rig_id=rig_id)
            frame.add_data_id(pycolmap.data_t(sensor_id=sensor, id=index + 1))
            frame_id = database.write_frame(frame)
            image_id = database.write_image(pycolmap.Image(name=name, camera_id=camera_id, frame_id=frame_id,
                                                           image_id=index + 1), use_image_id=True)
            database.write_keypoints(image_id, found.shapes)
            database.write_descriptors(image_id, pycolmap.FeatureDescriptors(pycolmap.FeatureExtractorType.SIFT,
                                                                             found.descriptors))
            names.append(name)
    return names


def _posed_reconstruction(pycolmap, database_path: Path, T_world_cam: torch.Tensor):
    """The database's camera, rig, frames and images with the known poses, all registered (no points)."""
    reconstruction = pycolmap.Reconstruction()
    with pycolmap.Database.open(str(database_path)) as database:
        for camera in database.read_all_cameras():
            reconstruction.add_camera(camera)
        for rig in database.read_all_rigs():
            reconstruction.add_rig(rig)
        images = {image.frame_id: image for image in database.read_all_images()}
        for frame in database.read_all_frames():
            T_cam_world = torch.linalg.inv(T_world_cam[images[frame.frame_id].image_id - 1]).numpy()
            frame.rig_from_world = pycolmap.Rigid3d(np.ascontiguousarray(T_cam_world[:3, :4]))
            reconstruction.add_frame(frame)
        for image in images.values():
            reconstruction.add_image(image)
        for frame_id in list(reconstruction.frames):
            reconstruction.register_frame(frame_id)
    return reconstruction


def _points_of(reconstruction, features: list[SiftFeatures]) -> SparsePoints:
    """Points, colours, errors and per-observation pixels/descriptors of a triangulated reconstruction."""
    xyz, colour, error, obs_point, obs_keyframe, obs_index = [], [], [], [], [], []
    for point_index, point in enumerate(reconstruction.points3D.values()):
        xyz.append(point.xyz)
        colour.append(point.color)
        error.append(point.error)
        for element in point.track.elements:
            obs_point.append(point_index)
            obs_keyframe.append(element.image_id - 1)
            obs_index.append(element.point2D_idx)
    obs_keyframe_np, obs_index_np = np.array(obs_keyframe, dtype=np.int64), np.array(obs_index, dtype=np.int64)
    pixels = np.stack([features[k].pixels[i] for k, i in zip(obs_keyframe, obs_index)]) if obs_index else np.zeros((0, 2))
    descriptors = (np.stack([features[k].descriptors[i] for k, i in zip(obs_keyframe, obs_index)]) if obs_index
                   else np.zeros((0, 128), np.uint8))
    return SparsePoints(np.array(xyz, dtype=np.float64).reshape(-1, 3), np.array(colour, dtype=np.uint8).reshape(-1, 3),
                        np.array(error, dtype=np.float32), np.array(obs_point, dtype=np.int64), obs_keyframe_np,
                        pixels.astype(np.float64), descriptors)


def build_sparse_map(frames: list[FrameRecord], out: str | Path, config: SparseMapConfig = SparseMapConfig(),
                     dataset: dict | None = None, log=print) -> SparseMap:
    """Triangulate posed RGB(-only) ``frames`` into a sparse point map with COLMAP and write the folder ``out``.

    Raises:
        DatasetError: fewer than 2 frames, no matched pair, or no triangulated point.
        ConfigError: frames of different cameras, bad settings.
    """
    if len(frames) < 2:
        raise DatasetError(f"map build: a sparse map needs at least 2 posed frames, got {len(frames)}")
    if config.neighbours < 1:
        raise ConfigError(f"--neighbours: expected >= 1, got {config.neighbours}")
    pycolmap = _pycolmap()
    camera = _check_same_camera(frames)
    calibration = RgbdCalibration.from_model(camera, ColourModel.REGISTERED)
    intrinsics = camera.resized(config.size.width, config.size.height)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    images = torch.stack([load_colour(f, config.size.hw) for f in frames])
    extractor = SiftExtractor(config.sift)
    features = [extractor(image) for image in images]
    T_world_cam = torch.stack([f.T_world_cam for f in frames]).double()
    pairs = covisible_pairs(T_world_cam, config.neighbours, config.max_pair_angle_deg)
    log(f"SIFT on {len(frames)} frames ({np.mean([len(f.pixels) for f in features]):.0f} keypoints each), "
        f"{len(pairs)} covisible pairs, {time.perf_counter() - start:.1f} s")
    with tempfile.TemporaryDirectory(prefix="posekit-sparse-") as work_text:
        work = Path(work_text)
        (work / "images").mkdir()
        names = _write_database(pycolmap, work / "database.db", work / "images", images, features, intrinsics)
        (work / "pairs.txt").write_text("".join(f"{names[i]} {names[j]}\n" for i, j in pairs), encoding="utf-8")
        matching = pycolmap.FeatureMatchingOptions()
        matching.num_threads = 1
        matching.use_gpu = False
        pycolmap.match_image_pairs(str(work / "database.db"), matching_options=matching,
                                   pairing_options=pycolmap.ImportedPairingOptions(match_list_path=str(work / "pairs.txt")),
                                   device=pycolmap.Device.cpu)
        with pycolmap.Database.open(str(work / "database.db")) as database:
            verified, inlier_matches = database.num_verified_image_pairs(), database.num_inlier_matches()
        if verified == 0:
            raise DatasetError(f"map build: none of the {len(pairs)} covisible image pairs passed COLMAP's two-view "
                               "geometry check (too few frames, or frames that do not overlap)")
        options = pycolmap.IncrementalPipelineOptions()
        options.num_threads = 1
        options.fix_existing_frames = True
        options.triangulation.min_angle = config.min_triangulation_angle_deg
        options.mapper.filter_max_reproj_error = config.max_reprojection_px
        posed = _posed_reconstruction(pycolmap, work / "database.db", T_world_cam)
        (work / "model").mkdir()
        reconstruction = pycolmap.triangulate_points(posed, str(work / "database.db"), str(work / "images"),
                                                     str(work / "model"), options=options)
    points = _points_of(reconstruction, features)
    if len(points.xyz) == 0:
        raise DatasetError(f"map build: COLMAP triangulated no point from {len(frames)} frames ({verified} verified pairs)")
    triangulation_s = time.perf_counter() - start
    log(f"COLMAP: {verified}/{len(pairs)} verified pairs, {len(points.xyz)} points, "
        f"mean reprojection error {reconstruction.compute_mean_reprojection_error():.2f} px, {triangulation_s:.1f} s")
    (out / COLMAP_MODEL).mkdir(exist_ok=True)
    reconstruction.write(str(out / COLMAP_MODEL))
    descriptors = GlobalDescriptor()(images)
    keyframes = KeyframeStore([f.key for f in frames], images, torch.zeros(len(frames), 1, 1, 1), T_world_cam, descriptors)
    write_sparse_files(out, points, keyframes)
    manifest = {
        "posekit_map_version": MAP_VERSION,
        "kind": KIND,
        "dataset": dataset or {},
        "frames_used": [f.key for f in frames],
        "keyframes": [f.key for f in frames],
        "calibration": calibration.to_dict(),
        "camera_working_size": {"fx": intrinsics.fx, "fy": intrinsics.fy, "cx": intrinsics.cx, "cy": intrinsics.cy,
                                "width": intrinsics.width, "height": intrinsics.height},
        "units": {"length": "m", "points": "world metres", "pixels": "working size, pixel centres at integers",
                  "poses": "T_world_cam (file poses)"},
        "voxel_size_m": None,
        "working_size_hw": list(config.size.hw),
        "features": config.sift.to_dict(),
        "matching": {"pairs": len(pairs), "verified_pairs": int(verified), "inlier_matches": int(inlier_matches),
                     "neighbours": config.neighbours, "max_pair_angle_deg": config.max_pair_angle_deg},
        "triangulation": {"library": "pycolmap.triangulate_points (poses fixed)",
                          "min_angle_deg": config.min_triangulation_angle_deg,
                          "max_reprojection_px": config.max_reprojection_px, "points": int(len(points.xyz)),
                          "observations": int(len(points.obs_point)),
                          "mean_track_length": float(points.track_length.mean()),
                          "mean_reprojection_error_px": float(reconstruction.compute_mean_reprojection_error())},
        "descriptor": {"backbone": DESCRIPTOR_BACKBONE, "size_hw": list(DESCRIPTOR_SIZE), "weights": "imagenet"},
        "files": {"points_ply": POINTS_PLY, "points": POINTS, "descriptors": DESCRIPTORS, "colmap_model": COLMAP_MODEL},
        "build_seconds": round(time.perf_counter() - start, 2),
        "libraries": {**_library_versions(), "pycolmap": pycolmap.__version__},
    }
    atomic_write_text(out / MANIFEST, json.dumps(manifest, indent=1) + "\n")
    log(f"sparse map written to {out}: {len(frames)} keyframes, {len(points.xyz)} points, "
        f"{time.perf_counter() - start:.1f} s in all")
    return load_map(out)
