"""From settings to a dataset on disk: build the scene, draw the trajectories, render, add sensor effects,
write. :func:`synthesize` is what ``posekit synth`` runs; :func:`render_sequence` and the writers are the
pieces, for callers (the demo, tests) that bring their own scene or poses.

Randomness is split by purpose with :class:`numpy.random.SeedSequence` (scene, each sequence's trajectory,
each sequence's sensor effects, each frame's noise), so the same settings and seed give byte-identical files,
and adding a sequence leaves the earlier ones unchanged.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, field
from enum import Enum
from pathlib import Path

import numpy as np

from posekit import __version__
from posekit.data.synth.mesh import MeshUpAxis, load_mesh_scene
from posekit.data.synth.renderer import Renderer
from posekit.data.synth.room import room_scene
from posekit.data.synth.scene import Scene
from posekit.data.synth.sensor import (
    SensorModel,
    apply_psf,
    degrade_color,
    degrade_depth,
    exposure_gains,
    quantize_color,
)
from posekit.data.synth.street import street_length_for, street_scene
from posekit.data.synth.trajectories import TrajectoryKind, make_trajectory
from posekit.data.synth.writers import (
    SynthLayout,
    SyntheticFrame,
    tum_sequence_dirs,
    write_7scenes,
    write_metadata,
    write_tum_rgbd,
)
from posekit.errors import DatasetError, ShapeError
from posekit.geometry import PinholeIntrinsics

# Focal length over image width per trajectory kind: a Kinect (585 px at 640) and KITTI's colour camera
# (718.856 px at 1241); fields of view 57.4 and 81.6 degrees.
DEFAULT_FOCAL_OVER_WIDTH = {
    TrajectoryKind.HANDHELD: 585.0 / 640.0,
    TrajectoryKind.ORBIT: 585.0 / 640.0,
    TrajectoryKind.DRIVING: 718.856 / 1241.0,
}

_TRAJECTORY_STREAM, _SENSOR_STREAM, _FRAME_STREAM = 1, 2, 3  # SeedSequence words per purpose


class SceneKind(Enum):
    """Where the frames are rendered."""

    ROOM = "room"
    STREET = "street"
    MESH = "mesh"


@dataclass(frozen=True)
class SynthConfig:
    """Everything that determines a synthetic dataset (the ``posekit synth`` options).

    Attributes:
        scene: room, street, or a user's mesh (``mesh`` gives its file).
        trajectory: hand-held, driving (street only) or orbit.
        frames: frames per sequence; fps: frame rate (sets speeds and timestamps).
        width, height: image size in pixels.
        seed: the one random seed.
        format: ``7scenes`` or ``tum``.
        sequences: number of sequences (different trajectories through the same scene).
        test_sequences: how many of them (the last ones) form the test split; None: none for one sequence,
            one for two, else a third (rounded).
        fov_deg: horizontal field of view; None: the focal length of :data:`DEFAULT_FOCAL_OVER_WIDTH`.
        sensor: sensor realism (all off by default: exact colour and depth).
        mesh, mesh_up, mesh_lit: the user's mesh file, its up axis (None: glTF y, else z), and whether to
            shade it with the world lighting.
        workers: threads that encode and write files (I/O-bound: each file is fsynced, so more threads than
            cores pay off).
    """

    scene: SceneKind = SceneKind.ROOM
    trajectory: TrajectoryKind = TrajectoryKind.HANDHELD
    frames: int = 100
    width: int = 320
    height: int = 240
    fps: float = 30.0
    seed: int = 0
    format: SynthLayout = SynthLayout.SEVENSCENES
    sequences: int = 1
    test_sequences: int | None = None
    fov_deg: float | None = None
    sensor: SensorModel = field(default_factory=SensorModel)
    mesh: Path | None = None
    mesh_up: MeshUpAxis | None = None
    mesh_lit: bool = True
    workers: int = 4

    def __post_init__(self) -> None:
        for name in ("frames", "width", "height", "sequences", "workers"):
            if int(getattr(self, name)) < 1:
                raise ShapeError(f"synth: {name} must be at least 1, got {getattr(self, name)}")
        if not self.fps > 0:
            raise ShapeError(f"synth: fps must be positive, got {self.fps}")
        if self.test_sequences is not None and not 0 <= self.test_sequences <= self.sequences:
            raise ShapeError(f"synth: test_sequences must be in 0..{self.sequences}, got {self.test_sequences}")
        if self.fov_deg is not None and not 0 < self.fov_deg < 180:
            raise ShapeError(f"synth: the field of view must be in (0, 180) degrees, got {self.fov_deg}")
        if (self.scene is SceneKind.MESH) != (self.mesh is not None):
            raise ShapeError("synth: a mesh file is needed exactly when the scene is 'mesh'")

    @property
    def test_count(self) -> int:
        if self.test_sequences is not None:
            return self.test_sequences
        return 0 if self.sequences == 1 else max(1, round(self.sequences / 3))

    def to_json(self) -> dict:
        """A JSON-ready dict of the settings that shape the data (enums by value, paths as given; not
        ``workers``, which changes only how fast the files are written)."""
        out = asdict(self)
        del out["workers"]
        for key, value in out.items():
            if isinstance(value, Enum):
                out[key] = value.value
            elif isinstance(value, Path):
                out[key] = str(value)
        return out


def default_intrinsics(width: int, height: int, fov_deg: float | None = None,
                       focal: float | None = None) -> PinholeIntrinsics:
    """Square pixels, principal point at the image centre (``cx = (W - 1) / 2``, pixel-centre convention),
    and either the horizontal field of view ``fov_deg`` or the focal length ``focal`` (pixels)."""
    if (fov_deg is None) == (focal is None):
        raise ShapeError("default_intrinsics: give exactly one of fov_deg and focal")
    if focal is None:
        focal = 0.5 * width / math.tan(math.radians(fov_deg) / 2)
    return PinholeIntrinsics(focal, focal, (width - 1) / 2, (height - 1) / 2, int(width), int(height))


def config_intrinsics(config: SynthConfig) -> PinholeIntrinsics:
    """The camera of ``config``: its field of view, or the trajectory kind's usual focal length."""
    if config.fov_deg is not None:
        return default_intrinsics(config.width, config.height, fov_deg=config.fov_deg)
    focal = DEFAULT_FOCAL_OVER_WIDTH[config.trajectory] * config.width
    return default_intrinsics(config.width, config.height, focal=focal)


