"""Write rendered sequences in the real dataset layouts, so that the dataset readers load them unchanged.

**7-Scenes** (``7scenes``), one scene folder::

    OUT/camera-intrinsics.txt          3x3 K (pixel-centre convention, the one the images were rendered with)
    OUT/TrainSplit.txt, TestSplit.txt  lines "sequence1", "sequence2", ...
    OUT/seq-01/frame-000000.color.png  8-bit RGB
    OUT/seq-01/frame-000000.depth.png  16-bit z-depth in millimetres, 0 = unknown (beyond 65.534 m too)
    OUT/seq-01/frame-000000.pose.txt   4x4 T_world_cam, metres

**TUM RGB-D** (``tum``): one sequence is written into ``OUT`` itself, several into ``OUT/seq-01``, ...::

    rgb.txt, depth.txt        "timestamp filename" lines (``#`` header)
    groundtruth.txt           TUM trajectory "timestamp tx ty tz qx qy qz qw" of T_world_cam
    rgb/<timestamp>.png       8-bit RGB
    depth/<timestamp>.png     16-bit z-depth in metres * 5000, 0 = unknown (beyond 13.107 m too)
    intrinsics.yaml           fx, fy, cx, cy, width, height, depth_scale

Files are encoded and written by a small thread pool while the next frame renders; every file is written
atomically. The output is byte-for-byte a function of the frames (no timestamps of the writing).

**Completion marker.** Each writer first removes ``posekit-synth.complete`` from ``OUT`` and writes
``posekit-synth.incomplete``; when every file is written it writes ``posekit-synth.complete`` (the frame
count of each sequence, JSON) and removes the other. An interrupted run leaves ``posekit-synth.incomplete``
(or, for a folder from before the marker, neither), which ``posekit data check`` reports
(:func:`posekit.data.verify.check_synth_markers`).
"""

from __future__ import annotations

import json
from collections import deque
from collections.abc import Callable, Collection, Iterable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from enum import Enum
from pathlib import Path

import numpy as np
import torch

from posekit.data.calibration import CAMERA_INTRINSICS_TXT, INTRINSICS_YAML
from posekit.data.synth.png import encode_png
from posekit.data.verify import SYNTH_COMPLETE_MARKER as COMPLETE_MARKER
from posekit.data.verify import SYNTH_INCOMPLETE_MARKER as INCOMPLETE_MARKER
from posekit.errors import ShapeError
from posekit.fileio import atomic_write_bytes, atomic_write_text
from posekit.geometry import PinholeIntrinsics
from posekit.metrics.trajectory import Trajectory
from posekit.metrics.trajectory_files import write_pose_matrix_file, write_tum

SEVENSCENES_DEPTH_SCALE = 0.001  # metres per unit (millimetres)
SEVENSCENES_MAX_CODE = 65534  # 65535 means "unknown" in 7-Scenes
TUM_DEPTH_SCALE = 1.0 / 5000.0
TUM_MAX_CODE = 65535
METADATA_FILE = "posekit-synth.json"


class SynthLayout(Enum):
    """On-disk layouts the synthesiser writes."""

    SEVENSCENES = "7scenes"
    TUM = "tum"


@dataclass(frozen=True)
class SyntheticFrame:
    """One rendered frame, as the sensor recorded it.

    Attributes:
        index: frame number within its sequence.
        timestamp: seconds from the sequence start (``index / fps``, rounded to microseconds).
        color: ``(H, W, 3)`` uint8 RGB.
        depth: ``(H, W)`` float32 z-depth in metres, 0 = unknown.
        T_world_cam: ``(4, 4)`` float64 exact camera-to-world pose.
    """

    index: int
    timestamp: float
    color: np.ndarray
    depth: np.ndarray
    T_world_cam: np.ndarray


def encode_depth(depth: np.ndarray, metres_per_unit: float, max_code: int) -> np.ndarray:
    """``(H, W)`` metres to uint16 codes ``round(depth / metres_per_unit)``; unknown or out of range -> 0."""
    codes = np.rint(np.nan_to_num(depth.astype(np.float64), nan=0.0, posinf=0.0) / metres_per_unit)
    codes[(codes < 1) | (codes > max_code)] = 0
    return codes.astype(np.uint16)


