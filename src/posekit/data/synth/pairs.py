"""Rendered image pairs for pre-training relative-pose heads: many procedurally varied rooms, each pair a
target view at a room-appropriate depth and a source view displaced by a relative motion drawn from a
:class:`MotionBank`.

- **Rooms**: :func:`~posekit.data.synth.room.room_scene` with seeds ``room_seed, room_seed + 1, ...`` (layout,
  furniture, textures and tints differ per seed), each under its own random world lighting
  (:func:`random_lighting`).
- **Target views**: a hand-held-like camera in the room's eye region (1.35-1.8 m high, 0.9 m from the walls),
  heading uniform, pitch ``-12 +- 10`` deg, roll ``+-3`` deg, kept only if the median depth of its view lies in
  ``median_depth`` (default 1.4-2.5 m: the 10th-90th percentiles of the per-frame median sensor depth of
  7-Scenes redkitchen frames 0-799 are 1.47-2.37 m), so the parallax per metre of motion is the real one.
- **Motions**: ``T_src_tgt`` drawn from the bank (:meth:`MotionBank.from_poses` takes the real hand-held
  motions of a training sequence at the training frame distances, so their statistics per distance are the
  real ones; :meth:`MotionBank.isotropic` a uniform model for tests), mirrored left-right with probability 1/2.
  ``T_world_src = T_world_tgt @ inv(T_src_tgt)``; a source whose view hits something closer than 0.2 m on
  more than 1% of its pixels (inside or against furniture) draws another motion.
- **Sensor**: the lens blur, image noise and an exposure / white-balance gain per pair (log-normal,
  ``sensor.exposure_sigma``) that changes between the two views by ``pair_exposure_sigma``
  (:mod:`posekit.data.synth.sensor`); images are written as JPEG (quality 90), like 7-Scenes'.

The set is written once into ``root/pairs-<digest>/`` (``images/RRRRRR-NNNN.jpg`` per room seed and view,
``rooms/NNNNN.json`` per finished room, and, last and atomically, ``pairs.json``: poses, pairs, distances,
rooms); the digest covers the configuration and the motion bank, so
a finished folder is reused and any change renders a new one. Frame records of the views
(:class:`~posekit.data.records.FrameRecord`, one record id per room) let the usual loaders and the feature
cache read them.

Example:
    >>> bank = MotionBank.isotropic(1000, t_max_m=0.1, r_max_deg=6.0, seed=0)
    >>> pairs = render_pairs(PairRenderConfig(pairs=40, pairs_per_room=20), bank, "/tmp/pairs")  # doctest: +SKIP
    >>> len(pairs.frames), pairs.pairs.shape  # doctest: +SKIP
    (60, torch.Size([40, 2]))
"""

from __future__ import annotations

import hashlib
import json
import math
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, replace
from enum import Enum
from pathlib import Path

import numpy as np
import torch

from posekit.data.records import SINGLE_CAMERA, FrameRecord
from posekit.data.synth.renderer import Renderer
from posekit.data.synth.room import room_scene
from posekit.data.synth.scene import Lighting, Scene
from posekit.data.synth.sensor import SensorModel, apply_psf, degrade_color, quantize_color
from posekit.data.synth.trajectories import HANDHELD_PITCH_DEG, look_at
from posekit.errors import ConfigError, RenderError, ShapeError
from posekit.fileio import atomic_save, atomic_write_text, read_text
from posekit.geometry import PinholeIntrinsics
from posekit.metrics.relative_motion import pair_motion

PAIRS_VERSION = 2  # bump when the rendering of a pair set changes
MANIFEST = "pairs.json"
MIN_SURFACE_DISTANCE = 0.2  # m: a source view with more than 1% of its pixels closer is inside furniture
_MIRROR = np.diag([-1.0, 1.0, 1.0, 1.0])


