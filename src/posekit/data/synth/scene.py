"""What the renderer draws: textured triangle meshes in a world frame, and where a camera may go in them.

World frames of the procedural scenes are z-up, in metres. A user mesh keeps its own frame (so that the
rendered poses are in the model's coordinates) and says which axis is up.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from posekit.errors import ShapeError


@dataclass(frozen=True)
class Box3:
    """An axis-aligned box ``[low, high]`` in world coordinates (metres)."""

    low: np.ndarray
    high: np.ndarray

    def __post_init__(self) -> None:
        low, high = np.asarray(self.low, np.float64), np.asarray(self.high, np.float64)
        if low.shape != (3,) or high.shape != (3,) or np.any(high < low):
            raise ShapeError(f"Box3: expected low <= high, two 3-vectors, got {low} and {high}")
        object.__setattr__(self, "low", low)
        object.__setattr__(self, "high", high)

    @property
    def center(self) -> np.ndarray:
        return 0.5 * (self.low + self.high)

    @property
    def size(self) -> np.ndarray:
        return self.high - self.low

    def sample(self, rng: np.random.Generator, n: int) -> np.ndarray:
        """``(n, 3)`` points drawn uniformly in the box."""
        return self.low + rng.uniform(size=(n, 3)) * self.size


@dataclass(frozen=True)
class MeshPart:
    """One draw call: triangles sharing one texture.

    Attributes:
        positions: ``(V, 3)`` float32 vertex positions in the world frame.
        faces: ``(F, 3)`` uint32 vertex indices.
        colors: ``(V, 3)`` float32 vertex colours in [0, 1] (multiplied with the texture).
        uv: ``(V, 2)`` float32 texture coordinates (repeating), or None without a texture.
        texture: ``(H, W, 3)`` uint8 RGB image, or None.
    """

    positions: np.ndarray
    faces: np.ndarray
    colors: np.ndarray
    uv: np.ndarray | None = None
    texture: np.ndarray | None = None

    def __post_init__(self) -> None:
        positions = np.ascontiguousarray(self.positions, np.float32)
        faces = np.ascontiguousarray(self.faces, np.uint32)
        colors = np.ascontiguousarray(self.colors, np.float32)
        v = positions.shape[0]
        if positions.ndim != 2 or positions.shape[1] != 3:
            raise ShapeError(f"MeshPart.positions: expected (V, 3), got {positions.shape}")
        if faces.ndim != 2 or faces.shape[1] != 3:
            raise ShapeError(f"MeshPart.faces: expected (F, 3), got {faces.shape}")
        if colors.shape != (v, 3):
            raise ShapeError(f"MeshPart.colors: expected ({v}, 3), got {colors.shape}")
        if faces.size and int(faces.max()) >= v:
            raise ShapeError(f"MeshPart.faces: index {int(faces.max())} out of range for {v} vertices")
        object.__setattr__(self, "positions", positions)
        object.__setattr__(self, "faces", faces)
        object.__setattr__(self, "colors", colors)
        if (self.uv is None) != (self.texture is None):
            raise ShapeError("MeshPart: uv and texture must be given together")
        if self.uv is not None:
            uv = np.ascontiguousarray(self.uv, np.float32)
            if uv.shape != (v, 2):
                raise ShapeError(f"MeshPart.uv: expected ({v}, 2), got {uv.shape}")
            texture = np.ascontiguousarray(self.texture, np.uint8)
            if texture.ndim != 3 or texture.shape[2] != 3:
                raise ShapeError(f"MeshPart.texture: expected (H, W, 3) uint8, got {texture.shape}")
            object.__setattr__(self, "uv", uv)
            object.__setattr__(self, "texture", texture)


@dataclass(frozen=True)
class RoadPath:
    """A road's centreline, densely sampled: where a driving camera goes.

    Attributes:
        points: ``(M, 3)`` centreline points on the ground (world frame).
        arclength: ``(M,)`` distance along the road from ``points[0]`` (metres, increasing).
        lane_width: width of one lane; the road has two, one each side of the centreline.
    """

    points: np.ndarray
    arclength: np.ndarray
    lane_width: float

    @property
    def length(self) -> float:
        return float(self.arclength[-1])

    def at(self, s: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Positions ``(N, 3)`` and unit tangents ``(N, 3)`` at distances ``s`` (N,) along the road."""
        s = np.clip(np.asarray(s, np.float64), 0.0, self.length)
        position = np.stack([np.interp(s, self.arclength, self.points[:, i]) for i in range(3)], axis=1)
        seg = np.clip(np.searchsorted(self.arclength, s, side="right") - 1, 0, len(self.arclength) - 2)
        tangent = self.points[seg + 1] - self.points[seg]
        return position, tangent / np.linalg.norm(tangent, axis=1, keepdims=True)


