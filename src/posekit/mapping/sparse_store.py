"""A sparse map folder (``kind: sparse``): triangulated 3-D points, their descriptors, keyframes for retrieval.

Layout::

    MAP/
      manifest.json     kind "sparse", frames used, keyframes, camera (intrinsics at the stored and working size),
                        units, features, matching and triangulation settings and counts, library versions
      points.ply        the 3-D points with grey/colour (Open3D, MeshLab, CloudCompare open it)
      points.npz        xyz (P, 3) float64 metres (world), colour (P, 3) uint8, error_px (P,) float32 (COLMAP's
                        mean reprojection error at the working size), track_length (P,) int32
      descriptors.npz   one row per observation (a point seen in a keyframe): point (O,) int32, keyframe (O,)
                        int32, pixel (O, 2) float32 (working size, posekit pixel convention), descriptor (O, 128)
                        uint8 (COLMAP SIFT): what 2D-3D matching of a query needs
      keyframes.npz     as a dense map's, without depth: names, images (K, H, W, 3) uint8 at the working size,
                        T_world_depth (K, 4, 4) (the file poses; colour = file camera), global descriptors
      colmap/           the pycolmap reconstruction (cameras.bin, images.bin, points3D.bin ...): COLMAP opens it

A loaded sparse map is a :class:`~posekit.mapping.store.PoseMap` (so retrieval and the run-folder code work
unchanged) whose keyframe depth is unknown (0) and which has no mesh to render.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from posekit.errors import ConfigError, DatasetError, FileFormatError
from posekit.fileio import atomic_open
from posekit.mapping.store import KEYFRAMES, KeyframeStore, PoseMap

KIND = "sparse"
POINTS_PLY = "points.ply"
POINTS = "points.npz"
DESCRIPTORS = "descriptors.npz"
COLMAP_MODEL = "colmap"


@dataclass
class SparsePoints:
    """The 3-D points of a sparse map and their observations.

    Attributes:
        xyz: ``(P, 3)`` float64 world points, metres.
        colour: ``(P, 3)`` uint8.
        error_px: ``(P,)`` float32 mean reprojection error of each point's track (working size).
        obs_point: ``(O,)`` int64 point index of each observation.
        obs_keyframe: ``(O,)`` int64 keyframe index of each observation.
        obs_pixel: ``(O, 2)`` float64 pixel of each observation (working size, posekit convention).
        obs_descriptor: ``(O, 128)`` uint8 SIFT descriptor of each observation.
    """

    xyz: np.ndarray
    colour: np.ndarray
    error_px: np.ndarray
    obs_point: np.ndarray
    obs_keyframe: np.ndarray
    obs_pixel: np.ndarray
    obs_descriptor: np.ndarray

    @property
    def track_length(self) -> np.ndarray:
        """``(P,)`` observations per point."""
        return np.bincount(self.obs_point, minlength=len(self.xyz))


@dataclass
class SparseMap(PoseMap):
    """A loaded sparse map: the :class:`PoseMap` fields plus its :class:`SparsePoints`."""

    points: SparsePoints | None = None

    def renderer(self, threads: int = 1):
        raise ConfigError(f"{self.folder}: a sparse map has no mesh to render (build a dense map from RGB-D frames)")


def write_points_ply(xyz: np.ndarray, colour: np.ndarray, path: Path) -> None:
    """A binary PLY point cloud with 8-bit colours (through Open3D), written atomically."""
    import open3d as o3d

    cloud = o3d.geometry.PointCloud(o3d.utility.Vector3dVector(np.asarray(xyz, dtype=np.float64)))
    cloud.colors = o3d.utility.Vector3dVector(np.asarray(colour, dtype=np.float64) / 255.0)
    partial = path.with_name(f".{path.stem}.partial{path.suffix}")
    if not o3d.io.write_point_cloud(str(partial), cloud, write_ascii=False, compressed=False):
        raise DatasetError(f"{path}: Open3D could not write the point cloud")
    os.replace(partial, path)


def write_sparse_files(out: Path, points: SparsePoints, keyframes: KeyframeStore) -> None:
    """Write ``points.ply``, ``points.npz``, ``descriptors.npz`` and ``keyframes.npz`` into ``out``."""
    write_points_ply(points.xyz, points.colour, out / POINTS_PLY)
    with atomic_open(out / POINTS, "wb", encoding=None) as handle:
        np.savez_compressed(handle, xyz=points.xyz, colour=points.colour, error_px=points.error_px.astype(np.float32),
                            track_length=points.track_length.astype(np.int32))
    with atomic_open(out / DESCRIPTORS, "wb", encoding=None) as handle:
        np.savez_compressed(handle, point=points.obs_point.astype(np.int32), keyframe=points.obs_keyframe.astype(np.int32),
                            pixel=points.obs_pixel.astype(np.float32), descriptor=points.obs_descriptor)
    with atomic_open(out / KEYFRAMES, "wb", encoding=None) as handle:
        np.savez_compressed(
            handle, names=np.array(keyframes.names),
            images=(keyframes.images * 255 + 0.5).clamp(0, 255).to(torch.uint8).permute(0, 2, 3, 1).numpy(),
            T_world_depth=keyframes.T_world_depth.numpy(), descriptors=keyframes.descriptors.numpy().astype(np.float32))


def load_sparse_map(folder: Path, manifest: dict, calibration) -> SparseMap:
    """The sparse map in ``folder`` whose ``manifest`` and calibration :func:`~posekit.mapping.store.load_map` read.

    Raises:
        FileFormatError: a missing or malformed file, or a map without points or keyframes.
    """
    for name in (POINTS, DESCRIPTORS, KEYFRAMES):
        if not (folder / name).is_file():
            raise FileFormatError(folder / name, "missing map file")
    try:
        with np.load(folder / KEYFRAMES) as data:
            images = torch.from_numpy(data["images"]).permute(0, 3, 1, 2).float() / 255.0
            keyframes = KeyframeStore(
                names=[str(n) for n in data["names"]], images=images,
                depth=torch.zeros(1, 1, *images.shape[-2:]).expand(images.shape[0], -1, -1, -1),
                T_world_depth=torch.from_numpy(data["T_world_depth"]).to(torch.float64),
                descriptors=torch.from_numpy(data["descriptors"]).float())
    except (KeyError, ValueError, OSError) as error:
        raise FileFormatError(folder / KEYFRAMES, f"malformed keyframe file: {error}") from None
    try:
        with np.load(folder / POINTS) as data:
            xyz, colour, error_px = data["xyz"].astype(np.float64), data["colour"], data["error_px"]
    except (KeyError, ValueError, OSError) as error:
        raise FileFormatError(folder / POINTS, f"malformed points file: {error}") from None
    try:
        with np.load(folder / DESCRIPTORS) as data:
            obs = (data["point"].astype(np.int64), data["keyframe"].astype(np.int64), data["pixel"].astype(np.float64),
                   data["descriptor"])
    except (KeyError, ValueError, OSError) as error:
        raise FileFormatError(folder / DESCRIPTORS, f"malformed descriptor file: {error}") from None
    if len(keyframes.names) == 0:
        raise FileFormatError(folder / KEYFRAMES, "the map has no keyframes")
    if len(xyz) == 0:
        raise FileFormatError(folder / POINTS, "the map has no 3-D points")
    if len(obs[0]) == 0 or obs[0].max() >= len(xyz) or obs[1].max() >= len(keyframes.names) or obs[3].shape[1:] != (128,):
        raise FileFormatError(folder / DESCRIPTORS, f"observations do not fit {len(xyz)} points and "
                                                    f"{len(keyframes.names)} keyframes (or are not 128-byte SIFT)")
    points = SparsePoints(xyz, colour, error_px, *obs)
    return SparseMap(folder, manifest, calibration, keyframes, points)
