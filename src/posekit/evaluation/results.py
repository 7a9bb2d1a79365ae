"""Writing an evaluation into a run folder: one writer for every method (absolute, relative, depth), so all are
reported alike and the HTML report (:mod:`posekit.viz.report`) finds them (layout: :mod:`posekit.runs`):

- ``eval/<method>.json``: the summary (schema :mod:`posekit.evaluation.summary`);
- ``eval/<method>.csv``: per-frame or per-pair errors, with the estimated pose of each row (``est_tx .. est_qz``,
  quaternion w, x, y, z) and any method-specific columns (e.g. the retrieved training frame);
- ``eval/<method>/<record>.tum`` and ``eval/<method>/<record>.gt.tum``: one trajectory per record (or per
  contiguous segment), the poses **as estimated** (never aligned; an aligned copy says so in its name,
  ``<record>.aligned-se3.tum``), timestamps the dataset's where it has them, else the frame numbers;
- ``eval/<method>.tum`` and ``eval/<method>.gt.tum``: the same trajectory when there is a single record (no file
  ever joins two records).
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Mapping, Sequence
from pathlib import Path

import torch

from posekit.errors import ShapeError
from posekit.evaluation.summary import absolute_summary
from posekit.fileio import atomic_write_text
from posekit.geometry import matrix_to_quaternion
from posekit.geometry.checks import check_shape
from posekit.metrics.absolute_baselines import mean_pose, nearest_pose_oracle
from posekit.metrics.ape_rpe import PoseRelation, compute_ape
from posekit.metrics.pose_errors import PoseErrors, absolute_pose_errors
from posekit.metrics.records import contiguous_groups, record_of, trajectory_metric_per_record, write_record_trajectories
from posekit.metrics.trajectory import Trajectory
from posekit.metrics.trajectory_files import write_tum
from posekit.runs import (EVAL_DIR, FRAME_ERROR_COLUMNS, FRAME_ERRORS_SUFFIX, GROUND_TRUTH_SUFFIX, SUMMARY_SUFFIX,
                          TRAJECTORY_SUFFIX, write_frame_errors)

# The per-record trajectory files of a method: eval/<method>/<record><suffix>.
RECORD_TRAJECTORY_SUFFIX = ".tum"
RECORD_GROUND_TRUTH_SUFFIX = ".gt.tum"
ESTIMATE_COLUMNS = ("est_tx", "est_ty", "est_tz", "est_qw", "est_qx", "est_qy", "est_qz")
# The absolute baselines written beside every absolute method (metrics.absolute_baselines).
MEAN_TRAIN_POSE = "mean_train_pose"
NEAREST_TRAIN_FRAME_ORACLE = "nearest_train_frame_oracle"


def frame_timestamps(frames: Sequence) -> torch.Tensor:
    """``(N,)`` float64 seconds of frame records (``.timestamp``) where every frame has one, else their frame
    numbers (``.order``)."""
    if frames and all(f.timestamp is not None for f in frames):
        return torch.tensor([float(f.timestamp) for f in frames], dtype=torch.float64)
    return torch.tensor([float(f.order) for f in frames], dtype=torch.float64)


def estimate_columns(T_est: torch.Tensor) -> dict[str, list[float]]:
    """The CSV columns of ``(N, 4, 4)`` estimated poses: translation and the quaternion (w, x, y, z)."""
    quaternion = matrix_to_quaternion(T_est[:, :3, :3].double())
    values = torch.cat((T_est[:, :3, 3].double(), quaternion), dim=1)
    return {name: values[:, i].tolist() for i, name in enumerate(ESTIMATE_COLUMNS)}


def write_frame_table(path: str | Path, errors: PoseErrors, names: Sequence[str],
                      columns: Mapping[str, Sequence] | None = None) -> None:
    """Per-frame errors as :func:`posekit.runs.write_frame_errors` writes them, plus ``columns`` (one value per
    frame each), atomically. :func:`posekit.runs.read_frame_errors` reads it."""
    if not columns:
        write_frame_errors(path, errors, list(names))
        return
    translation = errors.translation.reshape(-1).tolist()
    rotation = errors.rotation_deg.reshape(-1).tolist()
    for name, values in columns.items():
        if len(values) != len(translation):
            raise ShapeError(f"column {name}: expected {len(translation)} values (one per frame), got {len(values)}")
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow([*FRAME_ERROR_COLUMNS, *columns])
    for i, (t, r) in enumerate(zip(translation, rotation)):
        extra = [repr(float(v[i])) if isinstance(v[i], float) else str(v[i]) for v in columns.values()]
        writer.writerow([names[i], repr(float(t)), repr(float(r)), *extra])
    atomic_write_text(path, buffer.getvalue())


def write_method_results(
    run_dir: str | Path,
    summary: dict,
    errors: PoseErrors | None = None,
    names: Sequence[str] | None = None,
    estimate: Trajectory | None = None,
    ground_truth: Trajectory | None = None,
    columns: Mapping[str, Sequence] | None = None,
) -> dict:
    """Write ``run_dir/eval/<summary["method"]>.*``: the JSON summary and, when given, the per-frame errors
    (``names`` and ``columns`` beside them) and the estimated and ground-truth trajectories (of one record).
    Returns ``summary``."""
    method = summary["method"]
    eval_dir = Path(run_dir) / EVAL_DIR
    if estimate is not None:
        write_tum(eval_dir / f"{method}{TRAJECTORY_SUFFIX}", estimate)
    if ground_truth is not None:
        write_tum(eval_dir / f"{method}{GROUND_TRUTH_SUFFIX}", ground_truth)
    if errors is not None:
        if names is None:
            write_frame_errors(eval_dir / f"{method}{FRAME_ERRORS_SUFFIX}", errors, None)
        else:
            write_frame_table(eval_dir / f"{method}{FRAME_ERRORS_SUFFIX}", errors, names, columns)
    atomic_write_text(eval_dir / f"{method}{SUMMARY_SUFFIX}", json.dumps(summary, indent=2) + "\n")
    return summary


def grouped_order(keys: Sequence[str]) -> list[int]:
    """A stable permutation that makes the rows of each key contiguous (keys in order of first appearance)."""
    first: dict[str, int] = {}
    for key in keys:
        first.setdefault(key, len(first))
    return sorted(range(len(keys)), key=lambda row: first[keys[row]])


def write_record_files(run_dir: str | Path, method: str, ground_truth: Trajectory, estimate: Trajectory,
                       keys: Sequence[str]) -> dict[str, str]:
    """Write ``eval/<method>/<record>.tum`` and ``.gt.tum`` per record (rows of a key contiguous); return
    record -> the estimate's path relative to ``run_dir/eval``."""
    folder = Path(run_dir) / EVAL_DIR / method
    paths = write_record_trajectories(folder, "", estimate, keys, RECORD_TRAJECTORY_SUFFIX)
    write_record_trajectories(folder, "", ground_truth, keys, RECORD_GROUND_TRUTH_SUFFIX)
    return {record: f"{method}/{path.name}" for record, path in paths.items()}


