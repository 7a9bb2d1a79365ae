"""A procedural street for driving: a two-lane road with bends, sidewalks, and building facades.

The road starts at the origin heading along +x (z up, metres) and alternates straights and bends of
20-45 m radius. Buildings (boxes with tinted brick or concrete walls, windows and shop-front pictures) line
both sides; one that would stand on the road or the sidewalk (on the inside of a bend) is left out. The sky
is a flat colour with depth 0 (unknown), like a depth sensor's far range.
"""

from __future__ import annotations

import numpy as np

from posekit.data.synth.scene import Box3, MeshPart, RoadPath, Scene, SceneLayout, box_part, merge_parts, quad_part
from posekit.data.synth.textures import TexturePool, random_texture, tinted
from posekit.data.synth.trajectories import DRIVING_LOOK_AHEAD, DRIVING_SPEEDS

LANE_WIDTH = 3.5
SIDEWALK_WIDTH = 3.0
KERB_HEIGHT = 0.12
SAMPLE_STEP = 0.5  # m between centreline samples
FIRST_STRAIGHT = 45.0  # m: where hand-held and orbit cameras go
SKY = (0.62, 0.74, 0.92)


def street_length_for(n_frames: int, fps: float) -> float:
    """A road length (m) long enough to drive ``n_frames`` at ``fps`` at the fastest cruise speed."""
    return 1.4 * DRIVING_SPEEDS[1] * n_frames / fps + 2 * DRIVING_LOOK_AHEAD + 60.0


def make_road(rng: np.random.Generator, length: float) -> RoadPath:
    """A centreline of at least ``length`` metres: a first straight, then bends and straights alternately."""
    points, heading = [np.zeros(3)], 0.0

    def advance(distance: float, curvature: float) -> None:
        nonlocal heading
        for _ in range(max(1, int(round(distance / SAMPLE_STEP)))):
            heading += 0.5 * curvature * SAMPLE_STEP
            points.append(points[-1] + SAMPLE_STEP * np.array([np.cos(heading), np.sin(heading), 0.0]))
            heading += 0.5 * curvature * SAMPLE_STEP

    advance(FIRST_STRAIGHT + 15.0, 0.0)
    total = FIRST_STRAIGHT + 15.0
    while total < length:
        radius = rng.uniform(20.0, 45.0)
        angle = np.radians(rng.uniform(25.0, 90.0))
        sign = rng.choice([-1.0, 1.0])
        advance(radius * angle, sign / radius)
        straight = rng.uniform(25.0, 70.0)
        advance(straight, 0.0)
        total += radius * angle + straight
    points = np.asarray(points)
    arclength = np.concatenate([[0.0], np.cumsum(np.linalg.norm(np.diff(points, axis=0), axis=1))])
    return RoadPath(points, arclength, LANE_WIDTH)


def _left_normals(road: RoadPath) -> np.ndarray:
    _, tangent = road.at(road.arclength)
    return np.stack([-tangent[:, 1], tangent[:, 0], np.zeros(len(tangent))], axis=1)


def _strip(road: RoadPath, inner: float, outer: float, z_inner: float, z_outer: float, texture: np.ndarray,
           texture_size: float) -> MeshPart:
    """A band along the road between signed lateral offsets ``inner`` and ``outer`` (left positive)."""
    normal = _left_normals(road)
    m = len(road.points)
    a = road.points + inner * normal + [0.0, 0.0, z_inner]
    b = road.points + outer * normal + [0.0, 0.0, z_outer]
    positions = np.empty((2 * m, 3))
    positions[0::2], positions[1::2] = a, b
    across = np.hypot(outer - inner, z_outer - z_inner) / texture_size
    uv = np.empty((2 * m, 2))
    uv[0::2, 0], uv[1::2, 0] = 0.0, across
    uv[0::2, 1] = uv[1::2, 1] = road.arclength / texture_size
    i = np.arange(m - 1)
    faces = np.concatenate([np.stack([2 * i, 2 * i + 1, 2 * i + 2], 1), np.stack([2 * i + 1, 2 * i + 3, 2 * i + 2], 1)])
    return MeshPart(positions, faces, np.ones((2 * m, 3)), uv, texture)


def _lane_markings(road: RoadPath, texture: np.ndarray) -> list[MeshPart]:
    """Dashed white centre line: 3 m dashes every 9 m, 2 cm above the asphalt."""
    parts = []
    for s in np.arange(2.0, road.length - 4.0, 9.0):
        (p0, p1), (t0, _) = road.at(np.array([s, s + 3.0]))
        left = np.array([-t0[1], t0[0], 0.0])
        corner = p0 - 0.075 * left + [0.0, 0.0, 0.02]
        parts.append(quad_part(corner, p1 - p0, 0.15 * left, texture, (0.5, 0.5), color=(1.0, 1.0, 1.0)))
    return parts


def _intrudes(road: RoadPath, center: np.ndarray, yaw: float, size: np.ndarray, clearance: float) -> bool:
    """Whether a building footprint comes closer than ``clearance`` to the centreline anywhere."""
    c, s = np.cos(yaw), np.sin(yaw)
    local = (road.points[:, :2] - center[:2]) @ np.array([[c, -s], [s, c]])
    inside = (np.abs(local[:, 0]) < size[0] / 2 + clearance) & (np.abs(local[:, 1]) < size[1] / 2 + clearance)
    return bool(np.any(inside))


