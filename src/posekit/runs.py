"""The run-folder contract: what training and evaluation write and the HTML report reads, and the per-frame
error files in it.

A run folder (training and/or evaluation of one or more methods)::

    RUN_DIR/
      config.yaml             the resolved configuration of the run
      model.safetensors       the exported model of a training run (what ``posekit eval`` reads)
      checkpoints/last.ckpt   the last Lightning checkpoint of a training run (the only one by default); it holds
                              the optimiser state only with --save-optimizer, which an exact --resume needs
      checkpoints/best.ckpt   only with --keep-best (or --export best): the best on the validation frames
                              (--val-frames; never chosen on the test frames)
      ddp/rank<r>.sha256      SHA-256 of the parameters and buffers each training process ended with
      metrics.json            summary numbers: {"metric": value, ...} or {"group": {"metric": value, ...}, ...}
      eval/
        <method>.json         one method's evaluation summary: {"metric": value, ...}
        <method>.csv          its per-frame errors (see FRAME_ERROR_COLUMNS; written by write_frame_errors)
        <method>.tum          its predicted trajectory, TUM format, T_world_cam
        <method>.gt.tum       the ground truth it was evaluated against (optional)
        groundtruth.tum       ground truth shared by the methods without a <method>.gt.tum
        <method>/<record>.tum, <record>.gt.tum
                              per-record trajectories as estimated, and their ground truth (an aligned copy
                              says so: <record>.aligned-se3.tum; :mod:`posekit.evaluation.results`)
      logs/<task>/version_<n>/metrics.csv, hparams.yaml
                              Lightning CSVLogger logs (e.g. logs/posenet/version_0/metrics.csv) and the
                              hyper-parameters they were logged with
      logs/tensorboard/version_<n>/events.out.tfevents.*, hparams.yaml
                              the same curves for TensorBoard; also
      <task>/logs/**/...      those of training runs kept in sub-folders (the demo's posenet/, relpose/)
      figures/*.png, *.jpg    figures made during the run (warp panels, depth, dataset views), in name order
      report.html             the HTML report (``posekit report``), once written

Every part is optional. A method is any ``<method>`` stem found in ``eval/``; its predicted and ground-truth
trajectories are matched by timestamp and must be in one world frame (a method that needs an alignment is
written aligned).
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np

from posekit.errors import FileFormatError, ShapeError
from posekit.fileio import atomic_write_text

CONFIG_FILE = "config.yaml"
EXPORTED_MODEL = "model.safetensors"
CHECKPOINT_DIR = "checkpoints"
BEST_CHECKPOINT = "best"
LAST_CHECKPOINT = "last"
CHECKPOINT_SUFFIX = ".ckpt"
METRICS_FILE = "metrics.json"
EVAL_DIR = "eval"
LOGS_DIR = "logs"
FIGURES_DIR = "figures"
LIGHTNING_METRICS_FILE = "metrics.csv"
SHARED_GROUND_TRUTH = "groundtruth"
GROUND_TRUTH_SUFFIX = ".gt.tum"
TRAJECTORY_SUFFIX = ".tum"
SUMMARY_SUFFIX = ".json"
FRAME_ERRORS_SUFFIX = ".csv"
FIGURE_SUFFIXES = (".png", ".jpg", ".jpeg")

NAME_COLUMN = "name"
TRANSLATION_COLUMN = "translation_error_m"
ROTATION_COLUMN = "rotation_error_deg"
# Columns of a per-frame error file: a frame name (optional, may be empty) and the two errors (inf = no estimate).
FRAME_ERROR_COLUMNS = (NAME_COLUMN, TRANSLATION_COLUMN, ROTATION_COLUMN)


class PerFrameErrors(Protocol):
    """What :func:`write_frame_errors` reads: ``(N,)`` tensors or arrays of translation (m) and rotation (deg)
    errors, e.g. a :class:`posekit.metrics.pose_errors.PoseErrors`."""

    translation: np.ndarray
    rotation_deg: np.ndarray


@dataclass
class FrameErrors:
    """Per-frame errors read from ``eval/<method>.csv``: ``(N,)`` float64 arrays and optional frame names."""

    translation_m: np.ndarray
    rotation_deg: np.ndarray
    names: list[str] | None = None


def write_frame_errors(path: str | Path, errors: PerFrameErrors, names: Sequence[str] | None = None) -> None:
    """Write per-frame errors as CSV with columns :data:`FRAME_ERROR_COLUMNS`, atomically.

    Args:
        path: e.g. ``RUN_DIR/eval/posenet.csv``.
        errors: ``(N,)`` translation (m) and rotation (deg) errors; ``inf`` is written for a missing estimate.
        names: ``N`` frame names (image names, timestamps as text), or ``None``.
    """
    translation = errors.translation.reshape(-1).tolist()
    rotation = errors.rotation_deg.reshape(-1).tolist()
    if len(translation) != len(rotation):
        raise ShapeError(f"errors: translation and rotation lengths differ, {len(translation)} and {len(rotation)}")
    if names is not None and len(names) != len(translation):
        raise ShapeError(f"names: expected {len(translation)} names (one per frame), got {len(names)}")
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(FRAME_ERROR_COLUMNS)
    for i, (t, r) in enumerate(zip(translation, rotation)):
        writer.writerow([names[i] if names is not None else "", repr(float(t)), repr(float(r))])
    atomic_write_text(path, buffer.getvalue())


def read_frame_errors(path: str | Path) -> FrameErrors:
    """Read a per-frame error CSV (header with at least ``translation_error_m`` and ``rotation_error_deg``).

    Raises:
        FileFormatError: a missing column, a short row or a cell that is not a number (file and line named).
    """
    path = Path(path)
    try:
        rows = list(csv.reader(path.read_text(encoding="utf-8").splitlines()))
    except OSError as error:
        raise FileFormatError(path, f"cannot read per-frame errors: {error.strerror or error}") from None
    if not rows:
        raise FileFormatError(path, f"empty file; expected a header {','.join(FRAME_ERROR_COLUMNS)}", 1)
    header = [cell.strip() for cell in rows[0]]
    for column in (TRANSLATION_COLUMN, ROTATION_COLUMN):
        if column not in header:
            raise FileFormatError(path, f"missing column {column!r} in the header {header}", 1)
    t_col, r_col = header.index(TRANSLATION_COLUMN), header.index(ROTATION_COLUMN)
    n_col = header.index(NAME_COLUMN) if NAME_COLUMN in header else None
    translation, rotation, names = [], [], []
    for line, row in enumerate(rows[1:], start=2):
        if not any(cell.strip() for cell in row):
            continue
        if len(row) < len(header):
            raise FileFormatError(path, f"expected {len(header)} cells, got {len(row)}", line)
        try:
            translation.append(float(row[t_col]))
            rotation.append(float(row[r_col]))
        except ValueError:
            raise FileFormatError(path, f"expected numbers in {TRANSLATION_COLUMN} and {ROTATION_COLUMN}, got "
                                        f"{row[t_col]!r} and {row[r_col]!r}", line) from None
        if n_col is not None:
            names.append(row[n_col])
    if any(math.isnan(v) for v in translation + rotation):
        raise FileFormatError(path, "NaN errors: write inf for frames without an estimate")
    return FrameErrors(np.array(translation, dtype=np.float64), np.array(rotation, dtype=np.float64),
                       names if n_col is not None else None)


@dataclass
class MethodFiles:
    """The evaluation files of one method in ``eval/`` (each ``None`` when absent)."""

    name: str
    summary: Path | None
    frame_errors: Path | None
    trajectory: Path | None
    ground_truth: Path | None


# Every file a run folder may hold, as globs relative to it (the layout in the module docstring).
RUN_FILE_PATTERNS = (
    CONFIG_FILE, EXPORTED_MODEL, f"{CHECKPOINT_DIR}/{LAST_CHECKPOINT}{CHECKPOINT_SUFFIX}",
    f"{CHECKPOINT_DIR}/{BEST_CHECKPOINT}{CHECKPOINT_SUFFIX}", "ddp/rank*.sha256", METRICS_FILE,
    f"{EVAL_DIR}/*{SUMMARY_SUFFIX}", f"{EVAL_DIR}/*{FRAME_ERRORS_SUFFIX}", f"{EVAL_DIR}/*{TRAJECTORY_SUFFIX}",
    f"{EVAL_DIR}/*/*{TRAJECTORY_SUFFIX}",
    f"{LOGS_DIR}/*/version_*/{LIGHTNING_METRICS_FILE}", f"{LOGS_DIR}/*/version_*/hparams.yaml",
    f"{LOGS_DIR}/tensorboard/version_*/events.out.tfevents.*", *(f"{FIGURES_DIR}/*{s}" for s in FIGURE_SUFFIXES),
    "report.html",
)


def undocumented_files(run_dir: str | Path) -> list[str]:
    """Files of ``run_dir`` (relative, POSIX) that match no :data:`RUN_FILE_PATTERNS` entry: what the layout
    above does not describe (the demo's task sub-folders are run folders of their own and are checked alone)."""
    root = Path(run_dir)
    found = []
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        relative = path.relative_to(root)
        if not any(relative.match(pattern) and len(relative.parts) == len(Path(pattern).parts)
                   for pattern in RUN_FILE_PATTERNS):
            found.append(relative.as_posix())
    return found


class RunFolder:
    """Paths of the parts of a run folder (see the module docstring); nothing is read until asked.

    Example:
        >>> run = RunFolder("runs/demo")  # doctest: +SKIP
        >>> [m.name for m in run.methods()]  # doctest: +SKIP
        ['posenet', 'retrieval']
    """

    def __init__(self, root: str | Path):
        self.root = Path(root)

    @property
    def config(self) -> Path:
        return self.root / CONFIG_FILE

    @property
    def metrics(self) -> Path:
        return self.root / METRICS_FILE

    @property
    def eval_dir(self) -> Path:
        return self.root / EVAL_DIR

    @property
    def figures_dir(self) -> Path:
        return self.root / FIGURES_DIR

    def method_file(self, method: str, suffix: str) -> Path:
        """``eval/<method><suffix>``, e.g. ``method_file("posenet", TRAJECTORY_SUFFIX)``."""
        return self.eval_dir / f"{method}{suffix}"

    def methods(self) -> list[MethodFiles]:
        """The methods with files in ``eval/``, in name order."""
        if not self.eval_dir.is_dir():
            return []
        names = set()
        for path in self.eval_dir.iterdir():
            if not path.is_file():
                continue
            if path.name.endswith(GROUND_TRUTH_SUFFIX):
                names.add(path.name[: -len(GROUND_TRUTH_SUFFIX)])
            elif path.suffix in (TRAJECTORY_SUFFIX, SUMMARY_SUFFIX, FRAME_ERRORS_SUFFIX):
                names.add(path.stem)
        names.discard(SHARED_GROUND_TRUTH)
        shared = self.method_file(SHARED_GROUND_TRUTH, TRAJECTORY_SUFFIX)

        def existing(path: Path) -> Path | None:
            return path if path.is_file() else None

        return [
            MethodFiles(
                name,
                existing(self.method_file(name, SUMMARY_SUFFIX)),
                existing(self.method_file(name, FRAME_ERRORS_SUFFIX)),
                existing(self.method_file(name, TRAJECTORY_SUFFIX)),
                existing(self.method_file(name, GROUND_TRUTH_SUFFIX)) or existing(shared),
            )
            for name in sorted(names)
        ]

    def lightning_logs(self) -> list[Path]:
        """Every ``logs/**/metrics.csv`` and ``<task>/logs/**/metrics.csv`` (the training runs of a run with
        several tasks, like the demo's), in path order."""
        folders = [self.root / LOGS_DIR, *sorted(p / LOGS_DIR for p in self.root.iterdir() if p.is_dir())]
        return [path for logs in folders if logs.is_dir() for path in sorted(logs.rglob(LIGHTNING_METRICS_FILE))]

    def figures(self) -> list[Path]:
        """The images in ``figures/`` (PNG or JPEG), in name order."""
        if not self.figures_dir.is_dir():
            return []
        return sorted(p for p in self.figures_dir.iterdir() if p.is_file() and p.suffix.lower() in FIGURE_SUFFIXES)

