"""What a localisation run writes for its HTML report, beside its poses (:mod:`posekit.localization.run`).

- ``groundtruth_<record>.tum``: the queries' dataset poses (only when the run compares with them), so the
  report draws the estimated and the true trajectories together in the map.
- ``panels/<frame>.png`` and ``panels/panels.json``: render-and-compare panels (query | the map's mesh rendered
  at the estimated pose | their difference, :mod:`posekit.viz.render_compare`) of a few frames: the best, the
  median and the worst by translation error (evenly spaced frames without ground truth), plus one flagged
  frame when there is one; a flagged frame says so in the index. Rendered in the colour camera at the map's
  working size, as the localiser sees the query. Maps without a mesh (sparse maps) get no panels.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import torch

from posekit.data.records import FrameRecord
from posekit.data.synth.png import encode_png
from posekit.fileio import atomic_write_bytes, atomic_write_text
from posekit.localization.run import record_file_stem
from posekit.mapping.frames import load_colour
from posekit.mapping.store import MESH, PoseMap
from posekit.metrics.trajectory import Trajectory
from posekit.metrics.trajectory_files import write_tum
from posekit.viz.render_compare import PANELS_DIR, PANELS_INDEX, RenderComparison, compare_rendering

GROUND_TRUTH_PREFIX = "groundtruth_"
PANEL_FRAMES = 3


def _record_times(frames: list[FrameRecord]) -> torch.Tensor:
    """The timestamps ``poses_<record>.tum`` uses: the frame's time, else its number."""
    times = [f.timestamp if f.timestamp is not None else float(f.order) for f in frames]
    return torch.tensor(times, dtype=torch.float64)


def write_ground_truth(out: Path, frames: list[FrameRecord]) -> list[Path]:
    """``out/groundtruth_<record>.tum`` of the frames' dataset poses, one file per record."""
    written = []
    for record in sorted({f.record_id for f in frames}):
        chosen = [f for f in frames if f.record_id == record]
        path = out / f"{GROUND_TRUTH_PREFIX}{record_file_stem(record)}.tum"
        write_tum(path, Trajectory(torch.stack([f.T_world_cam for f in chosen]).double(), _record_times(chosen),
                                   [f.key for f in chosen]))
        written.append(path)
    return written


def choose_panel_frames(translation_m: np.ndarray | None, success: np.ndarray,
                        count: int = PANEL_FRAMES) -> list[tuple[int, str]]:
    """``(frame index, label)`` of the frames to show: best / median / worst by ``translation_m`` ``(N,)``
    (``None``: ``count`` evenly spaced frames), then the first flagged frame (``success`` ``(N,)`` bool false)
    when none of those is flagged."""
    n = len(success)
    if n == 0:
        return []
    chosen: list[tuple[int, str]] = []
    if translation_m is not None:
        order = np.argsort(np.nan_to_num(translation_m, nan=np.inf), kind="stable")
        for index, label in ((order[0], "best"), (order[(n - 1) // 2], "median"), (order[-1], "worst")):
            if int(index) not in [i for i, _ in chosen]:
                chosen.append((int(index), f"{label} translation error"))
    else:
        for index in np.unique(np.linspace(0, n - 1, min(count, n)).round().astype(int)):
            chosen.append((int(index), f"frame {int(index) + 1} of {n}"))
    flagged = np.flatnonzero(~success)
    if len(flagged) and not any(not success[i] for i, _ in chosen):
        chosen.append((int(flagged[0]), "first flagged frame"))
    return chosen


def render_at(pose_map: PoseMap, query: torch.Tensor, T_world_depth: torch.Tensor) -> RenderComparison:
    """The panel of ``query`` ``(1, 3, H, W)`` (colour camera, the map's working size) and the map's mesh
    rendered at the depth-camera pose ``T_world_depth`` ``(4, 4)``."""
    view = pose_map.renderer().render(pose_map.calibration.T_world_colour(T_world_depth), pose_map.colour_intrinsics)
    return compare_rendering(query, view.colour, view.depth > 0)


def _finite_or_none(value: float) -> float | None:
    return value if math.isfinite(value) else None


def write_render_panels(pose_map: PoseMap, frames: list[FrameRecord], T_world_depth_est: torch.Tensor, out: Path,
                        translation_m: np.ndarray | None, rotation_deg: np.ndarray | None,
                        success: np.ndarray) -> list[dict]:
    """Render, compare and write the panels of a few frames (:func:`choose_panel_frames`) into ``out/panels/``,
    with their index ``panels.json``; returns the index entries (none for a map without a mesh)."""
    folder = getattr(pose_map, "folder", None)
    if folder is None or not (Path(folder) / MESH).is_file():
        return []
    entries = []
    for index, label in choose_panel_frames(translation_m, success):
        frame = frames[index]
        query = load_colour(frame, pose_map.size.hw)[None]
        comparison = render_at(pose_map, query, T_world_depth_est[index])
        name = f"{PANELS_DIR}/{index:05d}_{record_file_stem(frame.key)}.png"
        atomic_write_bytes(out / name, encode_png(comparison.panel))
        entries.append({
            "frame": frame.key, "index": index, "file": name, "label": label, "success": bool(success[index]),
            "t_err_m": None if translation_m is None else _finite_or_none(float(translation_m[index])),
            "r_err_deg": None if rotation_deg is None else _finite_or_none(float(rotation_deg[index])),
            "mean_abs_difference": _finite_or_none(comparison.mean_abs_difference),
            "coverage": comparison.coverage,
        })
    atomic_write_text(out / PANELS_DIR / PANELS_INDEX, json.dumps({"panels": entries}, indent=1) + "\n")
    return entries


def write_report_files(pose_map: PoseMap, frames: list[FrameRecord], T_world_depth_est: torch.Tensor, out: Path,
                       errors, success: torch.Tensor) -> None:
    """The ground truth (when ``errors``, a :class:`~posekit.metrics.pose_errors.PoseErrors`, is given) and the
    render-and-compare panels of a localisation run folder ``out``."""
    if errors is not None:
        write_ground_truth(out, frames)
    translation = None if errors is None else errors.translation.double().numpy()
    rotation = None if errors is None else errors.rotation_deg.double().numpy()
    write_render_panels(pose_map, frames, T_world_depth_est, out, translation, rotation, success.numpy().astype(bool))