def _building(rng: np.random.Generator, center: np.ndarray, yaw: float, size: np.ndarray, facing: float,
              wall: np.ndarray, glass: np.ndarray, shop: np.ndarray) -> list[MeshPart]:
    """A box building with rows of windows and a shop picture on the facade facing the road."""
    parts = [box_part(center, size, wall, texture_size=rng.uniform(3.0, 5.0), yaw=yaw)]
    c, s = np.cos(yaw), np.sin(yaw)
    along = np.array([c, s, 0.0])
    outward = facing * np.array([-s, c, 0.0])
    facade_corner = center + outward * (size[1] / 2 + 0.02) - along * size[0] / 2 - [0.0, 0.0, size[2] / 2]
    floors = int(size[2] // 3.0)
    columns = int(size[0] // 2.5)
    for f in range(1, floors):
        for k in range(columns):
            corner = facade_corner + along * (k * 2.5 + 0.6) + [0.0, 0.0, f * 3.0 + 0.8]
            parts.append(quad_part(corner, along * 1.3, np.array([0.0, 0.0, 1.5]), glass, (1.3, 1.5)))
    shop_width = min(size[0] - 1.0, rng.uniform(3.0, 7.0))
    corner = facade_corner + along * rng.uniform(0.5, size[0] - shop_width - 0.5 + 1e-6) + [0.0, 0.0, 0.3]
    parts.append(quad_part(corner, along * shop_width, np.array([0.0, 0.0, 2.4]), shop))
    return parts


def _buildings(rng: np.random.Generator, road: RoadPath, walls, glass, shops) -> list[MeshPart]:
    parts = []
    clearance = LANE_WIDTH + SIDEWALK_WIDTH
    for side in (1.0, -1.0):  # left, right
        s = float(rng.uniform(0.0, 6.0))
        while s < road.length - 10.0:
            size = np.array([rng.uniform(8.0, 20.0), rng.uniform(8.0, 14.0), rng.uniform(6.0, 22.0)])
            (point,), (tangent,) = road.at(np.array([s + size[0] / 2]))
            left = np.array([-tangent[1], tangent[0], 0.0])
            setback = clearance + rng.uniform(0.3, 2.0) + size[1] / 2
            center = point + side * setback * left + [0.0, 0.0, size[2] / 2]
            yaw = float(np.arctan2(tangent[1], tangent[0]))
            if not _intrudes(road, center, yaw, size, clearance):
                parts += _building(rng, center, yaw, size, -side, walls[int(rng.integers(len(walls)))],
                                   glass, shops[int(rng.integers(len(shops)))])
            s += size[0] + rng.uniform(0.5, 4.0)
    return parts


def street_scene(seed: int = 0, length: float = 400.0) -> Scene:
    """A street at least ``length`` metres long, different for each ``seed``.

    Returns:
        A :class:`Scene` with a road for driving trajectories; hand-held and orbit cameras go along its first
        straight (the first 45 m along +x).
    """
    rng = np.random.default_rng(np.random.SeedSequence([seed, 0x57EE7]))
    road = make_road(rng, length)
    asphalt = tinted(random_texture(rng, TexturePool.MATERIAL), (0.35, 0.35, 0.37))
    pavement = random_texture(rng, TexturePool.MATERIAL, tint_strength=0.3)
    grass = tinted(random_texture(rng, TexturePool.MATERIAL), (0.45, 0.6, 0.3))
    white = np.full((4, 4, 3), 235, np.uint8)
    walls = [random_texture(rng, TexturePool.MATERIAL, tint_strength=0.7) for _ in range(4)]
    glass = tinted(random_texture(rng, TexturePool.PICTURE), (0.45, 0.55, 0.65))
    shops = [random_texture(rng, TexturePool.PICTURE) for _ in range(5)]
    half = LANE_WIDTH
    parts = [
        _strip(road, -half, half, 0.0, 0.0, asphalt, 6.0),
        _strip(road, half, half, 0.0, KERB_HEIGHT, pavement, 1.0),
        _strip(road, -half, -half, 0.0, KERB_HEIGHT, pavement, 1.0),
        _strip(road, half, half + SIDEWALK_WIDTH, KERB_HEIGHT, KERB_HEIGHT, pavement, 3.0),
        _strip(road, -half, -half - SIDEWALK_WIDTH, KERB_HEIGHT, KERB_HEIGHT, pavement, 3.0),
    ]
    parts += _lane_markings(road, white)
    parts += _buildings(rng, road, walls, glass, shops)
    low, high = road.points.min(axis=0) - 60.0, road.points.max(axis=0) + 60.0
    low[2], high[2] = -0.05, 30.0
    parts.append(quad_part(low, [high[0] - low[0], 0, 0], [0, high[1] - low[1], 0], grass, (3.0, 3.0)))
    layout = SceneLayout(
        bounds=Box3(low, high),
        up=np.array([0.0, 0.0, 1.0]),
        focus=np.array([0.5 * FIRST_STRAIGHT, 0.0, 1.0]),
        orbit_radius=0.6 * LANE_WIDTH,
        orbit_height=0.6,
        near=0.1,
        far=250.0,
        eye_region=Box3(
            np.array([2.0, -0.7 * LANE_WIDTH, 1.5]), np.array([0.6 * FIRST_STRAIGHT, 0.7 * LANE_WIDTH, 1.8])
        ),
        road=road,
    )
    return Scene("street", tuple(merge_parts(parts)), layout, background=SKY, texture_anisotropy=4.0)