@dataclass(frozen=True)
class SceneLayout:
    """Where cameras may go in a scene.

    Attributes:
        bounds: box holding all the geometry.
        up: unit "up" vector of the world.
        eye_region: where a hand-held camera's centre may go (None: the hand-held path circles ``focus``).
        focus: the point an orbit circles.
        orbit_radius: horizontal radius of an orbit (metres).
        orbit_height: height of an orbit above ``focus`` (metres, along ``up``).
        road: the road a driving camera follows, or None where there is none.
        near, far: clipping distances for rendering (metres).
    """

    bounds: Box3
    up: np.ndarray
    focus: np.ndarray
    orbit_radius: float
    orbit_height: float
    near: float
    far: float
    eye_region: Box3 | None = None
    road: RoadPath | None = None


@dataclass(frozen=True)
class Lighting:
    """Fixed world lighting: ``ambient + sum_i diffuse_i * max(0, n . -direction_i)`` (Lambertian).

    Lighting is attached to the world, never to the camera, so a surface looks the same from every view
    (brightness constancy holds on noise-free renders).
    """

    ambient: float = 0.45
    directions: tuple[tuple[float, float, float], ...] = ((-0.3, -0.5, -0.8), (0.6, 0.4, -0.3))
    diffuse: tuple[float, ...] = (0.45, 0.2)


@dataclass(frozen=True)
class Scene:
    """A renderable scene.

    Attributes:
        name: short name (``room``, ``street`` or the mesh file's stem).
        parts: the meshes, one draw call each.
        layout: where cameras may go.
        background: RGB in [0, 1] where no geometry is hit (the sky); its depth is 0 (unknown).
        lighting: world lighting, or None to use the textures and colours as they are (scanned meshes).
        texture_anisotropy: anisotropic texture filtering (1 = off). A road seen at grazing angles keeps its
            detail with 4; it doubles the time of a frame on Mesa's llvmpipe, so indoor scenes keep 1.
    """

    name: str
    parts: tuple[MeshPart, ...]
    layout: SceneLayout
    background: tuple[float, float, float] = (0.0, 0.0, 0.0)
    lighting: Lighting | None = field(default_factory=Lighting)
    texture_anisotropy: float = 1.0

    @property
    def triangle_count(self) -> int:
        return sum(len(part.faces) for part in self.parts)


# --- primitives -------------------------------------------------------------------------------------------

_BOX_FACES = (  # (normal axis, sign, u axis, v axis) of the six faces of a unit box
    (0, 1, 1, 2), (0, -1, 1, 2), (1, 1, 0, 2), (1, -1, 0, 2), (2, 1, 0, 1), (2, -1, 0, 1),
)


