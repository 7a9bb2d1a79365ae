"""A map folder: build it from posed RGB-D frames, load it back.

Layout::

    MAP/
      manifest.json   kind (dense), frames fused, keyframes, depth and colour intrinsics, colour-to-depth
                      offset, units, voxel size, working size, descriptor, library versions
      mesh.ply        the TSDF mesh with vertex colours (any mesh tool opens it)
      keyframes.npz   per keyframe: colour image (uint8, working size, colour camera), the mesh's depth in the
                      colour camera (uint16 millimetres), T_world_depth (the file pose), global descriptor

Keyframe depth is rendered from the fused mesh in the *colour* camera, so every keyframe pixel has the depth
of what it sees (7-Scenes colour is not registered to its depth image).
"""

from __future__ import annotations

import json
import platform
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from posekit import __version__
from posekit.data.records import FrameRecord
from posekit.errors import ConfigError, DatasetError, FileFormatError
from posekit.fileio import atomic_open, atomic_write_text
from posekit.geometry.camera import PinholeIntrinsics
from posekit.mapping.calibration import ColourModel, RgbdCalibration
from posekit.mapping.descriptors import DESCRIPTOR_BACKBONE, DESCRIPTOR_SIZE, GlobalDescriptor
from posekit.mapping.frames import WorkingSize, load_colour, load_depth
from posekit.mapping.render import MeshRenderer
from posekit.mapping.tsdf import FusionFrame, TsdfConfig, fuse_tsdf, write_mesh_ply

MANIFEST = "manifest.json"
MESH = "mesh.ply"
KEYFRAMES = "keyframes.npz"
MAP_VERSION = 1


@dataclass(frozen=True)
class MapBuildConfig:
    """Settings of :func:`build_map`.

    Attributes:
        colour_model: how colour relates to depth (:class:`ColourModel`).
        tsdf: fusion settings.
        fuse_every: fuse every n-th selected frame.
        keyframe_every: keep every n-th selected frame as a keyframe.
        size: working ``(H, W)`` of keyframes (and of queries at localisation).
        calibration: a full colour/depth calibration (e.g. from ``posekit map calibrate``); overrides ``colour_model``.
    """

    colour_model: ColourModel = ColourModel.REGISTERED
    tsdf: TsdfConfig = TsdfConfig()
    fuse_every: int = 1
    keyframe_every: int = 5
    size: WorkingSize = WorkingSize(240, 320)
    calibration: RgbdCalibration | None = None


@dataclass
class KeyframeStore:
    """Keyframes of a map.

    Attributes:
        names: ``K`` frame keys.
        images: ``(K, 3, H, W)`` float colour in [0, 1] (colour camera, working size).
        depth: ``(K, 1, H, W)`` metres, the mesh's depth in the colour camera (0 = no surface).
        T_world_depth: ``(K, 4, 4)`` float64 file (depth-camera) poses.
        descriptors: ``(K, C)`` unit-norm global descriptors.
    """

    names: list[str]
    images: torch.Tensor
    depth: torch.Tensor
    T_world_depth: torch.Tensor
    descriptors: torch.Tensor


@dataclass
class PoseMap:
    """A loaded map: manifest, calibration, keyframes, the mesh renderer (built on first use)."""

    folder: Path
    manifest: dict
    calibration: RgbdCalibration
    keyframes: KeyframeStore

    @property
    def size(self) -> WorkingSize:
        return WorkingSize(*self.manifest["working_size_hw"])

    @property
    def colour_intrinsics(self) -> PinholeIntrinsics:
        """The colour camera at the working size."""
        return self.calibration.colour.resized(self.size.width, self.size.height)

    @property
    def kind(self) -> str:
        """``dense`` (TSDF mesh + keyframe depth) or ``sparse`` (triangulated points); manifests without it: dense."""
        return self.manifest.get("kind", "dense")

    def renderer(self, threads: int = 1) -> MeshRenderer:
        if getattr(self, "_renderer", None) is None:
            self._renderer = MeshRenderer(self.folder / MESH, threads)
        return self._renderer


def _library_versions() -> dict:
    import open3d

    return {"posekit": __version__, "open3d": open3d.__version__, "torch": torch.__version__,
            "numpy": np.__version__, "python": platform.python_version()}


def _check_same_camera(frames: list[FrameRecord]) -> PinholeIntrinsics:
    first = frames[0].intrinsics
    for frame in frames:
        if frame.intrinsics != first:
            raise ConfigError(f"{frame.key}: intrinsics {frame.intrinsics} differ from {frames[0].key}'s {first}; "
                              "a map is built from one camera")
    return first


