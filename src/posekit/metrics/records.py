"""Frames grouped by record, one trajectory file per record, and metrics that never join two records.

Evaluations name frames ``"<record>/<frame>"`` (e.g. ``"seq-01/frame-000812"``); a name without ``/`` belongs to
the record ``""``. Trajectories of different records (or of different held-out blocks of one record) must never
be joined: ATE would align them together and RPE would pair frames across the gap. The functions here take the
group of each row either from the names (:func:`record_of`) or from explicit ``keys`` (e.g. ``"seq-01"``,
``"seq-01.from-000400"`` for a second block, ``"00.image_2"`` for one camera of a stereo rig).

Files are written as estimated (never aligned): alignment belongs to the metric. A file holding an aligned copy
says so in its name (e.g. ``<record>.aligned-se3.tum``).

Shared by :mod:`posekit.evaluation` and :mod:`posekit.fusion` (one copy of these helpers).

Example:
    >>> group_by_record(["a/1", "a/2", "b/7"])
    {'a': [0, 1], 'b': [2]}
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from pathlib import Path

import torch

from posekit.errors import TrajectoryError
from posekit.metrics.ape_rpe import MetricResult
from posekit.metrics.statistics import compute_statistics
from posekit.metrics.trajectory import Trajectory
from posekit.metrics.trajectory_files import write_tum

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
# The file stem of the unnamed record when no other stem is given.
UNNAMED_RECORD_STEM = "trajectory"
POOLED = "pooled"


def record_of(name: str) -> str:
    """The record part of a frame name ``"<record>/<frame>"`` (everything before the last ``/``; ``""`` if none)."""
    return name.rsplit("/", 1)[0] if "/" in name else ""


def contiguous_groups(keys: Sequence[str]) -> dict[str, list[int]]:
    """Row indices of each key, keys in order of first appearance.

    Raises:
        TrajectoryError: a key's rows are not contiguous (the frames of two records are interleaved).
    """
    groups: dict[str, list[int]] = {}
    for row, key in enumerate(keys):
        if key in groups and groups[key][-1] != row - 1:
            raise TrajectoryError(f"row {row}: the rows of record {key!r} are not contiguous")
        groups.setdefault(key, []).append(row)
    return groups


def group_by_record(names: Sequence[str]) -> dict[str, list[int]]:
    """Row indices of each record of frame names ``"<record>/<frame>"`` (see :func:`contiguous_groups`)."""
    return contiguous_groups([record_of(name) for name in names])


def record_file_name(stem: str, record: str, suffix: str = ".tum") -> str:
    """``<stem>.<record><suffix>`` with characters outside ``[A-Za-z0-9._-]`` replaced by ``_``; the empty parts
    are left out (``<stem><suffix>`` for the unnamed record, ``<record><suffix>`` for the empty stem)."""
    parts = [part for part in (stem, _UNSAFE.sub("_", record)) if part]
    return ".".join(parts or [UNNAMED_RECORD_STEM]) + suffix


def _row_keys(traj: Trajectory, keys: Sequence[str] | None) -> list[str]:
    if keys is not None:
        if len(keys) != len(traj):
            raise TrajectoryError(f"record keys: expected {len(traj)} (one per pose), got {len(keys)}")
        return list(keys)
    if traj.names is None:
        raise TrajectoryError("the trajectory has no frame names and no record keys were given")
    return [record_of(name) for name in traj.names]


def split_by_record(traj: Trajectory, keys: Sequence[str] | None = None) -> dict[str, Trajectory]:
    """One trajectory per record (``keys``, default the records of the names); a record's timestamps default
    to its frame order 0, 1, ..."""
    out = {}
    for record, rows in contiguous_groups(_row_keys(traj, keys)).items():
        part = traj.subset(rows)
        if part.timestamps is None:
            part = Trajectory(part.poses, torch.arange(len(rows), dtype=torch.float64), part.names)
        out[record] = part
    return out


def write_record_trajectories(folder: str | Path, stem: str, traj: Trajectory, keys: Sequence[str] | None = None,
                              suffix: str = ".tum") -> dict[str, Path]:
    """Write one TUM file per record of ``traj`` into ``folder`` (:func:`record_file_name`), atomically;
    return record -> path.

    Raises:
        TrajectoryError: two records map to the same file name, or timestamps repeat within a record.
    """
    folder = Path(folder)
    parts = split_by_record(traj, keys)
    used: dict[str, str] = {}
    for record, part in parts.items():  # check everything before writing anything
        file_name = record_file_name(stem, record, suffix)
        if file_name in used:
            raise TrajectoryError(f"records {used[file_name]!r} and {record!r} both map to the file {file_name}")
        if bool((part.timestamps[1:] <= part.timestamps[:-1]).any()):
            raise TrajectoryError(f"record {record!r}: timestamps are not strictly increasing")
        used[file_name] = record
    paths = {record: folder / name for name, record in used.items()}
    for record, part in parts.items():
        write_tum(paths[record], part)
    return paths


def trajectory_metric_per_record(
    traj_gt: Trajectory,
    traj_est: Trajectory,
    metric: Callable[[Trajectory, Trajectory], MetricResult],
    keys: Sequence[str] | None = None,
) -> dict[str, dict[str, float]]:
    """An APE or RPE metric computed on each record separately (its own alignment; RPE pairs never cross a
    record) and pooled over the per-record errors (key ``"pooled"``).

    Args:
        traj_gt, traj_est: the same frames in the same order (``names`` equal when given).
        metric: e.g. ``lambda gt, est: compute_ape(gt, est, alignment=AlignmentType.se3)`` or
            ``functools.partial(compute_rpe, delta=1)``.
        keys: the record of each row (default: the records of the names).

    Returns:
        ``{record: statistics, ..., "pooled": statistics}`` (statistics as :func:`compute_statistics`).

    Raises:
        TrajectoryError: the two trajectories differ in length or name different frames.
    """
    if len(traj_gt) != len(traj_est) or (traj_gt.names is not None and traj_est.names is not None
                                         and traj_gt.names != traj_est.names):
        raise TrajectoryError("trajectory_metric_per_record: both trajectories must hold the same frames in order")
    out: dict[str, dict[str, float]] = {}
    pooled = []
    for record, rows in contiguous_groups(_row_keys(traj_gt, keys)).items():
        result = metric(traj_gt.subset(rows), traj_est.subset(rows))
        out[record] = result.statistics
        pooled.append(result.errors)
    if POOLED in out:
        raise TrajectoryError(f"a record is named {POOLED!r}, the key of the pooled statistics")
    out[POOLED] = compute_statistics(torch.cat(pooled))
    return out