def _rng(seed: int, *stream: int) -> np.random.Generator:
    return np.random.default_rng(np.random.SeedSequence([int(seed), *stream]))


def build_scene(config: SynthConfig) -> Scene:
    """The scene of ``config`` (a street is made long enough to drive the requested frames)."""
    if config.scene is SceneKind.ROOM:
        return room_scene(config.seed)
    if config.scene is SceneKind.STREET:
        return street_scene(config.seed, length=street_length_for(config.frames, config.fps))
    return load_mesh_scene(config.mesh, up=config.mesh_up, lit=config.mesh_lit)


def render_sequence(
    scene: Scene,
    T_world_cam: np.ndarray,
    intrinsics: PinholeIntrinsics,
    *,
    fps: float = 30.0,
    sensor: SensorModel | None = None,
    seed: int | Sequence[int] = 0,
    renderer: Renderer | None = None,
) -> Iterator[SyntheticFrame]:
    """Render one sequence, frame by frame (a generator: write each frame while the next renders).

    Args:
        scene: what to render.
        T_world_cam: ``(N, 4, 4)`` camera-to-world poses (OpenCV axes).
        intrinsics: the camera.
        fps: frame rate (timestamps ``k / fps``; the drift of exposure effects).
        sensor: the lens blur and sensor effects; None = :class:`SensorModel` defaults (lens blur only,
            exact depth).
        seed: seed (or seed words) of this sequence's sensor noise.
        renderer: a :class:`Renderer` of ``scene`` and ``intrinsics`` to reuse; None makes one.

    Yields:
        :class:`SyntheticFrame` per pose.
    """
    poses = np.asarray(T_world_cam, np.float64)
    if poses.ndim != 3 or poses.shape[1:] != (4, 4):
        raise ShapeError(f"T_world_cam: expected shape (N, 4, 4), got {poses.shape}")
    sensor = sensor or SensorModel()
    words = [int(seed)] if np.isscalar(seed) else [int(s) for s in seed]
    gains = exposure_gains(sensor, len(poses), fps, _rng(*words, _SENSOR_STREAM))
    own = renderer is None
    renderer = renderer or Renderer(scene, intrinsics)
    try:
        for k, pose in enumerate(poses):
            view = renderer.render(pose)
            rng = _rng(*words, _FRAME_STREAM, k)
            depth = view.depth if sensor.is_clean else degrade_depth(sensor, view.depth, view.color, rng)
            color = apply_psf(sensor, view.color)
            color = color if sensor.is_clean else degrade_color(sensor, color, gains[k], rng)
            yield SyntheticFrame(k, round(k / fps, 6), quantize_color(color), depth, pose.copy())
    finally:
        if own:
            renderer.close()