def build_map(frames: list[FrameRecord], out: str | Path, config: MapBuildConfig = MapBuildConfig(),
              dataset: dict | None = None, log=print) -> PoseMap:
    """Fuse ``frames`` (posed RGB-D) into a mesh, keep keyframes, write the map folder ``out``.

    Raises:
        DatasetError: no frame, a frame without depth, an empty fusion.
        ConfigError: frames of different cameras.
    """
    if not frames:
        raise DatasetError("map build: no frame selected")
    if config.fuse_every < 1 or config.keyframe_every < 1:
        raise ConfigError("--fuse-every and --keyframe-every must be >= 1")
    camera = _check_same_camera(frames)
    calibration = config.calibration or RgbdCalibration.from_model(camera, config.colour_model)
    if calibration.depth != camera:
        raise ConfigError(f"--calibration: its depth camera {calibration.depth} is not the frames' {camera}")
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    fused = frames[:: config.fuse_every]
    mesh = fuse_tsdf((FusionFrame(load_colour(f), load_depth(f), f.T_world_cam) for f in fused), calibration, config.tsdf)
    fusion_s = time.perf_counter() - start
    write_mesh_ply(mesh, out / MESH)
    log(f"fused {len(fused)} frames into {mesh.triangle.indices.shape[0]} triangles in {fusion_s:.1f} s")

    chosen = frames[:: config.keyframe_every]
    renderer = MeshRenderer(out / MESH)
    k_work = calibration.colour.resized(config.size.width, config.size.height)
    images = torch.stack([load_colour(f, config.size.hw) for f in chosen])
    depth = torch.cat([renderer.render(calibration.T_world_colour(f.T_world_cam), k_work).depth for f in chosen])
    descriptors = GlobalDescriptor()(images)
    poses = torch.stack([f.T_world_cam for f in chosen])
    with atomic_open(out / KEYFRAMES, "wb", encoding=None) as handle:
        np.savez_compressed(
            handle, names=np.array([f.key for f in chosen]),
            images=(images * 255 + 0.5).clamp(0, 255).to(torch.uint8).permute(0, 2, 3, 1).numpy(),
            depth_mm=(depth[:, 0] * 1000 + 0.5).clamp(0, 65535).to(torch.int32).numpy().astype(np.uint16),
            T_world_depth=poses.numpy(), descriptors=descriptors.numpy().astype(np.float32),
        )
    manifest = {
        "posekit_map_version": MAP_VERSION,
        "kind": "dense",
        "dataset": dataset or {},
        "frames_fused": [f.key for f in fused],
        "keyframes": [f.key for f in chosen],
        "calibration": calibration.to_dict(),
        "units": {"length": "m", "keyframe_depth": "uint16 mm", "poses": "T_world_depth (file poses)"},
        "voxel_size_m": config.tsdf.voxel_size,
        "depth_max_m": config.tsdf.depth_max,
        "tsdf_weight_threshold": config.tsdf.weight_threshold,
        "working_size_hw": list(config.size.hw),
        "descriptor": {"backbone": DESCRIPTOR_BACKBONE, "size_hw": list(DESCRIPTOR_SIZE), "weights": "imagenet"},
        "mesh": {"file": MESH, "vertices": int(mesh.vertex.positions.shape[0]),
                 "triangles": int(mesh.triangle.indices.shape[0])},
        "build_seconds": round(time.perf_counter() - start, 2),
        "libraries": _library_versions(),
    }
    atomic_write_text(out / MANIFEST, json.dumps(manifest, indent=1) + "\n")
    log(f"map written to {out}: {len(chosen)} keyframes, {time.perf_counter() - start:.1f} s in all")
    return load_map(out)


def load_map(folder: str | Path) -> PoseMap:
    """Load a map folder written by :func:`build_map` or (``kind: sparse``)
    :func:`posekit.mapping.sparse.build_sparse_map`.

    Raises:
        FileFormatError: a missing or malformed manifest, mesh or keyframe file.
    """
    folder = Path(folder)
    manifest_path = folder / MANIFEST
    if not manifest_path.is_file():
        raise FileFormatError(manifest_path, "not a posekit map (no manifest.json); build one with `posekit map build`")
    try:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
        calibration = RgbdCalibration.from_dict(manifest["calibration"])
        _ = manifest["working_size_hw"]
    except (json.JSONDecodeError, KeyError, TypeError, ValueError) as error:
        raise FileFormatError(manifest_path, f"malformed map manifest: {error}") from None
    if manifest.get("posekit_map_version") != MAP_VERSION:
        raise FileFormatError(manifest_path, f"map version {manifest.get('posekit_map_version')}, expected {MAP_VERSION}")
    if manifest.get("kind", "dense") == "sparse":
        from posekit.mapping.sparse_store import load_sparse_map

        return load_sparse_map(folder, manifest, calibration)
    if manifest.get("kind", "dense") != "dense":
        raise FileFormatError(manifest_path, f"unknown map kind {manifest['kind']!r}; expected dense or sparse")
    for name in (MESH, KEYFRAMES):
        if not (folder / name).is_file():
            raise FileFormatError(folder / name, "missing map file")
    try:
        with np.load(folder / KEYFRAMES) as data:
            store = KeyframeStore(
                names=[str(n) for n in data["names"]],
                images=torch.from_numpy(data["images"]).permute(0, 3, 1, 2).float() / 255.0,
                depth=torch.from_numpy(data["depth_mm"].astype(np.float32) / 1000.0)[:, None],
                T_world_depth=torch.from_numpy(data["T_world_depth"]).to(torch.float64),
                descriptors=torch.from_numpy(data["descriptors"]).float(),
            )
    except (KeyError, ValueError, OSError) as error:
        raise FileFormatError(folder / KEYFRAMES, f"malformed keyframe file: {error}") from None
    if len(store.names) == 0:
        raise FileFormatError(folder / KEYFRAMES, "the map has no keyframes")
    return PoseMap(folder, manifest, calibration, store)
