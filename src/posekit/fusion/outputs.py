"""Writing a fusion run: fused trajectories per record, and (with ground truth) the per-frame CSV and JSON
summary every evaluation writes.

The per-frame error CSV and the summary keys come from the evaluation code (``write_frame_errors``,
``absolute_summary``); this is the one module of the package that imports them.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from pathlib import Path

import torch

from posekit.fileio import atomic_write_text
from posekit.metrics.records import write_record_trajectories
from posekit.metrics.pose_errors import absolute_pose_errors
from posekit.metrics.trajectory import Trajectory
from posekit.evaluation.summary import absolute_summary
from posekit.runs import EVAL_DIR, write_frame_errors

DIAGNOSTICS_FILE = "fusion_frames.csv"


def write_fusion_run(
    run_dir: str | Path,
    method: str,
    fused: Trajectory,
    T_world_cam_gt: torch.Tensor | None = None,
    diagnostics: dict[str, Sequence] | None = None,
    extra: dict | None = None,
) -> dict:
    """Write ``run_dir/eval/<method>[.<record>].tum`` (as estimated, never aligned), and with ground truth
    ``<method>[.<record>].gt.tum``, ``<method>.csv`` and ``<method>.json``; ``run_dir/fusion_frames.csv``
    holds per-frame diagnostics (columns of ``diagnostics``).

    Args:
        fused: ``N`` fused poses with timestamps and names ``"<record>/<frame>"``.
        T_world_cam_gt: ``(N, 4, 4)`` ground truth of the same frames, or ``None``.
        diagnostics: column name -> ``N`` values.
        extra: more JSON entries.

    Returns:
        The JSON summary (error statistics only with ground truth).
    """
    eval_dir = Path(run_dir) / EVAL_DIR
    paths = write_record_trajectories(eval_dir, method, fused)
    summary: dict = {"frames": len(fused), "records": len(paths)}
    if T_world_cam_gt is not None:
        write_record_trajectories(eval_dir, f"{method}.gt", Trajectory(T_world_cam_gt, fused.timestamps, fused.names))
        errors = absolute_pose_errors(T_world_cam_gt, fused.poses)
        write_frame_errors(eval_dir / f"{method}.csv", errors, fused.names)
        summary = {**absolute_summary(errors), **summary}
    summary.update(extra or {})
    summary["trajectories"] = {record: str(path) for record, path in paths.items()}
    atomic_write_text(eval_dir / f"{method}.json", json.dumps(summary, indent=2) + "\n")
    if diagnostics:
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(["name", "timestamp", *diagnostics])
        columns = list(diagnostics.values())
        for row in range(len(fused)):
            writer.writerow([fused.names[row], repr(float(fused.timestamps[row])), *(c[row] for c in columns)])
        atomic_write_text(Path(run_dir) / DIAGNOSTICS_FILE, buffer.getvalue())
    return summary
