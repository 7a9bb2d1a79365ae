"""Shared helpers of the synthetic-data tests: tiny scenes and cameras, so that every test renders fast."""

from __future__ import annotations

import numpy as np
import pytest

from posekit.data.synth.scene import Box3, MeshPart, Scene, SceneLayout, quad_part
from posekit.geometry import PinholeIntrinsics


def plane_scene(normal, point, size: float = 40.0, colors=None, texture=None, lighting=None) -> Scene:
    """One square of ``size`` metres on the plane through ``point`` with unit ``normal``.

    ``colors`` is an optional function ``(V, 3) world points -> (V, 3) vertex colours``.
    """
    normal = np.asarray(normal, np.float64) / np.linalg.norm(normal)
    helper = np.array([1.0, 0.0, 0.0]) if abs(normal[0]) < 0.9 else np.array([0.0, 1.0, 0.0])
    u = np.cross(normal, helper)
    u /= np.linalg.norm(u)
    v = np.cross(normal, u)
    corner = np.asarray(point, np.float64) - 0.5 * size * (u + v)
    part = quad_part(corner, size * u, size * v, texture, (1.0, 1.0) if texture is not None else None)
    if colors is not None:
        part = MeshPart(part.positions, part.faces, colors(part.positions.astype(np.float64)), part.uv, part.texture)
    layout = SceneLayout(
        bounds=Box3(np.full(3, -size), np.full(3, size)), up=np.array([0.0, 0.0, 1.0]), focus=np.zeros(3),
        orbit_radius=1.0, orbit_height=0.5, near=0.05, far=100.0,
    )
    return Scene("plane", (part,), layout, background=(0.0, 0.0, 0.0), lighting=lighting)


@pytest.fixture
def small_camera() -> PinholeIntrinsics:
    """An 80x60 camera with an off-centre principal point and non-square pixels."""
    return PinholeIntrinsics(71.3, 69.8, 41.27, 28.61, 80, 60)
