"""Camera paths through a scene: hand-held, driving, orbit. Each returns ``(N, 4, 4)`` float64 ``T_world_cam``.

- **Hand-held**: the camera centre follows a smooth random curve (a uniform cubic B-spline through random
  points of the scene's eye region, so it never leaves it) at a walking speed that drifts around 0.2 m/s;
  the view turns left and right at a smoothly varying rate (42 degrees/s rms) and looks 12 degrees down on
  average; slow roll and a little hand shake on top. At 30 frames/s this moves about 7 mm and 1 degree a
  frame, like 7-Scenes. Scenes without an eye region (a user's object) get a wobbly orbit instead.
- **Driving**: along the scene's road in the right-hand lane at 7-11 m/s, slowing in bends (lateral
  acceleration at most 2.5 m/s^2), camera 1.65 m above the road looking a few metres ahead, with small
  pitch and roll from the suspension. At 10 frames/s that is about 1 m a frame, like KITTI.
- **Orbit**: one full circle around the scene's focus over the sequence, looking at it.

All are deterministic functions of their ``rng``; camera axes are OpenCV's (x right, y down, z forward).
"""

from __future__ import annotations

from enum import Enum

import numpy as np
from scipy.ndimage import gaussian_filter1d

from posekit.data.synth.scene import Box3, RoadPath, SceneLayout
from posekit.errors import RenderError, ShapeError

HANDHELD_SPEED = 0.2  # m/s
HANDHELD_TURN_RATE_DEG = 42.0  # rms yaw rate, degrees/s
HANDHELD_PITCH_DEG = (-12.0, 10.0)  # mean and spread of the pitch (negative looks down)
DRIVING_SPEEDS = (7.0, 11.0)  # m/s
DRIVING_MAX_LATERAL_ACCELERATION = 2.5  # m/s^2
DRIVING_CAMERA_HEIGHT = 1.65  # m (KITTI)
DRIVING_LOOK_AHEAD = 8.0  # m


class TrajectoryKind(Enum):
    """The kinds of camera path."""

    HANDHELD = "handheld"
    DRIVING = "driving"
    ORBIT = "orbit"


def look_at(eye: np.ndarray, target: np.ndarray, up: np.ndarray, roll: np.ndarray | None = None) -> np.ndarray:
    """Camera-to-world poses of cameras at ``eye`` looking at ``target`` with ``up`` pointing up in the image.

    Args:
        eye, target: ``(N, 3)`` world points; up: ``(3,)`` world up vector.
        roll: ``(N,)`` rotation about the optical axis in radians (positive turns the image clockwise).

    Returns:
        ``(N, 4, 4)`` float64 ``T_world_cam`` (OpenCV axes: x right, y down, z forward).
    """
    eye, target = np.atleast_2d(eye).astype(np.float64), np.atleast_2d(target).astype(np.float64)
    forward = target - eye
    norm = np.linalg.norm(forward, axis=1, keepdims=True)
    if np.any(norm < 1e-9):
        raise ShapeError("look_at: a target coincides with its eye")
    forward /= norm
    right = np.cross(forward, np.asarray(up, np.float64)[None, :])
    right_norm = np.linalg.norm(right, axis=1, keepdims=True)
    if np.any(right_norm < 1e-6):
        raise ShapeError("look_at: the viewing direction is parallel to the up vector")
    right /= right_norm
    down = np.cross(forward, right)
    if roll is not None:
        c, s = np.cos(roll)[:, None], np.sin(roll)[:, None]
        right, down = c * right + s * down, -s * right + c * down
    poses = np.tile(np.eye(4), (len(eye), 1, 1))
    poses[:, :3, 0], poses[:, :3, 1], poses[:, :3, 2], poses[:, :3, 3] = right, down, forward, eye
    return poses