@dataclass(frozen=True)
class MotionBank:
    """Relative motions to draw pairs from.

    Attributes:
        T_src_tgt: ``(M, 4, 4)`` float64 motions.
        distances: ``(M,)`` int64 frame distance of each (0 where it has none).
    """

    T_src_tgt: torch.Tensor
    distances: torch.Tensor

    def __post_init__(self) -> None:
        if self.T_src_tgt.dim() != 3 or self.T_src_tgt.shape[1:] != (4, 4) or self.T_src_tgt.shape[0] == 0:
            raise ShapeError(f"MotionBank: expected (M, 4, 4) motions, M > 0, got {tuple(self.T_src_tgt.shape)}")
        if self.distances.shape != (self.T_src_tgt.shape[0],):
            raise ShapeError(f"MotionBank: expected ({self.T_src_tgt.shape[0]},) distances, got {tuple(self.distances.shape)}")

    @classmethod
    def from_poses(cls, T_world_cam: torch.Tensor, distances: Sequence[int], both_directions: bool = True) -> MotionBank:
        """Every motion between frames ``d`` apart (``d`` in ``distances``, and ``-d`` with ``both_directions``)
        of a ``(N, 4, 4)`` camera-to-world sequence; each distance weighs by its number of pairs."""
        signed = list(distances) + ([-int(d) for d in distances] if both_directions else [])
        motions, labels = [], []
        for d in signed:
            motion = pair_motion(T_world_cam, int(d))
            motions.append(motion)
            labels.append(torch.full((motion.shape[0],), abs(int(d)), dtype=torch.int64))
        return cls(torch.cat(motions), torch.cat(labels))

    @classmethod
    def isotropic(cls, count: int, t_max_m: float, r_max_deg: float, seed: int = 0) -> MotionBank:
        """``count`` motions with uniformly random translation directions and rotation axes, lengths uniform
        in ``[0, t_max_m]`` and angles uniform in ``[0, r_max_deg]``."""
        from scipy.spatial.transform import Rotation

        rng = np.random.default_rng(np.random.SeedSequence([int(seed), 0x1507]))
        t = rng.standard_normal((count, 3))
        t *= (rng.uniform(0, t_max_m, count) / np.linalg.norm(t, axis=1))[:, None]
        axis = rng.standard_normal((count, 3))
        axis *= (np.radians(rng.uniform(0, r_max_deg, count)) / np.linalg.norm(axis, axis=1))[:, None]
        poses = np.tile(np.eye(4), (count, 1, 1))
        poses[:, :3, :3] = Rotation.from_rotvec(axis).as_matrix()
        poses[:, :3, 3] = t
        return cls(torch.from_numpy(poses), torch.zeros(count, dtype=torch.int64))

    def draw(self, rng: np.random.Generator, mirror: bool = True) -> tuple[np.ndarray, int]:
        """One ``(4, 4)`` float64 motion and its distance; mirrored (x -> -x, a valid motion of the mirrored
        world) with probability 1/2 when ``mirror``."""
        k = int(rng.integers(self.T_src_tgt.shape[0]))
        motion = self.T_src_tgt[k].numpy().copy()
        if mirror and rng.uniform() < 0.5:
            motion = _MIRROR @ motion @ _MIRROR
        return motion, int(self.distances[k])

    def digest(self) -> str:
        """SHA-256 of the motions and distances."""
        h = hashlib.sha256()
        h.update(self.T_src_tgt.double().contiguous().numpy().tobytes())
        h.update(self.distances.contiguous().numpy().tobytes())
        return h.hexdigest()


@dataclass(frozen=True)
class PairRenderConfig:
    """What a pair set holds (every field is part of its folder's digest).

    Attributes:
        pairs: number of pairs.
        sources_per_target: source views sharing one target view (fewer images to render and encode).
        pairs_per_room: pairs rendered in each room (rooms = ceil(pairs / pairs_per_room)).
        room_seed: seed of the first room.
        width, height, focal: the pinhole camera (principal point at the centre); default 256 x 192 at
            234 px, 7-Scenes' 640 x 480 at 585 px scaled to the working size of the real experiment.
        median_depth: ``(low, high)`` metres: accepted median depth of a target view.
        sensor: lens blur and sensor effects on the colour images (depth is not written).
        pair_exposure_sigma: log-gain change between the two views of a pair.
        vary_lighting: random world lighting per room (else :class:`Lighting`'s default).
        mirror: mirror drawn motions left-right with probability 1/2.
        seed: seed of the views, motions and noise.
        jpeg_quality: quality of the written images.
    """

    pairs: int = 2000
    sources_per_target: int = 2
    pairs_per_room: int = 40
    room_seed: int = 0
    width: int = 256
    height: int = 192
    focal: float = 234.0
    median_depth: tuple[float, float] = (1.4, 2.5)
    sensor: SensorModel = field(default_factory=lambda: SensorModel(exposure=True, image_noise=True))
    pair_exposure_sigma: float = 0.04
    vary_lighting: bool = True
    mirror: bool = True
    seed: int = 0
    jpeg_quality: int = 90

    def __post_init__(self) -> None:
        for name in ("pairs", "sources_per_target", "pairs_per_room", "width", "height"):
            if int(getattr(self, name)) < 1:
                raise ConfigError(f"pairs: {name} must be at least 1, got {getattr(self, name)}")
        if not self.focal > 0 or not 0 < self.median_depth[0] < self.median_depth[1]:
            raise ConfigError(f"pairs: expected focal > 0 and 0 < median_depth low < high, got {self.focal}, "
                              f"{self.median_depth}")

    @property
    def rooms(self) -> int:
        return math.ceil(self.pairs / self.pairs_per_room)

    def intrinsics(self) -> PinholeIntrinsics:
        return PinholeIntrinsics(self.focal, self.focal, (self.width - 1) / 2, (self.height - 1) / 2,
                                 self.width, self.height)

    def to_json(self) -> dict:
        out = asdict(self)
        out["median_depth"] = list(self.median_depth)
        return out


