"""TSDF fusion of posed RGB-D frames into a coloured triangle mesh, with Open3D's tensor ``VoxelBlockGrid``.

Open3D is imported inside the functions so that ``import posekit`` stays light. (Its legacy
``ScalableTSDFVolume`` returned an empty mesh on the CPU wheel here; the tensor grid works.)
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from posekit.errors import DatasetError
from posekit.geometry.lie import se3_inverse
from posekit.mapping.calibration import RgbdCalibration, colour_at_depth_pixels


@dataclass(frozen=True)
class TsdfConfig:
    """Settings of :func:`fuse_tsdf`.

    Attributes:
        voxel_size: voxel edge in metres.
        depth_max: depths beyond this (m) are not fused.
        truncation_voxels: truncation distance in voxels.
        block_count: initial hash-map capacity (voxel blocks of 16^3).
        weight_threshold: a surface needs this much accumulated weight to be meshed.
    """

    voxel_size: float = 0.01
    depth_max: float = 3.5
    truncation_voxels: float = 8.0
    block_count: int = 40000
    weight_threshold: float = 3.0


@dataclass(frozen=True)
class FusionFrame:
    """One posed RGB-D frame for fusion: ``colour (3, Hc, Wc)`` in [0, 1], ``depth (1, Hd, Wd)`` metres and the
    depth camera's ``T_world_depth (4, 4)``."""

    colour: torch.Tensor
    depth: torch.Tensor
    T_world_depth: torch.Tensor


def fuse_tsdf(frames: Iterable[FusionFrame], calibration: RgbdCalibration, config: TsdfConfig = TsdfConfig()):
    """Fuse frames into an ``open3d.t.geometry.TriangleMesh`` with per-vertex colours (float [0, 1]).

    Colour is sampled per depth pixel through ``calibration`` (the colour camera's own intrinsics and offset),
    then integrated with the depth camera's intrinsics and pose.

    Raises:
        DatasetError: no frame given, or the fused mesh is empty (no valid depth within ``depth_max``).
    """
    import open3d as o3d
    import open3d.core as o3c

    grid = o3d.t.geometry.VoxelBlockGrid(
        attr_names=("tsdf", "weight", "color"), attr_dtypes=(o3c.float32, o3c.float32, o3c.float32),
        attr_channels=((1), (1), (3)), voxel_size=config.voxel_size, block_resolution=16,
        block_count=config.block_count, device=o3c.Device("CPU:0"),
    )
    k_depth = o3c.Tensor(calibration.depth.matrix(torch.float64).numpy())
    count = 0
    for frame in frames:
        depth = frame.depth.reshape(1, 1, *frame.depth.shape[-2:]).float()
        colour = colour_at_depth_pixels(frame.colour[None].float(), depth, calibration)[0]
        depth_image = o3d.t.geometry.Image(o3c.Tensor(np.ascontiguousarray(depth[0, 0].numpy())))
        colour_image = o3d.t.geometry.Image(o3c.Tensor(np.ascontiguousarray(colour.permute(1, 2, 0).numpy())))
        extrinsic = o3c.Tensor(se3_inverse(frame.T_world_depth.to(torch.float64)).numpy())
        blocks = grid.compute_unique_block_coordinates(depth_image, k_depth, extrinsic, 1.0, config.depth_max,
                                                       config.truncation_voxels)
        grid.integrate(blocks, depth_image, colour_image, k_depth, extrinsic, 1.0, config.depth_max,
                       config.truncation_voxels)
        count += 1
    if count == 0:
        raise DatasetError("TSDF fusion: no frame to fuse")
    mesh = grid.extract_triangle_mesh(weight_threshold=config.weight_threshold)
    if mesh.triangle.indices.shape[0] == 0:
        raise DatasetError(f"TSDF fusion of {count} frame(s) gave an empty mesh (no valid depth below "
                           f"{config.depth_max} m?)")
    return mesh


def write_mesh_ply(mesh, path) -> None:
    """Write an Open3D tensor mesh as a binary PLY with 8-bit vertex colours (readable by any mesh tool)."""
    import open3d as o3d

    path = Path(path)
    partial = path.with_name(f".{path.stem}.partial{path.suffix}")
    if not o3d.io.write_triangle_mesh(str(partial), mesh.to_legacy(), write_ascii=False, compressed=False):
        raise DatasetError(f"{path}: Open3D could not write the mesh")
    os.replace(partial, path)
