"""Localise the frames of a dataset in a map and write the run folder.

Outputs (``OUT/``): ``poses_<record>.tum`` (estimated depth-camera poses, one TUM file per record; timestamps
are the frame numbers where the dataset has no times), ``frames.csv`` (per frame: errors when the dataset has
poses, keyframe, cost, inliers, iterations, seconds per stage, success), ``summary.json`` (median / mean
translation and rotation errors over *all* frames, failures included, recalls at 2 cm / 2 deg, 5 cm / 5 deg,
10 cm / 10 deg, success rate, frames per second of the localisation), and for the report the queries' ground
truth and a few render-and-compare panels (:mod:`posekit.localization.report_files`).
"""

from __future__ import annotations

import csv
import io
import json
import time
from collections.abc import Callable
from pathlib import Path

import torch

from posekit.data.records import FrameRecord
from posekit.errors import ConfigError
from posekit.fileio import atomic_write_text
from posekit.localization.localizer import LocalizationResult, Localizer
from posekit.mapping.frames import load_colour
from posekit.metrics.pose_errors import absolute_pose_errors
from posekit.metrics.trajectory import Trajectory
from posekit.metrics.trajectory_files import write_tum

RECALL_THRESHOLDS = ((0.02, 2.0), (0.05, 5.0), (0.10, 10.0))
STAGES = ("init", "pnp", "align", "render")


def check_query_camera(frames: list[FrameRecord], localizer: Localizer) -> None:
    """Queries must come from the map's camera (the same depth/file intrinsics)."""
    expected = localizer.map.calibration.depth
    for frame in frames:
        if frame.intrinsics != expected:
            raise ConfigError(f"{frame.key}: query intrinsics {frame.intrinsics} differ from the map's {expected} "
                              f"({localizer.map.folder}); localise frames of the camera the map was built from")


def summarise(T_world_cam_gt: torch.Tensor, T_world_cam_est: torch.Tensor) -> dict:
    """Median / mean errors and recalls (all frames), as the JSON summary keys of ``eval posenet``."""
    errors = absolute_pose_errors(T_world_cam_gt, T_world_cam_est)
    summary = errors.summary(RECALL_THRESHOLDS)
    out = {"median_t_m": summary.median_translation, "median_r_deg": summary.median_rotation_deg,
           "mean_t_m": summary.mean_translation, "mean_r_deg": summary.mean_rotation_deg}
    for (t, r), value in summary.recall.items():
        out[f"recall_{t * 100:g}cm_{r:g}deg"] = value
    return out


def localize_frames(localizer: Localizer, frames: list[FrameRecord], out: str | Path, *,
                    initial_poses: torch.Tensor | None = None, with_errors: bool = True, method: str = "localize",
                    log: Callable[[str], None] | None = None) -> dict:
    """Localise ``frames`` (their colour images only) and write the run folder ``out``; returns the summary.

    Args:
        initial_poses: ``(N, 4, 4)`` initial depth-camera poses (e.g. PoseNet's); retrieval when ``None``.
        with_errors: compare with the frames' poses (the dataset's ground truth).
    """
    check_query_camera(frames, localizer)
    if initial_poses is not None and initial_poses.shape[0] != len(frames):
        raise ConfigError(f"initial poses: {initial_poses.shape[0]} for {len(frames)} frames")
    size = localizer.map.size.hw
    results: list[LocalizationResult] = []
    start = time.perf_counter()
    for i, frame in enumerate(frames):
        image = load_colour(frame, size)[None]
        init = None if initial_poses is None else initial_poses[i]
        results.append(localizer.localize(image, init))
        if log is not None and (i + 1) % 25 == 0:
            log(f"{i + 1}/{len(frames)} frames, {(i + 1) / (time.perf_counter() - start):.2f} frames/s")
    elapsed = time.perf_counter() - start
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    estimated = torch.stack([r.T_world_cam for r in results])
    _write_trajectories(out, frames, estimated)
    ground_truth = torch.stack([f.T_world_cam for f in frames])
    errors = absolute_pose_errors(ground_truth, estimated) if with_errors else None
    _write_frames_csv(out / "frames.csv", frames, results, errors)
    summary = summarise(ground_truth, estimated) if with_errors else {}
    success = torch.tensor([r.success for r in results])
    stage_seconds = {s: sum(r.seconds.get(s, 0.0) for r in results) / len(results) for s in STAGES}
    summary.update({
        "method": method, "frames": len(frames), "success_rate": float(success.double().mean()),
        "frames_per_second": len(frames) / elapsed if elapsed > 0 else float("inf"),
        "seconds_per_frame_by_stage": stage_seconds, "map": str(localizer.map.folder),
        "refine": localizer.config.refine.value, "top_k": localizer.config.top_k,
        "init": "retrieval" if initial_poses is None else "given",
    })
    if with_errors and bool(success.any()):
        flagged_ok = summarise(ground_truth[success], estimated[success])
        summary["successful_frames"] = {k: v for k, v in flagged_ok.items()}
    atomic_write_text(out / "summary.json", json.dumps(summary, indent=1) + "\n")
    from posekit.localization.report_files import write_report_files  # imports this module

    write_report_files(localizer.map, frames, estimated, out, errors, success)
    return summary


def _write_trajectories(out: Path, frames: list[FrameRecord], estimated: torch.Tensor) -> None:
    records = sorted({f.record_id for f in frames})
    for record in records:
        index = [i for i, f in enumerate(frames) if f.record_id == record]
        times = torch.tensor([frames[i].timestamp if frames[i].timestamp is not None else float(frames[i].order)
                              for i in index], dtype=torch.float64)
        write_tum(out / f"poses_{record_file_stem(record)}.tum", Trajectory(estimated[index], times, [frames[i].key for i in index]))


def record_file_stem(record: str) -> str:
    """The part of ``poses_<record>.tum`` that names a record (characters outside ``[A-Za-z0-9-_.]`` become ``_``)."""
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in record)


def _write_frames_csv(path: Path, frames: list[FrameRecord], results: list[LocalizationResult], errors) -> None:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["frame", "t_err_m", "r_err_deg", "success", "keyframe", "cost", "valid_fraction", "inliers",
                     "iterations"] + [f"{s}_s" for s in STAGES])
    for i, (frame, result) in enumerate(zip(frames, results)):
        t_err = f"{float(errors.translation[i]):.6f}" if errors is not None else ""
        r_err = f"{float(errors.rotation_deg[i]):.4f}" if errors is not None else ""
        writer.writerow([frame.key, t_err, r_err, int(result.success), result.keyframe, f"{result.cost:.6g}",
                         f"{result.valid_fraction:.4f}", result.inliers, result.iterations]
                        + [f"{result.seconds.get(s, 0.0):.4f}" for s in STAGES])
    atomic_write_text(path, buffer.getvalue())