class PairExpansion(str, Enum):
    """Which ordered pairs of a pair set's views to train on (:meth:`PairSet.group_pairs`)."""

    GIVEN = "given"
    BOTH = "both"
    ALL = "all"


@dataclass
class PairSet:
    """A rendered pair set.

    Attributes:
        root: its folder.
        frames: the views (targets and sources), one record id per room.
        pairs: ``(P, 2)`` int64 ``(target, source)`` positions in ``frames``.
        distances: ``(P,)`` the frame distance of each pair's motion (0: the bank had none).
        rooms: ``(P,)`` the room seed of each pair.
        seconds: rendering time (0 when the folder was reused).
    """

    root: Path
    frames: list[FrameRecord]
    pairs: torch.Tensor
    distances: torch.Tensor
    rooms: torch.Tensor
    seconds: float

    @property
    def T_world_cam(self) -> torch.Tensor:
        """``(N, 4, 4)`` float64 poses of :attr:`frames`."""
        return torch.stack([f.T_world_cam for f in self.frames])

    def T_src_tgt(self, pairs: torch.Tensor | None = None) -> torch.Tensor:
        """``(P, 4, 4)`` float64 ground-truth motion of each pair of ``pairs`` (default: :attr:`pairs`)."""
        pairs = self.pairs if pairs is None else pairs
        poses = self.T_world_cam
        return torch.linalg.solve(poses[pairs[:, 1]], poses[pairs[:, 0]])

    def group_pairs(self, mode: PairExpansion | str) -> torch.Tensor:
        """``(Q, 2)`` ``(target, source)`` positions: the rendered pairs (``given``), also reversed (``both``:
        like the real training's ``-d`` pairs, motions of the same statistics), or every ordered pair of views
        sharing a target view (``all``: ``(K + 1) K`` pairs from the ``K + 1`` views of a group, more and larger
        motions from the same images)."""
        mode = PairExpansion(mode)
        if mode is PairExpansion.GIVEN:
            return self.pairs.clone()
        if mode is PairExpansion.BOTH:
            return torch.cat((self.pairs, self.pairs.flip(1)))
        groups: dict[int, list[int]] = {}
        for t, s in self.pairs.tolist():
            groups.setdefault(t, [t]).append(s)
        out = [(a, b) for views in groups.values() for a in views for b in views if a != b]
        return torch.tensor(out, dtype=torch.int64)


def concatenate_pair_sets(sets: Sequence[PairSet]) -> PairSet:
    """One pair set of the views and pairs of ``sets`` (pairs re-indexed; ``root`` of the first)."""
    if not sets:
        raise ConfigError("concatenate_pair_sets: no pair set given")
    frames, pairs, offset = [], [], 0
    for part in sets:
        frames += part.frames
        pairs.append(part.pairs + offset)
        offset += len(part.frames)
    return PairSet(sets[0].root, frames, torch.cat(pairs), torch.cat([p.distances for p in sets]),
                   torch.cat([p.rooms for p in sets]), sum(p.seconds for p in sets))


def _rng(*words: int) -> np.random.Generator:
    return np.random.default_rng(np.random.SeedSequence([int(w) for w in words]))