def smooth_noise(rng: np.random.Generator, n: int, correlation_frames: float, dims: int = 1) -> np.ndarray:
    """``(n, dims)`` smooth random signal with unit standard deviation (Gaussian-filtered white noise)."""
    pad = int(4 * correlation_frames) + 1
    white = rng.standard_normal((n + 2 * pad, dims))
    smooth = gaussian_filter1d(white, max(correlation_frames, 1e-3), axis=0, mode="wrap")[pad : pad + n]
    return smooth * np.sqrt(2.0 * np.sqrt(np.pi) * max(correlation_frames, 0.5))


def _bspline(control: np.ndarray, samples_per_segment: int = 64) -> np.ndarray:
    """Dense samples ``(M, 3)`` of the uniform cubic B-spline of ``control`` ``(K, 3)`` (inside their hull)."""
    t = np.linspace(0.0, 1.0, samples_per_segment, endpoint=False)[:, None]
    basis = np.hstack([(1 - t) ** 3, 3 * t**3 - 6 * t**2 + 4, -3 * t**3 + 3 * t**2 + 3 * t + 1, t**3]) / 6.0
    segments = [basis @ control[i : i + 4] for i in range(len(control) - 3)]
    return np.concatenate(segments)


def _wander(rng: np.random.Generator, region: Box3, distances: np.ndarray) -> np.ndarray:
    """Points ``(N, 3)`` at path distances ``distances`` (N,) along a random smooth curve inside ``region``."""
    needed = float(distances[-1]) + 1e-6
    control = region.sample(rng, 6)
    while True:
        dense = _bspline(control)
        arclength = np.concatenate([[0.0], np.cumsum(np.linalg.norm(np.diff(dense, axis=0), axis=1))])
        if arclength[-1] >= needed:
            break
        control = np.vstack([control, region.sample(rng, 4)])
    return np.stack([np.interp(distances, arclength, dense[:, i]) for i in range(3)], axis=1)


def _distances(rng: np.random.Generator, n: int, fps: float, speed: float, variation: float) -> np.ndarray:
    """Cumulative distances ``(n,)`` travelled at a speed that drifts smoothly around ``speed``."""
    speeds = speed * np.exp(variation * smooth_noise(rng, n, correlation_frames=2.0 * fps)[:, 0])
    return np.concatenate([[0.0], np.cumsum(speeds[:-1] / fps)])


def _shake(rng: np.random.Generator, poses: np.ndarray, fps: float, angle_deg: float, shift_m: float) -> np.ndarray:
    """Add small high-frequency rotation and translation jitter (a hand's tremor) in the camera frame."""
    n = len(poses)
    from scipy.spatial.transform import Rotation

    omega = np.radians(angle_deg) * smooth_noise(rng, n, correlation_frames=0.1 * fps, dims=3)
    shift = shift_m * smooth_noise(rng, n, correlation_frames=0.1 * fps, dims=3)
    jitter = np.tile(np.eye(4), (n, 1, 1))
    jitter[:, :3, :3] = Rotation.from_rotvec(omega).as_matrix()
    jitter[:, :3, 3] = shift
    return poses @ jitter


def handheld_trajectory(layout: SceneLayout, n_frames: int, fps: float, rng: np.random.Generator) -> np.ndarray:
    """A hand-held camera walking through ``layout``'s eye region (see the module docstring).

    Returns:
        ``(n_frames, 4, 4)`` float64 ``T_world_cam``.
    """
    if layout.eye_region is None:
        return _wobbly_orbit(layout, n_frames, fps, rng)
    eye = _wander(rng, layout.eye_region, _distances(rng, n_frames, fps, HANDHELD_SPEED, 0.35))
    turn_rate = np.radians(HANDHELD_TURN_RATE_DEG) * smooth_noise(rng, n_frames, correlation_frames=fps)[:, 0]
    heading = rng.uniform(0, 2 * np.pi) + np.concatenate([[0.0], np.cumsum(turn_rate[:-1] / fps)])
    pitch = np.radians(HANDHELD_PITCH_DEG[0] + HANDHELD_PITCH_DEG[1] * smooth_noise(rng, n_frames, 2 * fps)[:, 0])
    a, b = _orbit_frame(layout)
    forward = (np.cos(pitch)[:, None] * (np.cos(heading)[:, None] * a + np.sin(heading)[:, None] * b)
               + np.sin(pitch)[:, None] * layout.up[None, :])
    roll = np.radians(3.0) * smooth_noise(rng, n_frames, correlation_frames=1.5 * fps)[:, 0]
    return _shake(rng, look_at(eye, eye + forward, layout.up, roll), fps, angle_deg=0.15, shift_m=0.001)