def absolute_baselines(T_world_cam_train: torch.Tensor, T_world_cam_gt: torch.Tensor) -> dict[str, dict]:
    """The summaries (:func:`absolute_summary`) of the mean training pose and of the nearest training frame by
    ground-truth pose (an oracle) on the evaluated frames."""
    mean = mean_pose(T_world_cam_train).expand(T_world_cam_gt.shape[0], 4, 4)
    nearest, _ = nearest_pose_oracle(T_world_cam_train, T_world_cam_gt)
    return {MEAN_TRAIN_POSE: absolute_summary(absolute_pose_errors(T_world_cam_gt.double(), mean)),
            NEAREST_TRAIN_FRAME_ORACLE: absolute_summary(absolute_pose_errors(T_world_cam_gt.double(), nearest))}


def write_absolute_evaluation(
    run_dir: str | Path,
    header: dict,
    T_world_cam_gt: torch.Tensor,
    T_world_cam_est: torch.Tensor,
    names: Sequence[str],
    timestamps: torch.Tensor | None = None,
    extra: dict | None = None,
    *,
    records: Sequence[str] | None = None,
    T_world_cam_train: torch.Tensor | None = None,
    columns: Mapping[str, Sequence] | None = None,
) -> dict:
    """Write the evaluation of an absolute-pose method into ``run_dir/eval`` and return its summary.

    Args:
        run_dir: the run folder.
        header: :func:`~posekit.evaluation.summary.summary_header` of the evaluation (its ``frames`` is set to N).
        T_world_cam_gt, T_world_cam_est: ``(N, 4, 4)`` poses of the same frames.
        names: ``N`` frame names.
        timestamps: ``(N,)`` seconds (or frame numbers) for the TUM files; default the order ``0, 1, ...``.
        extra: more JSON entries for the summary.
        records: the record (trajectory file) of each frame; default the record part of the names.
        T_world_cam_train: ``(M, 4, 4)`` training poses: the baselines ``mean_train_pose`` and
            ``nearest_train_frame_oracle`` are added under ``"baselines"``.
        columns: more CSV columns, one value per frame each.

    The summary has ``ate_per_record``: APE of the positions (m, no alignment: absolute estimates live in the
    world frame) per record and pooled, and ``trajectories``: record -> file under ``eval/``.
    """
    check_shape("T_world_cam_gt", T_world_cam_gt, (None, 4, 4))
    check_shape("T_world_cam_est", T_world_cam_est, tuple(T_world_cam_gt.shape))
    errors = absolute_pose_errors(T_world_cam_gt, T_world_cam_est)
    n = int(T_world_cam_gt.shape[0])
    stamps = timestamps if timestamps is not None else torch.arange(n, dtype=torch.float64)
    keys = list(records) if records is not None else [record_of(name) for name in names]
    order = grouped_order(keys)
    keys = [keys[i] for i in order]
    estimate = Trajectory(T_world_cam_est.double(), stamps.double(), list(names)).subset(order)
    ground_truth = Trajectory(T_world_cam_gt.double(), stamps.double(), list(names)).subset(order)
    summary = {**header, "frames": n, **absolute_summary(errors)}
    summary["ate_per_record"] = trajectory_metric_per_record(
        ground_truth, estimate, lambda gt, est: compute_ape(gt, est, PoseRelation.translation_part), keys)
    if T_world_cam_train is not None:
        summary["baselines"] = absolute_baselines(T_world_cam_train, T_world_cam_gt)
    summary.update(extra or {})
    summary["trajectories"] = write_record_files(run_dir, header["method"], ground_truth, estimate, keys)
    single = len(contiguous_groups(keys)) == 1
    return write_method_results(run_dir, summary, errors, names, estimate if single else None,
                                ground_truth if single else None,
                                {**estimate_columns(T_world_cam_est), **(columns or {})})