def random_lighting(rng: np.random.Generator) -> Lighting:
    """World lighting with a random ambient level and two random downward lights."""
    directions = []
    for _ in range(2):
        d = rng.standard_normal(3)
        d[2] = -abs(d[2]) - 0.3
        directions.append(tuple(float(x) for x in d / np.linalg.norm(d)))
    return Lighting(ambient=float(rng.uniform(0.3, 0.6)), directions=tuple(directions),
                    diffuse=(float(rng.uniform(0.25, 0.6)), float(rng.uniform(0.05, 0.3))))


def _target_pose(scene: Scene, rng: np.random.Generator) -> np.ndarray:
    layout = scene.layout
    eye = layout.eye_region.sample(rng, 1)
    heading = rng.uniform(0, 2 * np.pi)
    pitch = np.radians(HANDHELD_PITCH_DEG[0] + HANDHELD_PITCH_DEG[1] * rng.standard_normal())
    forward = np.array([np.cos(pitch) * np.cos(heading), np.cos(pitch) * np.sin(heading), np.sin(pitch)])
    return look_at(eye, eye + forward[None], layout.up, np.radians(3.0) * rng.standard_normal(1))[0]


def _inside(scene: Scene, T_world_cam: np.ndarray, margin: float = 0.3) -> bool:
    bounds = scene.layout.bounds
    eye = T_world_cam[:3, 3]
    return bool(np.all(eye > bounds.low + margin) and np.all(eye < bounds.high - margin))