def _orbit_frame(layout: SceneLayout) -> tuple[np.ndarray, np.ndarray]:
    """Two horizontal unit vectors orthogonal to ``layout.up``."""
    up = layout.up
    helper = np.array([1.0, 0.0, 0.0]) if abs(up[0]) < 0.9 else np.array([0.0, 1.0, 0.0])
    a = np.cross(up, helper)
    a /= np.linalg.norm(a)
    return a, np.cross(up, a)


def _circle(layout: SceneLayout, angle: np.ndarray, radius: np.ndarray, height: np.ndarray) -> np.ndarray:
    a, b = _orbit_frame(layout)
    return (layout.focus[None, :] + radius[:, None] * (np.cos(angle)[:, None] * a + np.sin(angle)[:, None] * b)
            + height[:, None] * layout.up[None, :])


def orbit_trajectory(layout: SceneLayout, n_frames: int, fps: float, rng: np.random.Generator) -> np.ndarray:
    """One full circle around ``layout.focus`` (radius, height, start angle and direction drawn from ``rng``).

    Returns:
        ``(n_frames, 4, 4)`` float64 ``T_world_cam``.
    """
    del fps  # an orbit covers one turn whatever the frame rate
    start, direction = rng.uniform(0, 2 * np.pi), rng.choice([-1.0, 1.0])
    radius = np.full(n_frames, layout.orbit_radius * rng.uniform(0.85, 1.15))
    height = np.full(n_frames, layout.orbit_height * rng.uniform(0.7, 1.3))
    angle = start + direction * 2 * np.pi * np.arange(n_frames) / n_frames
    eye = _circle(layout, angle, radius, height)
    return look_at(eye, np.broadcast_to(layout.focus, eye.shape), layout.up)


def _wobbly_orbit(layout: SceneLayout, n_frames: int, fps: float, rng: np.random.Generator) -> np.ndarray:
    """A hand-held camera circling ``layout.focus`` at a varying radius, height and speed."""
    speed = HANDHELD_SPEED * np.exp(0.35 * smooth_noise(rng, n_frames, correlation_frames=2.0 * fps)[:, 0])
    angle = rng.uniform(0, 2 * np.pi) + rng.choice([-1.0, 1.0]) * np.concatenate(
        [[0.0], np.cumsum(speed[:-1] / fps / layout.orbit_radius)]
    )
    radius = layout.orbit_radius * np.exp(0.12 * smooth_noise(rng, n_frames, correlation_frames=3.0 * fps)[:, 0])
    height = layout.orbit_height * (1.0 + 0.25 * smooth_noise(rng, n_frames, correlation_frames=3.0 * fps)[:, 0])
    eye = _circle(layout, angle, radius, height)
    target = layout.focus[None, :] + 0.1 * layout.orbit_radius * smooth_noise(
        rng, n_frames, correlation_frames=fps, dims=3
    )
    roll = np.radians(3.0) * smooth_noise(rng, n_frames, correlation_frames=1.5 * fps)[:, 0]
    return _shake(rng, look_at(eye, target, layout.up, roll), fps, angle_deg=0.15, shift_m=0.001)


def _curvature(road: RoadPath) -> np.ndarray:
    """``(M,)`` absolute curvature (1/m) along the road's samples."""
    _, tangent = road.at(road.arclength)
    heading = np.unwrap(np.arctan2(tangent[:, 1], tangent[:, 0]))
    return np.abs(np.gradient(heading, road.arclength))


