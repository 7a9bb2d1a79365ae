"""Camera paths: where they go, how fast they move, and that they are proper, deterministic poses."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from posekit.data.synth import TrajectoryKind, look_at, make_trajectory, room_scene, street_scene
from posekit.errors import RenderError, ShapeError
from posekit.geometry import check_rotation_matrix


def _steps(poses: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-frame translation (m) and rotation (degrees) between consecutive poses."""
    translation = np.linalg.norm(np.diff(poses[:, :3, 3], axis=0), axis=1)
    relative = np.einsum("nji,njk->nik", poses[:-1, :3, :3], poses[1:, :3, :3])
    cos = np.clip((np.trace(relative, axis1=1, axis2=2) - 1) / 2, -1.0, 1.0)
    return translation, np.degrees(np.arccos(cos))


@pytest.fixture(scope="module")
def room():
    return room_scene(2)


def test_look_at_uses_opencv_axes():
    pose = look_at(np.array([[0.0, 0.0, 1.0]]), np.array([[5.0, 0.0, 1.0]]), np.array([0.0, 0.0, 1.0]))[0]
    np.testing.assert_allclose(pose[:3, 2], [1, 0, 0], atol=1e-12)  # z forward
    np.testing.assert_allclose(pose[:3, 1], [0, 0, -1], atol=1e-12)  # y down
    np.testing.assert_allclose(pose[:3, 0], [0, -1, 0], atol=1e-12)  # x right (looking along +x, right is -y)
    with pytest.raises(ShapeError):
        look_at(np.zeros((1, 3)), np.array([[0.0, 0.0, 2.0]]), np.array([0.0, 0.0, 1.0]))


def test_handheld_walks_inside_the_room_at_7scenes_speeds(room):
    poses = make_trajectory(TrajectoryKind.HANDHELD, room.layout, 300, 30.0, np.random.default_rng(0))
    assert poses.shape == (300, 4, 4) and poses.dtype == np.float64
    check_rotation_matrix(torch.from_numpy(poses[:, :3, :3]), atol=1e-9)
    region = room.layout.eye_region
    centres = poses[:, :3, 3]
    assert np.all(centres >= region.low - 0.01) and np.all(centres <= region.high + 0.01)  # + hand shake (mm)
    translation, rotation = _steps(poses)
    # 7-Scenes: about 7 mm and 1.2 degrees a frame at 30 Hz; smooth, no jumps
    assert 0.003 < translation.mean() < 0.012 and translation.max() < 0.03
    assert 0.4 < rotation.mean() < 2.5 and rotation.max() < 6.0


def test_driving_follows_the_road_at_kitti_speeds():
    scene = street_scene(1, length=300.0)
    poses = make_trajectory(TrajectoryKind.DRIVING, scene.layout, 120, 10.0, np.random.default_rng(1))
    translation, rotation = _steps(poses)
    assert 0.6 < translation.mean() < 1.3  # 6-13 m/s at 10 Hz
    assert rotation.max() < 5.0
    road = scene.layout.road
    # camera 1.65 m above the road, within the road's width of the centreline
    np.testing.assert_allclose(poses[:, 2, 3], 1.65, atol=0.05)
    distance = np.min(np.linalg.norm(poses[:, None, :2, 3] - road.points[None, :, :2], axis=2), axis=1)
    assert distance.max() < road.lane_width
    forward = poses[:, :3, 2]
    assert np.abs(forward[:, 2]).max() < np.sin(np.radians(3.0))  # looking ahead, level


def test_driving_needs_a_road(room):
    with pytest.raises(RenderError, match="road"):
        make_trajectory(TrajectoryKind.DRIVING, room.layout, 10, 10.0, np.random.default_rng(0))


def test_driving_on_a_too_short_road_says_so():
    scene = street_scene(0, length=60.0)
    with pytest.raises(RenderError, match="long"):
        make_trajectory(TrajectoryKind.DRIVING, scene.layout, 500, 10.0, np.random.default_rng(0))


def test_orbit_circles_the_focus_looking_at_it(room):
    poses = make_trajectory(TrajectoryKind.ORBIT, room.layout, 40, 30.0, np.random.default_rng(3))
    offset = poses[:, :3, 3] - room.layout.focus
    horizontal = np.linalg.norm(offset[:, :2], axis=1)
    np.testing.assert_allclose(horizontal, horizontal[0], rtol=1e-9)
    to_focus = -offset / np.linalg.norm(offset, axis=1, keepdims=True)
    np.testing.assert_allclose(np.sum(poses[:, :3, 2] * to_focus, axis=1), 1.0, atol=1e-9)
    angles = np.unwrap(np.arctan2(offset[:, 1], offset[:, 0]))
    assert abs(angles[-1] - angles[0]) == pytest.approx(2 * np.pi * 39 / 40, rel=1e-6)


@pytest.mark.parametrize("kind", list(TrajectoryKind))
def test_trajectories_are_deterministic_and_differ_per_seed(kind):
    scene = street_scene(0, length=200.0)
    a = make_trajectory(kind, scene.layout, 30, 10.0, np.random.default_rng(7))
    b = make_trajectory(kind, scene.layout, 30, 10.0, np.random.default_rng(7))
    c = make_trajectory(kind, scene.layout, 30, 10.0, np.random.default_rng(8))
    assert np.array_equal(a, b)
    assert not np.allclose(a, c)


def test_bad_frame_count_is_rejected(room):
    with pytest.raises(ShapeError):
        make_trajectory("handheld", room.layout, 0, 30.0, np.random.default_rng(0))
    with pytest.raises(ValueError):
        make_trajectory("teleport", room.layout, 5, 30.0, np.random.default_rng(0))
