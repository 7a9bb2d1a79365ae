"""A user's mesh as a scene: ``.obj``, ``.ply``, ``.glb``/``.gltf`` (anything trimesh loads), with its
textures (OBJ/MTL maps, glTF base colour textures and factors) or its vertex / face colours.

The world frame stays the mesh's own, so rendered poses are in the model's coordinates. The up axis is
``z`` unless told otherwise, except glTF files whose specification makes ``+y`` up. Hand-held and orbit
cameras circle the model's centre (the model is treated as an object seen from outside); there is no road.
"""

from __future__ import annotations

from enum import Enum
from pathlib import Path

import numpy as np

from posekit.data.synth.scene import Box3, Lighting, MeshPart, Scene, SceneLayout
from posekit.errors import FileFormatError

_Y_UP_SUFFIXES = (".glb", ".gltf")


class MeshUpAxis(Enum):
    """Which axis of a mesh's frame points up."""

    X = "x"
    Y = "y"
    Z = "z"
    MINUS_X = "-x"
    MINUS_Y = "-y"
    MINUS_Z = "-z"

    @property
    def vector(self) -> np.ndarray:
        """The axis as a unit ``(3,)`` vector."""
        up = np.zeros(3)
        up["xyz".index(self.value[-1])] = -1.0 if self.value.startswith("-") else 1.0
        return up


def default_up_axis(path: str | Path) -> MeshUpAxis:
    """``Y`` for glTF files (their specification), else ``Z``."""
    return MeshUpAxis.Y if Path(path).suffix.lower() in _Y_UP_SUFFIXES else MeshUpAxis.Z


def _material_texture(visual) -> tuple[np.ndarray | None, np.ndarray]:
    """The base colour image (H, W, 3) uint8 or None, and the RGB factor (3,) of a trimesh TextureVisuals."""
    material = getattr(visual, "material", None)
    if material is None:
        return None, np.ones(3)
    if hasattr(material, "to_simple") and not hasattr(material, "image"):
        material = material.to_simple()
    image = getattr(material, "image", None)
    factor = np.ones(3)
    diffuse = getattr(material, "diffuse", None)
    if diffuse is not None and image is None:
        factor = np.asarray(diffuse, np.float64)[:3] / 255.0
    if image is None:
        return None, factor
    return np.asarray(image.convert("RGB"), np.uint8), factor


def _part_from_trimesh(mesh) -> MeshPart:
    """One trimesh.Trimesh (already in world coordinates) as a MeshPart."""
    positions = np.asarray(mesh.vertices, np.float64)
    faces = np.asarray(mesh.faces, np.int64)
    visual = mesh.visual
    if visual.kind == "texture" and getattr(visual, "uv", None) is not None and len(visual.uv) == len(positions):
        image, factor = _material_texture(visual)
        colors = np.tile(factor, (len(positions), 1))
        if image is not None:
            uv = np.asarray(visual.uv, np.float64)[:, :2].copy()
            uv[:, 1] = 1.0 - uv[:, 1]  # trimesh keeps OBJ's convention: v = 0 is the image's bottom row
            return MeshPart(positions, faces, colors, uv, image)
        return MeshPart(positions, faces, colors)
    if visual.kind == "face":
        colors = np.repeat(np.asarray(visual.face_colors, np.float64)[:, :3] / 255.0, 3, axis=0)
        return MeshPart(positions[faces.reshape(-1)], np.arange(faces.size).reshape(-1, 3), colors)
    if visual.kind == "vertex":
        return MeshPart(positions, faces, np.asarray(visual.vertex_colors, np.float64)[:, :3] / 255.0)
    return MeshPart(positions, faces, np.full((len(positions), 3), 0.8))


def load_mesh_scene(path: str | Path, up: MeshUpAxis | str | None = None, lit: bool = True) -> Scene:
    """A :class:`Scene` of the mesh file at ``path``.

    Args:
        path: a file trimesh can load (``.obj``, ``.ply``, ``.glb``, ``.gltf``, ``.off``, ``.stl``, ...).
        up: the up axis (an :class:`MeshUpAxis` or its value ``"z"``, ``"-y"``, ...); default :func:`default_up_axis`.
        lit: shade with the fixed world lighting; False shows textures and colours as they are (scans with
            baked-in lighting).

    Raises:
        FileFormatError: the file is missing, cannot be read, or holds no triangles.
    """
    import trimesh

    path = Path(path)
    if not path.is_file():
        raise FileFormatError(path, "mesh file not found")
    try:
        loaded = trimesh.load(str(path), force="scene")
    except Exception as error:  # trimesh raises many kinds of errors on bad files
        raise FileFormatError(path, f"cannot load the mesh: {error}") from None
    meshes = [m for m in loaded.dump(concatenate=False) if isinstance(m, trimesh.Trimesh) and len(m.faces)]
    if not meshes:
        raise FileFormatError(path, "the file holds no triangles")
    parts = tuple(_part_from_trimesh(m) for m in meshes)
    vertices = np.concatenate([p.positions for p in parts]).astype(np.float64)
    low, high = vertices.min(axis=0), vertices.max(axis=0)
    up_vector = MeshUpAxis(up if up is not None else default_up_axis(path)).vector
    radius = max(0.5 * float(np.linalg.norm(high - low)), 1e-6)
    layout = SceneLayout(
        bounds=Box3(low, high),
        up=up_vector,
        focus=0.5 * (low + high),
        orbit_radius=1.8 * radius,
        orbit_height=0.5 * radius,
        near=0.01 * radius,
        far=20.0 * radius,
    )
    lighting = _lighting_for(up_vector) if lit else None
    return Scene(path.stem, parts, layout, background=(0.0, 0.0, 0.0), lighting=lighting)


def _lighting_for(up: np.ndarray) -> Lighting:
    """The default lighting, rotated so that the light comes from above along ``up``."""
    default = Lighting()
    z = np.array([0.0, 0.0, 1.0])
    if np.allclose(up, z):
        return default
    from scipy.spatial.transform import Rotation

    rotation, _ = Rotation.align_vectors([up], [z])
    directions = tuple(tuple(float(v) for v in rotation.apply(d)) for d in default.directions)
    return Lighting(default.ambient, directions, default.diffuse)