def quad_part(
    corner: np.ndarray,
    edge_u: np.ndarray,
    edge_v: np.ndarray,
    texture: np.ndarray | None,
    texture_size: tuple[float, float] | None = None,
    color: tuple[float, float, float] = (1.0, 1.0, 1.0),
) -> MeshPart:
    """A parallelogram ``corner + a edge_u + b edge_v`` (a, b in [0, 1]) as two triangles.

    Args:
        corner, edge_u, edge_v: ``(3,)`` world vectors.
        texture: ``(H, W, 3)`` uint8 or None.
        texture_size: metres covered by one copy of the texture along u and v; None stretches one copy over
            the quad (a poster). The image's top row is at ``corner + edge_v``.
        color: RGB multiplier.
    """
    corner, edge_u, edge_v = (np.asarray(x, np.float64) for x in (corner, edge_u, edge_v))
    positions = np.stack([corner, corner + edge_u, corner + edge_u + edge_v, corner + edge_v])
    if texture_size is None:
        reps = (1.0, 1.0)
    else:
        reps = (np.linalg.norm(edge_u) / texture_size[0], np.linalg.norm(edge_v) / texture_size[1])
    uv = np.array([[0, reps[1]], [reps[0], reps[1]], [reps[0], 0], [0, 0]], np.float64)
    faces = np.array([[0, 1, 2], [0, 2, 3]])
    colors = np.tile(np.asarray(color, np.float32), (4, 1))
    return MeshPart(positions, faces, colors, uv if texture is not None else None, texture)


def box_part(
    center: np.ndarray,
    size: np.ndarray,
    texture: np.ndarray | None,
    texture_size: float | None = 1.0,
    color: tuple[float, float, float] = (1.0, 1.0, 1.0),
    yaw: float = 0.0,
) -> MeshPart:
    """An oriented box (24 vertices, 12 triangles), each face textured separately.

    Args:
        center: ``(3,)`` centre; size: ``(3,)`` extents along the box's own axes.
        texture: ``(H, W, 3)`` uint8 or None.
        texture_size: metres covered by one copy of the texture (None: one copy per face).
        color: RGB multiplier.
        yaw: rotation about the world z axis (radians).
    """
    center, size = np.asarray(center, np.float64), np.asarray(size, np.float64)
    positions, uv, faces = [], [], []
    for axis, sign, ua, va in _BOX_FACES:
        base = np.zeros(3)
        base[axis] = 0.5 * sign
        corners = []
        for a, b in ((-0.5, -0.5), (0.5, -0.5), (0.5, 0.5), (-0.5, 0.5)):
            p = base.copy()
            p[ua], p[va] = a, b
            corners.append(p * size)
        n = len(positions)
        positions.extend(corners)
        du, dv = size[ua], size[va]
        su, sv = (1.0, 1.0) if texture_size is None else (du / texture_size, dv / texture_size)
        uv.extend([[0, sv], [su, sv], [su, 0], [0, 0]])
        faces.extend([[n, n + 1, n + 2], [n, n + 2, n + 3]])
    c, s = np.cos(yaw), np.sin(yaw)
    rotation = np.array([[c, -s, 0], [s, c, 0], [0, 0, 1]])
    positions = np.asarray(positions) @ rotation.T + center
    colors = np.tile(np.asarray(color, np.float32), (len(positions), 1))
    return MeshPart(positions, np.asarray(faces), colors, np.asarray(uv) if texture is not None else None, texture)


def merge_parts(parts: list[MeshPart]) -> list[MeshPart]:
    """Merge parts that share the same texture object (fewer draw calls); order within a texture is kept."""
    groups: dict[int, list[MeshPart]] = {}
    order: list[int] = []
    for part in parts:
        key = id(part.texture) if part.texture is not None else 0
        if key not in groups:
            groups[key] = []
            order.append(key)
        groups[key].append(part)
    merged = []
    for key in order:
        group = groups[key]
        if len(group) == 1:
            merged.append(group[0])
            continue
        offsets = np.cumsum([0] + [len(p.positions) for p in group[:-1]])
        merged.append(
            MeshPart(
                np.concatenate([p.positions for p in group]),
                np.concatenate([p.faces + o for p, o in zip(group, offsets)]),
                np.concatenate([p.colors for p in group]),
                None if group[0].uv is None else np.concatenate([p.uv for p in group]),
                group[0].texture,
            )
        )
    return merged
