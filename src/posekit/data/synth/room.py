"""A procedural indoor room: textured walls, floor and ceiling, furniture-like boxes, posters.

The room spans ``[0, W] x [0, D] x [0, H]`` (z up, metres). Low furniture (tables, beds, boxes, with what
stands on them at most 1.15 m high) stands anywhere; tall furniture (shelves, wardrobes, up to 2.2 m)
stands against the walls and is at most 0.55 m deep, so a hand-held camera kept 0.9 m from the walls at
1.35-1.8 m height never enters a piece of furniture.
"""

from __future__ import annotations

import numpy as np

from posekit.data.synth.scene import Box3, MeshPart, Scene, SceneLayout, box_part, merge_parts, quad_part
from posekit.data.synth.textures import TexturePool, random_texture

WALL_MARGIN = 0.9  # how far a hand-held camera stays from the walls
EYE_HEIGHTS = (1.35, 1.8)


def _furniture_colour(rng: np.random.Generator) -> tuple[float, float, float]:
    return tuple(float(x) for x in rng.uniform(0.7, 1.0, size=3))


def _tall_furniture(rng: np.random.Generator, width: float, depth: float, pictures) -> list[MeshPart]:
    """Shelves and wardrobes standing against the walls (depth <= 0.55 m)."""
    parts = []
    for wall in range(4):
        if rng.uniform() < 0.35:
            continue
        along = width if wall < 2 else depth
        size_along = rng.uniform(0.6, min(1.8, 0.4 * along))
        size_out = rng.uniform(0.3, 0.55)
        height = rng.uniform(1.4, 2.2)
        pos = rng.uniform(size_along / 2 + 0.1, along - size_along / 2 - 0.1)
        if wall == 0:  # y = 0 wall
            center, size = (pos, size_out / 2 + 0.01, height / 2), (size_along, size_out, height)
        elif wall == 1:  # y = depth wall
            center, size = (pos, depth - size_out / 2 - 0.01, height / 2), (size_along, size_out, height)
        elif wall == 2:  # x = 0 wall
            center, size = (size_out / 2 + 0.01, pos, height / 2), (size_out, size_along, height)
        else:  # x = width wall
            center, size = (width - size_out / 2 - 0.01, pos, height / 2), (size_out, size_along, height)
        texture = pictures[int(rng.integers(len(pictures)))]
        parts.append(box_part(np.array(center), np.array(size), texture, texture_size=None,
                              color=_furniture_colour(rng)))
    return parts


def _low_furniture(rng: np.random.Generator, width: float, depth: float, pictures) -> list[MeshPart]:
    """Tables, beds and boxes, with a small box on some (at most 1.15 m high), anywhere in the room."""
    parts = []
    for _ in range(int(rng.integers(4, 9))):
        size = np.array([rng.uniform(0.3, 1.6), rng.uniform(0.3, 1.2), rng.uniform(0.2, 0.85)])
        reach = 0.5 * np.hypot(size[0], size[1]) + 0.05
        center = np.array([rng.uniform(reach, width - reach), rng.uniform(reach, depth - reach), size[2] / 2])
        texture = pictures[int(rng.integers(len(pictures)))]
        parts.append(box_part(center, size, texture, texture_size=rng.uniform(0.4, 1.2),
                              color=_furniture_colour(rng), yaw=rng.uniform(0, np.pi)))
        if rng.uniform() < 0.5:  # something standing on it
            small = np.array([rng.uniform(0.1, 0.35), rng.uniform(0.1, 0.35), rng.uniform(0.1, 0.3)])
            top = center + np.array([0.0, 0.0, size[2] / 2 + small[2] / 2])
            texture = pictures[int(rng.integers(len(pictures)))]
            parts.append(box_part(top, small, texture, texture_size=None, color=_furniture_colour(rng),
                                  yaw=rng.uniform(0, np.pi)))
    return parts


