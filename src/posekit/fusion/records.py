"""Frames grouped by record, and one trajectory file per record.

Evaluations name frames ``"<record>/<frame>"`` (e.g. ``"seq-01/frame-000812"``); a name without ``/`` belongs to
the record ``""``. Trajectories of different records must never be joined: ATE would align them together and
RPE would pair frames across the gap. These helpers split a :class:`~posekit.metrics.trajectory.Trajectory`
by record and write one TUM file per record, ``<stem>.<record>.tum`` (``<stem>.tum`` when there is a single,
unnamed record). The poses are written as estimated (never aligned).

How an evaluation uses them (``write_absolute_evaluation``, ``eval relpose``)::

    write_record_trajectories(eval_dir, method, Trajectory(T_world_cam_est, timestamps, names))
    write_record_trajectories(eval_dir, f"{method}.gt", Trajectory(T_world_cam_gt, timestamps, names))
    ate = trajectory_metric_per_record(gt, est, lambda g, e: compute_ape(g, e, alignment=AlignmentType.se3))

(the estimate written unaligned; the alignment lives only inside the metric).
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


def record_file_name(stem: str, record: str) -> str:
    """``<stem>.<record>.tum`` with characters outside ``[A-Za-z0-9._-]`` replaced by ``_`` (``<stem>.tum`` for
    the unnamed record)."""
    return f"{stem}.tum" if record == "" else f"{stem}.{_UNSAFE.sub('_', record)}.tum"


def split_by_record(traj: Trajectory) -> dict[str, Trajectory]:
    """One trajectory per record (needs ``names``); a record's timestamps default to its frame order 0, 1, ..."""
    if traj.names is None:
        raise TrajectoryError("split_by_record: the trajectory has no frame names")
    out = {}
    for record, rows in group_by_record(traj.names).items():
        part = traj.subset(rows)
        if part.timestamps is None:
            part = Trajectory(part.poses, torch.arange(len(rows), dtype=torch.float64), part.names)
        out[record] = part
    return out


def write_record_trajectories(folder: str | Path, stem: str, traj: Trajectory) -> dict[str, Path]:
    """Write one TUM file per record of ``traj`` into ``folder`` (atomically); return record -> path.

    Raises:
        TrajectoryError: two records map to the same file name, or timestamps repeat within a record.
    """
    folder = Path(folder)
    parts = split_by_record(traj)
    used: dict[str, str] = {}
    for record, part in parts.items():  # check everything before writing anything
        file_name = record_file_name(stem, record)
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
    traj_gt: Trajectory, traj_est: Trajectory, metric: Callable[[Trajectory, Trajectory], MetricResult]
) -> dict[str, dict[str, float]]:
    """An APE or RPE metric computed on each record separately (its own alignment; RPE pairs never cross a
    record) and pooled over the per-record errors (key ``"pooled"``).

    Args:
        traj_gt, traj_est: the same frames in the same order, with names ``"<record>/<frame>"``.
        metric: e.g. ``lambda gt, est: compute_ape(gt, est, alignment=AlignmentType.se3)`` or
            ``functools.partial(compute_rpe, delta=1)``.

    Returns:
        ``{record: statistics, ..., "pooled": statistics}`` (statistics as :func:`compute_statistics`).

    Raises:
        TrajectoryError: the two trajectories do not name the same frames.
    """
    if traj_gt.names is None or traj_gt.names != traj_est.names:
        raise TrajectoryError("trajectory_metric_per_record: both trajectories must name the same frames in order")
    out: dict[str, dict[str, float]] = {}
    pooled = []
    for record, rows in group_by_record(traj_gt.names).items():
        result = metric(traj_gt.subset(rows), traj_est.subset(rows))
        out[record] = result.statistics
        pooled.append(result.errors)
    out["pooled"] = compute_statistics(torch.cat(pooled))
    return out
