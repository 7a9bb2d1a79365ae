"""Writing an evaluation into a run folder: one writer for every method (absolute, relative, depth), so all are
reported alike and the HTML report (:mod:`posekit.viz.report`) finds them (layout: :mod:`posekit.runs`):
``eval/<method>.json`` (the summary, schema :mod:`posekit.evaluation.summary`), ``eval/<method>.csv``
(per-frame or per-pair errors), ``eval/<method>.tum`` and ``eval/<method>.gt.tum`` (trajectories).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import torch

from posekit.evaluation.summary import absolute_summary
from posekit.fileio import atomic_write_text
from posekit.geometry.checks import check_shape
from posekit.metrics.pose_errors import PoseErrors, absolute_pose_errors
from posekit.metrics.trajectory import Trajectory
from posekit.metrics.trajectory_files import write_tum
from posekit.runs import EVAL_DIR, FRAME_ERRORS_SUFFIX, GROUND_TRUTH_SUFFIX, SUMMARY_SUFFIX, TRAJECTORY_SUFFIX, write_frame_errors


def write_method_results(
    run_dir: str | Path,
    summary: dict,
    errors: PoseErrors | None = None,
    names: Sequence[str] | None = None,
    estimate: Trajectory | None = None,
    ground_truth: Trajectory | None = None,
) -> dict:
    """Write ``run_dir/eval/<summary["method"]>.*``: the JSON summary and, when given, the per-frame errors
    (``names`` beside them) and the estimated and ground-truth trajectories. Returns ``summary``."""
    method = summary["method"]
    eval_dir = Path(run_dir) / EVAL_DIR
    if estimate is not None:
        write_tum(eval_dir / f"{method}{TRAJECTORY_SUFFIX}", estimate)
    if ground_truth is not None:
        write_tum(eval_dir / f"{method}{GROUND_TRUTH_SUFFIX}", ground_truth)
    if errors is not None:
        write_frame_errors(eval_dir / f"{method}{FRAME_ERRORS_SUFFIX}", errors, None if names is None else list(names))
    atomic_write_text(eval_dir / f"{method}{SUMMARY_SUFFIX}", json.dumps(summary, indent=2) + "\n")
    return summary


def write_absolute_evaluation(
    run_dir: str | Path,
    header: dict,
    T_world_cam_gt: torch.Tensor,
    T_world_cam_est: torch.Tensor,
    names: Sequence[str],
    timestamps: torch.Tensor | None = None,
    extra: dict | None = None,
) -> dict:
    """Write the evaluation of an absolute-pose method into ``run_dir/eval`` and return its summary.

    Args:
        run_dir: the run folder.
        header: :func:`~posekit.evaluation.summary.summary_header` of the evaluation (its ``frames`` is set to N).
        T_world_cam_gt, T_world_cam_est: ``(N, 4, 4)`` poses of the same frames.
        names: ``N`` frame names.
        timestamps: ``(N,)`` seconds for the TUM files; default the frame order ``0, 1, ...``.
        extra: more JSON entries for the summary.
    """
    check_shape("T_world_cam_gt", T_world_cam_gt, (None, 4, 4))
    check_shape("T_world_cam_est", T_world_cam_est, tuple(T_world_cam_gt.shape))
    errors = absolute_pose_errors(T_world_cam_gt, T_world_cam_est)
    summary = {**header, "frames": int(T_world_cam_gt.shape[0]), **absolute_summary(errors), **(extra or {})}
    stamps = timestamps if timestamps is not None else torch.arange(T_world_cam_gt.shape[0], dtype=torch.float64)
    estimate = Trajectory(T_world_cam_est.double(), stamps.double(), list(names))
    ground_truth = Trajectory(T_world_cam_gt.double(), stamps.double(), list(names))
    return write_method_results(run_dir, summary, errors, names, estimate, ground_truth)