class ParallelFileWriter:
    """Runs file-producing jobs on a thread pool, with at most ``4 * workers`` in flight.

    Errors surface at the next :meth:`submit` or at :meth:`close` (the first one raised).
    """

    def __init__(self, workers: int = 4):
        self._pool = ThreadPoolExecutor(max_workers=max(1, workers), thread_name_prefix="posekit-synth-writer")
        self._pending: deque[Future] = deque()
        self._limit = 4 * max(1, workers)

    def submit(self, job: Callable[[], None]) -> None:
        while len(self._pending) >= self._limit:
            self._pending.popleft().result()
        self._pending.append(self._pool.submit(job))

    def close(self) -> None:
        try:
            while self._pending:
                self._pending.popleft().result()
        finally:
            self._pool.shutdown(wait=True, cancel_futures=True)

    def __enter__(self) -> ParallelFileWriter:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def _write_png(path: Path, image: np.ndarray) -> None:
    atomic_write_bytes(path, encode_png(image))


def _check_frame(frame: SyntheticFrame, intrinsics: PinholeIntrinsics) -> None:
    size = (intrinsics.height, intrinsics.width)
    if frame.color.shape != size + (3,) or frame.color.dtype != np.uint8:
        raise ShapeError(f"frame {frame.index}: colour must be {size + (3,)} uint8, got {frame.color.shape} "
                         f"{frame.color.dtype}")
    if frame.depth.shape != size:
        raise ShapeError(f"frame {frame.index}: depth must be {size}, got {frame.depth.shape}")


def camera_matrix_text(intrinsics: PinholeIntrinsics) -> str:
    """``camera-intrinsics.txt`` content: the 3x3 K, one row per line, full float precision."""
    k = intrinsics
    rows = ((k.fx, 0.0, k.cx), (0.0, k.fy, k.cy), (0.0, 0.0, 1.0))
    return "".join(" ".join(repr(float(v)) for v in row) + "\n" for row in rows)


def intrinsics_yaml_text(intrinsics: PinholeIntrinsics, depth_scale: float) -> str:
    """``intrinsics.yaml`` content (keys fx, fy, cx, cy, width, height, depth_scale)."""
    k = intrinsics
    values = (("fx", k.fx), ("fy", k.fy), ("cx", k.cx), ("cy", k.cy))
    lines = [f"{name}: {float(value)!r}" for name, value in values]
    lines += [f"width: {int(k.width)}", f"height: {int(k.height)}", f"depth_scale: {depth_scale!r}"]
    return "\n".join(lines) + "\n"


def write_metadata(out_dir: Path, metadata: dict) -> None:
    """The settings that made the data (``posekit-synth.json``), for provenance."""
    atomic_write_text(Path(out_dir) / METADATA_FILE, json.dumps(metadata, indent=2, sort_keys=True) + "\n")


def _mark_started(out_dir: Path) -> None:
    """Before the first file: the output is incomplete until :func:`_mark_complete`."""
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / COMPLETE_MARKER).unlink(missing_ok=True)
    atomic_write_text(out_dir / INCOMPLETE_MARKER, "posekit synth: writing; this file is removed when it ends\n")


def _mark_complete(out_dir: Path, counts: Sequence[int]) -> None:
    """After the last file (every writer thread joined): the frame counts, then the in-progress marker goes."""
    atomic_write_text(out_dir / COMPLETE_MARKER, json.dumps({"frames_per_sequence": list(counts)}) + "\n")
    (out_dir / INCOMPLETE_MARKER).unlink(missing_ok=True)


