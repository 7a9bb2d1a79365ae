"""Render a map's triangle mesh at a camera pose: colour (vertex colours, barycentric) and exact z-depth.

CPU ray casting with Open3D's ``RaycastingScene`` (Embree); rays go through pixel centres at integer
coordinates, so the depth is the z-depth of posekit's convention.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from posekit.errors import FileFormatError, RenderError
from posekit.geometry.camera import PinholeIntrinsics


@dataclass
class MapView:
    """A rendering: ``colour (1, 3, H, W)`` in [0, 1] (0 where nothing is hit), ``depth (1, 1, H, W)`` metres
    (0 = nothing hit)."""

    colour: torch.Tensor
    depth: torch.Tensor

    @property
    def coverage(self) -> float:
        """Share of pixels that see the mesh."""
        return float((self.depth > 0).float().mean())


class MeshRenderer:
    """Ray caster of one coloured triangle mesh (Open3D legacy or tensor mesh, or a PLY path)."""

    def __init__(self, mesh, threads: int = 1):
        import open3d as o3d

        if isinstance(mesh, (str, Path)):
            legacy = o3d.io.read_triangle_mesh(str(mesh))
            if len(legacy.triangles) == 0:
                raise FileFormatError(mesh, "no triangles in the mesh (missing or empty PLY)")
            mesh = legacy
        if isinstance(mesh, o3d.geometry.TriangleMesh):
            vertices = np.asarray(mesh.vertices, dtype=np.float32)
            triangles = np.asarray(mesh.triangles, dtype=np.int64)
            colours = np.asarray(mesh.vertex_colors, dtype=np.float32)
        else:
            vertices = mesh.vertex.positions.numpy().astype(np.float32)
            triangles = mesh.triangle.indices.numpy().astype(np.int64)
            colours = mesh.vertex.colors.numpy().astype(np.float32) if "colors" in mesh.vertex else None
        if len(triangles) == 0:
            raise RenderError("the map mesh has no triangles")
        if colours is None or len(colours) != len(vertices):
            colours = np.full_like(vertices, 0.5)
        self._triangle_colours = torch.from_numpy(np.clip(colours, 0, 1)[triangles])  # (T, 3 vertices, 3)
        scene = o3d.t.geometry.RaycastingScene()
        scene.add_triangles(o3d.core.Tensor(vertices), o3d.core.Tensor(triangles.astype(np.uint32)))
        self._scene = scene
        self._threads = threads
        self._o3d = o3d

    def render(self, T_world_cam: torch.Tensor, intrinsics: PinholeIntrinsics) -> MapView:
        """Colour and depth seen by a camera with pose ``T_world_cam (4, 4)`` and ``intrinsics``."""
        h, w = intrinsics.height, intrinsics.width
        pose = T_world_cam.detach().to(torch.float64).reshape(4, 4).numpy()
        v, u = np.meshgrid(np.arange(h, dtype=np.float64), np.arange(w, dtype=np.float64), indexing="ij")
        rays_cam = np.stack(((u - intrinsics.cx) / intrinsics.fx, (v - intrinsics.cy) / intrinsics.fy, np.ones_like(u)), -1)
        directions = rays_cam @ pose[:3, :3].T
        origins = np.broadcast_to(pose[:3, 3], directions.shape)
        rays = np.concatenate((origins, directions), -1).astype(np.float32)
        hit = self._scene.cast_rays(self._o3d.core.Tensor(rays), nthreads=self._threads)
        t_hit = hit["t_hit"].numpy()
        found = np.isfinite(t_hit)
        depth = np.where(found, t_hit, 0.0).astype(np.float32)
        ids = hit["primitive_ids"].numpy().astype(np.int64)
        uvs = torch.from_numpy(hit["primitive_uvs"].numpy())
        ids_t = torch.from_numpy(np.where(found, ids, 0))
        corner = self._triangle_colours[ids_t.reshape(-1)].reshape(h, w, 3, 3)
        weights = torch.stack((1 - uvs[..., 0] - uvs[..., 1], uvs[..., 0], uvs[..., 1]), -1)  # (H, W, 3)
        colour = (weights[..., None] * corner).sum(-2) * torch.from_numpy(found)[..., None]
        return MapView(colour.permute(2, 0, 1)[None].float().clamp(0, 1), torch.from_numpy(depth)[None, None])