def _pair_gains(sensor: SensorModel, pair_sigma: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """``(3,)`` RGB gains of the target and source views."""
    if not sensor.exposure:
        return np.ones(3), np.ones(3)
    base = np.exp(sensor.exposure_sigma * rng.standard_normal() + sensor.white_balance_sigma * rng.standard_normal(3))
    change = np.exp(pair_sigma * rng.standard_normal() + 0.25 * sensor.white_balance_sigma * rng.standard_normal(3))
    return base, base * change


def pair_set_dir(config: PairRenderConfig, bank: MotionBank, root: str | Path) -> Path:
    """The folder of the pair set of ``config`` and ``bank`` under ``root``."""
    key = json.dumps({"version": PAIRS_VERSION, "config": config.to_json(), "bank": bank.digest()}, sort_keys=True)
    return Path(root) / f"pairs-{hashlib.sha256(key.encode()).hexdigest()[:16]}"


def render_pairs(config: PairRenderConfig, bank: MotionBank, root: str | Path, max_tries: int = 50) -> PairSet:
    """Render the pair set of ``config`` with motions from ``bank`` into ``root`` (or reuse it).

    Rooms are rendered one at a time, each finished room recorded in ``rooms/NNNNN.json``, so an interrupted
    run resumes at the first unfinished room (each room's views depend only on ``config.seed`` and the room).

    Raises:
        RenderError: no OpenGL, or a room where no view passes the checks in ``max_tries`` draws.
    """
    out = pair_set_dir(config, bank, root)
    if (out / MANIFEST).exists():
        return load_pair_set(out)
    start = time.perf_counter()
    (out / "images").mkdir(parents=True, exist_ok=True)
    (out / "rooms").mkdir(exist_ok=True)
    k = config.intrinsics()
    poses, rooms_of_frame, pairs, distances, pair_rooms = [], [], [], [], []
    for room in range(config.rooms):
        count = min(config.pairs_per_room, config.pairs - room * config.pairs_per_room)
        part_path = out / "rooms" / f"{room:05d}.json"
        if not part_path.exists():
            atomic_write_text(part_path, json.dumps(_render_room(out, config, bank, room, count, k, max_tries)))
        part = json.loads(read_text(part_path))
        offset = len(poses)
        poses += part["T_world_cam"]
        rooms_of_frame += [part["room"]] * len(part["T_world_cam"])
        pairs += [(offset + t, offset + s) for t, s in part["pairs"]]
        distances += part["distances"]
        pair_rooms += [part["room"]] * len(part["pairs"])
    manifest = {"version": PAIRS_VERSION, "config": config.to_json(), "intrinsics": [k.fx, k.fy, k.cx, k.cy, k.width, k.height],
                "T_world_cam": poses, "frame_rooms": rooms_of_frame, "pairs": pairs,
                "distances": distances, "rooms": pair_rooms, "seconds": time.perf_counter() - start}
    atomic_write_text(out / MANIFEST, json.dumps(manifest))
    result = load_pair_set(out)
    result.seconds = manifest["seconds"]
    return result


def _image_path(out: Path, room_seed: int, index: int) -> Path:
    return out / "images" / f"{room_seed:06d}-{index:04d}.jpg"


def _render_room(out: Path, config: PairRenderConfig, bank: MotionBank, room: int, count: int, k: PinholeIntrinsics,
                 max_tries: int) -> dict:
    """Render ``count`` pairs in room ``room``; returns its part of the manifest (room-local frame indices)."""
    seed = config.room_seed + room
    rng = _rng(config.seed, seed)
    scene = room_scene(seed)
    if config.vary_lighting:
        scene = replace(scene, lighting=random_lighting(rng))
    poses, pairs, distances = [], [], []
    with Renderer(scene, k) as renderer:
        while len(pairs) < count:
            target, view = _draw_target(scene, renderer, config, rng, max_tries)
            gains = _pair_gains(config.sensor, config.pair_exposure_sigma, rng)
            t_index = len(poses)
            _write_view(_image_path(out, seed, t_index), view.color, gains[0], config, rng)
            poses.append(target.tolist())
            for _ in range(min(config.sources_per_target, count - len(pairs))):
                source, d, view = _draw_source(scene, renderer, target, bank, config, rng, max_tries)
                _write_view(_image_path(out, seed, len(poses)), view.color, gains[1], config, rng)
                pairs.append((t_index, len(poses)))
                poses.append(source.tolist())
                distances.append(d)
    return {"room": seed, "T_world_cam": poses, "pairs": pairs, "distances": distances}


def _draw_target(scene: Scene, renderer: Renderer, config: PairRenderConfig, rng: np.random.Generator, max_tries: int):
    low, high = config.median_depth
    for _ in range(max_tries):
        pose = _target_pose(scene, rng)
        view = renderer.render(pose)
        valid = view.depth[view.depth > 0]
        if valid.size > 0.99 * view.depth.size and low <= float(np.median(valid)) <= high:
            return pose, view
    raise RenderError(f"room {scene.name}: no target view with a median depth in {config.median_depth} m in {max_tries} draws")


def _draw_source(scene: Scene, renderer: Renderer, target: np.ndarray, bank: MotionBank, config: PairRenderConfig,
                 rng: np.random.Generator, max_tries: int):
    for _ in range(max_tries):
        motion, d = bank.draw(rng, config.mirror)
        source = target @ np.linalg.inv(motion)
        if not _inside(scene, source):
            continue
        view = renderer.render(source)
        close = (view.depth <= MIN_SURFACE_DISTANCE).mean()  # 0 = nothing hit counts as close
        if close <= 0.01:
            return source, d, view
    raise RenderError(f"room {scene.name}: no source view clear of the furniture in {max_tries} draws")


def _write_view(path: Path, color: np.ndarray, gains: np.ndarray, config: PairRenderConfig,
                rng: np.random.Generator) -> None:
    from PIL import Image

    color = apply_psf(config.sensor, color)
    if not config.sensor.is_clean:
        color = degrade_color(config.sensor, color, gains, rng)
    image = Image.fromarray(quantize_color(color))
    atomic_save(path, lambda f: image.save(f, format="JPEG", quality=config.jpeg_quality))


def load_pair_set(folder: str | Path) -> PairSet:
    """The pair set written in ``folder`` (its ``pairs.json``)."""
    folder = Path(folder)
    manifest = json.loads(read_text(folder / MANIFEST))
    fx, fy, cx, cy, width, height = manifest["intrinsics"]
    k = PinholeIntrinsics(fx, fy, cx, cy, int(width), int(height))
    frames, local = [], {}
    for i, (pose, room) in enumerate(zip(manifest["T_world_cam"], manifest["frame_rooms"])):
        index = local[room] = local.get(room, -1) + 1
        frames.append(FrameRecord(_image_path(folder, room, index), torch.tensor(pose, dtype=torch.float64), k,
                                  record_id=f"room{room:06d}", camera_id=SINGLE_CAMERA, frame_id=f"{index:04d}", order=i))
    return PairSet(folder, frames, torch.tensor(manifest["pairs"], dtype=torch.int64).reshape(-1, 2),
                   torch.tensor(manifest["distances"], dtype=torch.int64), torch.tensor(manifest["rooms"], dtype=torch.int64), 0.0)