def write_7scenes(
    out_dir: str | Path,
    sequences: Sequence[Iterable[SyntheticFrame]],
    intrinsics: PinholeIntrinsics,
    test_sequences: Collection[int] = (),
    workers: int = 4,
) -> list[int]:
    """Write ``sequences`` as one 7-Scenes scene (see the module docstring).

    Args:
        out_dir: the scene folder (created).
        sequences: one iterable of frames per sequence (consumed lazily: rendering overlaps writing).
        intrinsics: the camera of every frame.
        test_sequences: 0-based positions in ``sequences`` listed in ``TestSplit.txt``; the rest go to
            ``TrainSplit.txt``.
        workers: writer threads.

    Returns:
        The number of frames written per sequence.
    """
    out_dir = Path(out_dir)
    _mark_started(out_dir)
    atomic_write_text(out_dir / CAMERA_INTRINSICS_TXT, camera_matrix_text(intrinsics))
    test = set(test_sequences)
    if not test <= set(range(len(sequences))):
        raise ShapeError(f"test_sequences: positions {sorted(test)} outside 0..{len(sequences) - 1}")
    names = [f"sequence{i + 1}" for i in range(len(sequences))]
    atomic_write_text(out_dir / "TrainSplit.txt", "".join(f"{n}\n" for i, n in enumerate(names) if i not in test))
    atomic_write_text(out_dir / "TestSplit.txt", "".join(f"{n}\n" for i, n in enumerate(names) if i in test))
    counts = []
    with ParallelFileWriter(workers) as writer:
        for i, frames in enumerate(sequences):
            folder = out_dir / f"seq-{i + 1:02d}"
            folder.mkdir(exist_ok=True)
            count = 0
            for frame in frames:
                _check_frame(frame, intrinsics)
                stem = folder / f"frame-{frame.index:06d}"
                codes = encode_depth(frame.depth, SEVENSCENES_DEPTH_SCALE, SEVENSCENES_MAX_CODE)
                pose = torch.from_numpy(np.array(frame.T_world_cam, np.float64))
                writer.submit(lambda p=stem.with_name(stem.name + ".color.png"), c=frame.color: _write_png(p, c))
                writer.submit(lambda p=stem.with_name(stem.name + ".depth.png"), d=codes: _write_png(p, d))
                writer.submit(lambda p=stem.with_name(stem.name + ".pose.txt"), t=pose: write_pose_matrix_file(p, t))
                count += 1
            counts.append(count)
    _mark_complete(out_dir, counts)
    return counts


def _file_list_text(what: str, folder: str, stamps: Sequence[float]) -> str:
    """A TUM ``rgb.txt`` / ``depth.txt``: header lines, then ``timestamp folder/timestamp.png`` per frame."""
    header = f"# {what}\n# file: 'posekit synth'\n# timestamp filename\n"
    return header + "".join(f"{t:.6f} {folder}/{t:.6f}.png\n" for t in stamps)


def tum_sequence_dirs(out_dir: str | Path, n_sequences: int) -> list[Path]:
    """Where :func:`write_tum_rgbd` puts each sequence: ``OUT`` for one, ``OUT/seq-01``, ... for several."""
    out_dir = Path(out_dir)
    return [out_dir] if n_sequences == 1 else [out_dir / f"seq-{i + 1:02d}" for i in range(n_sequences)]


def write_tum_rgbd(
    out_dir: str | Path,
    sequences: Sequence[Iterable[SyntheticFrame]],
    intrinsics: PinholeIntrinsics,
    workers: int = 4,
) -> list[int]:
    """Write ``sequences`` in the TUM RGB-D layout (see the module docstring).

    Returns:
        The number of frames written per sequence.
    """
    counts = []
    _mark_started(Path(out_dir))
    with ParallelFileWriter(workers) as writer:
        for folder, frames in zip(tum_sequence_dirs(out_dir, len(sequences)), sequences):
            (folder / "rgb").mkdir(parents=True, exist_ok=True)
            (folder / "depth").mkdir(exist_ok=True)
            atomic_write_text(folder / INTRINSICS_YAML, intrinsics_yaml_text(intrinsics, TUM_DEPTH_SCALE))
            stamps, poses = [], []
            for frame in frames:
                _check_frame(frame, intrinsics)
                name = f"{frame.timestamp:.6f}.png"
                codes = encode_depth(frame.depth, TUM_DEPTH_SCALE, TUM_MAX_CODE)
                writer.submit(lambda p=folder / "rgb" / name, c=frame.color: _write_png(p, c))
                writer.submit(lambda p=folder / "depth" / name, d=codes: _write_png(p, d))
                stamps.append(frame.timestamp)
                poses.append(np.asarray(frame.T_world_cam, np.float64))
            atomic_write_text(folder / "rgb.txt", _file_list_text("color images", "rgb", stamps))
            atomic_write_text(folder / "depth.txt", _file_list_text("depth maps", "depth", stamps))
            if poses:
                trajectory = Trajectory(torch.from_numpy(np.stack(poses)), torch.tensor(stamps, dtype=torch.float64))
                write_tum(folder / "groundtruth.txt", trajectory)
            counts.append(len(stamps))
    _mark_complete(Path(out_dir), counts)
    return counts