def _posters(rng: np.random.Generator, width: float, depth: float, height: float, pictures) -> list[MeshPart]:
    """Pictures hanging 1 cm in front of the walls."""
    parts = []
    walls = (  # (origin, along-wall unit vector, wall length, inward normal)
        (np.array([0.0, 0.0, 0.0]), np.array([1.0, 0.0, 0.0]), width, np.array([0.0, 1.0, 0.0])),
        (np.array([width, depth, 0.0]), np.array([-1.0, 0.0, 0.0]), width, np.array([0.0, -1.0, 0.0])),
        (np.array([0.0, depth, 0.0]), np.array([0.0, -1.0, 0.0]), depth, np.array([1.0, 0.0, 0.0])),
        (np.array([width, 0.0, 0.0]), np.array([0.0, 1.0, 0.0]), depth, np.array([-1.0, 0.0, 0.0])),
    )
    for origin, along, length, inward in walls:
        for _ in range(int(rng.integers(1, 4))):
            texture = pictures[int(rng.integers(len(pictures)))]
            aspect = texture.shape[1] / texture.shape[0]
            h = rng.uniform(0.4, 1.0)
            w = min(h * aspect, 0.45 * length)
            start = rng.uniform(0.1, length - w - 0.1)
            bottom = rng.uniform(0.9, max(0.95, height - h - 0.2))
            corner = origin + along * start + np.array([0.0, 0.0, bottom]) + 0.01 * inward
            parts.append(quad_part(corner, along * w, np.array([0.0, 0.0, h]), texture))
    return parts


def room_scene(seed: int = 0) -> Scene:
    """A furnished room, different for each ``seed``; the same ``seed`` gives the same room.

    Returns:
        A :class:`Scene` whose layout lets a hand-held camera walk 0.9 m inside the walls and an orbit circle
        the room's centre.
    """
    rng = np.random.default_rng(np.random.SeedSequence([seed, 0x0F00D]))
    width, depth, height = rng.uniform(4.5, 7.0), rng.uniform(4.0, 6.5), rng.uniform(2.5, 3.0)
    pictures = [random_texture(rng, TexturePool.PICTURE) for _ in range(6)]
    wall_texture = random_texture(rng, TexturePool.MATERIAL, tint_strength=0.8)
    floor_texture = random_texture(rng, TexturePool.MATERIAL, tint_strength=1.0)
    ceiling_texture = random_texture(rng, TexturePool.MATERIAL, tint_strength=0.3)
    x, y, z = np.array([width, 0, 0]), np.array([0, depth, 0]), np.array([0, 0, height])
    o = np.zeros(3)
    wall_size = (rng.uniform(2.0, 3.5),) * 2
    parts = [
        quad_part(o, x, y, floor_texture, (rng.uniform(1.5, 3.0),) * 2),
        quad_part(z, x, y, ceiling_texture, (3.0, 3.0), color=(0.9, 0.9, 0.9)),
        quad_part(o, x, z, wall_texture, wall_size),
        quad_part(y, x, z, wall_texture, wall_size),
        quad_part(o, y, z, wall_texture, wall_size),
        quad_part(x, y, z, wall_texture, wall_size),
    ]
    parts += _tall_furniture(rng, width, depth, pictures)
    parts += _low_furniture(rng, width, depth, pictures)
    parts += _posters(rng, width, depth, height, pictures)
    low, high = np.zeros(3), np.array([width, depth, height])
    margin = np.array([WALL_MARGIN, WALL_MARGIN, 0.0])
    layout = SceneLayout(
        bounds=Box3(low, high),
        up=np.array([0.0, 0.0, 1.0]),
        focus=np.array([width / 2, depth / 2, 0.8]),
        orbit_radius=0.3 * min(width, depth),
        orbit_height=0.7,
        near=0.05,
        far=2.0 * float(np.linalg.norm(high)),
        eye_region=Box3(low + margin + [0, 0, EYE_HEIGHTS[0]], high - margin - [0, 0, height - EYE_HEIGHTS[1]]),
    )
    return Scene("room", tuple(merge_parts(parts)), layout, background=(0.0, 0.0, 0.0))