@dataclass(frozen=True)
class SynthResult:
    """What :func:`synthesize` wrote.

    Attributes:
        out_dir: the dataset folder.
        sequence_dirs: one folder per sequence.
        frame_counts: frames written per sequence.
        test_sequences: 0-based positions of the test sequences.
        intrinsics: the camera.
        seconds: wall time.
    """

    out_dir: Path
    sequence_dirs: tuple[Path, ...]
    frame_counts: tuple[int, ...]
    test_sequences: tuple[int, ...]
    intrinsics: PinholeIntrinsics
    seconds: float

    @property
    def frames(self) -> int:
        return sum(self.frame_counts)


def _check_output_folder(out_dir: Path) -> None:
    if out_dir.exists() and (not out_dir.is_dir() or any(out_dir.iterdir())):
        raise DatasetError(f"{out_dir}: the output folder exists and is not empty; choose a new folder")


def synthesize(config: SynthConfig, out_dir: str | Path) -> SynthResult:
    """Render and write the dataset described by ``config`` into the new or empty folder ``out_dir``.

    Raises:
        DatasetError: ``out_dir`` exists and is not empty.
        RenderError: no headless OpenGL, or a trajectory the scene cannot hold (driving without a road).
        FileFormatError: the mesh file cannot be read.
    """
    start = time.perf_counter()
    out_dir = Path(out_dir)
    _check_output_folder(out_dir)
    scene = build_scene(config)
    intrinsics = config_intrinsics(config)
    trajectories = [
        make_trajectory(config.trajectory, scene.layout, config.frames, config.fps,
                        _rng(config.seed, _TRAJECTORY_STREAM, i))
        for i in range(config.sequences)
    ]
    test = tuple(range(config.sequences - config.test_count, config.sequences))
    with Renderer(scene, intrinsics) as renderer:
        sequences = [
            render_sequence(scene, poses, intrinsics, fps=config.fps, sensor=config.sensor,
                            seed=(config.seed, i), renderer=renderer)
            for i, poses in enumerate(trajectories)
        ]
        if config.format is SynthLayout.SEVENSCENES:
            counts = write_7scenes(out_dir, sequences, intrinsics, test_sequences=test, workers=config.workers)
            dirs = tuple(out_dir / f"seq-{i + 1:02d}" for i in range(config.sequences))
        else:
            counts = write_tum_rgbd(out_dir, sequences, intrinsics, workers=config.workers)
            dirs = tuple(tum_sequence_dirs(out_dir, config.sequences))
    metadata = {"generator": f"posekit {__version__}", "config": config.to_json(),
                "scene_triangles": scene.triangle_count, "test_sequences": [i + 1 for i in test]}
    write_metadata(out_dir, metadata)
    return SynthResult(out_dir, dirs, tuple(counts), test, intrinsics, time.perf_counter() - start)
