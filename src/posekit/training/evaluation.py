"""Writing an absolute-pose evaluation into a run folder: per-frame errors, trajectories and a JSON summary.

Every evaluator (PoseNet, retrieval, ...) produces estimated and ground-truth ``T_world_cam`` for the same
frames and calls :func:`write_absolute_evaluation`, so all methods are reported alike and the HTML report
(:mod:`posekit.viz.report`) finds them: ``eval/<method>.csv``, ``eval/<method>.tum``,
``eval/<method>.gt.tum`` and ``eval/<method>.json`` with the keys ``median_t_m``, ``median_r_deg``,
``mean_t_m``, ``mean_r_deg`` and recalls.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import torch

from posekit.fileio import atomic_write_text
from posekit.geometry.checks import check_shape
from posekit.metrics.pose_errors import PoseErrorSummary, absolute_pose_errors
from posekit.metrics.trajectory import Trajectory
from posekit.metrics.trajectory_files import write_tum
from posekit.viz.report.run_folder import EVAL_DIR, write_frame_errors


def summary_dict(summary: PoseErrorSummary) -> dict[str, float]:
    """The JSON summary of absolute-pose errors (metres, degrees, recall fractions)."""
    out = {
        "median_t_m": summary.median_translation,
        "median_r_deg": summary.median_rotation_deg,
        "mean_t_m": summary.mean_translation,
        "mean_r_deg": summary.mean_rotation_deg,
    }
    for (t, r), value in summary.recall.items():
        out[f"recall_{t * 100:g}cm_{r:g}deg"] = value
    return out


def write_absolute_evaluation(
    run_dir: str | Path,
    method: str,
    T_world_cam_gt: torch.Tensor,
    T_world_cam_est: torch.Tensor,
    names: Sequence[str],
    timestamps: torch.Tensor | None = None,
    extra: dict | None = None,
) -> dict[str, float]:
    """Write the evaluation of ``method`` into ``run_dir/eval`` and return its summary.

    Args:
        run_dir: the run folder.
        method: file stem (``posenet``, ``retrieval``).
        T_world_cam_gt, T_world_cam_est: ``(N, 4, 4)`` poses of the same frames.
        names: ``N`` frame names.
        timestamps: ``(N,)`` seconds for the TUM files; default the frame order ``0, 1, ...``.
        extra: more JSON entries for the summary (number of frames, dataset, ...).
    """
    check_shape("T_world_cam_gt", T_world_cam_gt, (None, 4, 4))
    check_shape("T_world_cam_est", T_world_cam_est, tuple(T_world_cam_gt.shape))
    eval_dir = Path(run_dir) / EVAL_DIR
    errors = absolute_pose_errors(T_world_cam_gt, T_world_cam_est)
    summary = summary_dict(errors.summary())
    summary["frames"] = int(T_world_cam_gt.shape[0])
    summary.update(extra or {})
    stamps = timestamps if timestamps is not None else torch.arange(T_world_cam_gt.shape[0], dtype=torch.float64)
    write_frame_errors(eval_dir / f"{method}.csv", errors, list(names))
    write_tum(eval_dir / f"{method}.tum", Trajectory(T_world_cam_est.double(), stamps.double(), list(names)))
    write_tum(eval_dir / f"{method}.gt.tum", Trajectory(T_world_cam_gt.double(), stamps.double(), list(names)))
    atomic_write_text(eval_dir / f"{method}.json", json.dumps(summary, indent=2) + "\n")
    return summary