def _right_of(direction: np.ndarray, up: np.ndarray) -> np.ndarray:
    """``(N, 3)`` unit vectors to the right of horizontal travel ``direction`` ``(N, 3)``."""
    right = np.cross(direction, up[None, :])
    return right / np.linalg.norm(right, axis=1, keepdims=True)


def driving_trajectory(layout: SceneLayout, n_frames: int, fps: float, rng: np.random.Generator) -> np.ndarray:
    """A car-mounted camera driving along ``layout.road`` (see the module docstring).

    Raises:
        RenderError: the scene has no road, or the road is too short for ``n_frames`` at ``fps``.

    Returns:
        ``(n_frames, 4, 4)`` float64 ``T_world_cam``.
    """
    road = layout.road
    if road is None:
        raise RenderError("a driving trajectory needs a scene with a road (the street scene)")
    up = layout.up
    cruise = rng.uniform(*DRIVING_SPEEDS) * np.exp(0.1 * smooth_noise(rng, n_frames, correlation_frames=3 * fps)[:, 0])
    kappa = _curvature(road)
    needed = float(cruise.sum() / fps) + 2 * DRIVING_LOOK_AHEAD
    if needed > road.length:
        raise RenderError(
            f"the road is {road.length:.0f} m long, {n_frames} frames at {fps:g} frames/s need up to "
            f"{needed:.0f} m: build the street longer or render fewer frames"
        )
    forward_direction = rng.choice([-1.0, 1.0])
    start = rng.uniform(DRIVING_LOOK_AHEAD, road.length - needed + DRIVING_LOOK_AHEAD)
    if forward_direction < 0:
        start = road.length - start
    s = np.empty(n_frames)
    s[0] = start
    for k in range(1, n_frames):
        local_kappa = np.interp(s[k - 1], road.arclength, kappa)
        v = min(cruise[k - 1], np.sqrt(DRIVING_MAX_LATERAL_ACCELERATION / max(local_kappa, 1e-6)))
        s[k] = s[k - 1] + forward_direction * v / fps
    position, tangent = road.at(s)
    ahead, ahead_tangent = road.at(s + forward_direction * DRIVING_LOOK_AHEAD)
    lane = 0.5 * road.lane_width
    right, ahead_right = (_right_of(forward_direction * t, up) for t in (tangent, ahead_tangent))
    bump = 0.01 * smooth_noise(rng, n_frames, correlation_frames=0.3 * fps)[:, 0]
    eye = position + lane * right + (DRIVING_CAMERA_HEIGHT + bump)[:, None] * up[None, :]
    target = ahead + lane * ahead_right + DRIVING_CAMERA_HEIGHT * up[None, :]
    target += np.radians(0.4) * DRIVING_LOOK_AHEAD * smooth_noise(rng, n_frames, 0.5 * fps)[:, :1] * up[None, :]
    roll = np.radians(0.3) * smooth_noise(rng, n_frames, correlation_frames=0.5 * fps)[:, 0]
    return look_at(eye, target, up, roll)


_GENERATORS = {
    TrajectoryKind.HANDHELD: handheld_trajectory,
    TrajectoryKind.DRIVING: driving_trajectory,
    TrajectoryKind.ORBIT: orbit_trajectory,
}


def make_trajectory(
    kind: TrajectoryKind | str, layout: SceneLayout, n_frames: int, fps: float, rng: np.random.Generator
) -> np.ndarray:
    """``(n_frames, 4, 4)`` float64 ``T_world_cam`` of a ``kind`` path through ``layout`` at ``fps``."""
    kind = TrajectoryKind(kind)
    if n_frames < 1 or fps <= 0:
        raise ShapeError(f"trajectory: expected n_frames >= 1 and fps > 0, got {n_frames} and {fps}")
    return _GENERATORS[kind](layout, int(n_frames), float(fps), rng)
