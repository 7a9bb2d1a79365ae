"""Sequence fusion of a localisation run (``posekit localize --sequence``).

The per-frame poses of a run folder (``poses_<record>.tum`` + ``frames.csv``) are fused in a pose graph
(:mod:`posekit.fusion`) with relative poses between consecutive query frames. The relative poses never use
the queries' depth: ORB features of one query are matched to the other query and lifted with the MAP depth
rendered at the *anchor* frame's localised estimate, then PnP-RANSAC (``baselines.feature_matching``). The
anchor is the earlier frame when it was flagged successful, else the later one; a pair where neither was
successful gets no relative factor (its rendered depth would belong to a wrong place). Flagged frames keep their
absolute factor with a large sigma (weighted down, not dropped), so every frame stays constrained.

Outputs beside the unfused files: ``fused_<record>.tum``, ``fused_summary.json`` (the keys of ``summary.json``
for the fused poses plus ``relative_pairs`` and the unfused numbers under ``unfused``) and ``relative_steps.csv``
(the relative poses in ``posekit fuse --relative`` form, between the frames' TUM timestamps, for other settings:
``posekit fuse --absolute RUN/poses_<record>.tum --relative RUN/relative_steps.csv --frames RUN/frames.csv``).
"""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass
from pathlib import Path

import torch

from posekit.baselines.feature_matching import FeatureMatchingConfig, estimate_pose_pnp
from posekit.data.records import FrameRecord
from posekit.errors import FileFormatError
from posekit.fileio import atomic_write_text
from posekit.fusion.graph import FusionOptions
from posekit.fusion.inputs import write_relative_csv
from posekit.fusion.measurements import AbsoluteMeasurements, RelativeMeasurements, sigma_vector
from posekit.fusion.sequence import fuse_sequence
from posekit.geometry import se3_inverse
from posekit.localization.run import record_file_stem, summarise
from posekit.mapping.frames import load_colour
from posekit.mapping.store import PoseMap
from posekit.metrics.trajectory import Trajectory
from posekit.metrics.trajectory_files import read_tum, write_tum


@dataclass(frozen=True)
class SequenceFusionConfig:
    """Standard deviations ``(metres, degrees)`` of the factors and the graph options.

    ``absolute_ok`` is about the flagged-successful frames' measured error on 7-Scenes (2-3 cm, 1.5-2 deg);
    ``absolute_flagged`` makes a flagged frame's pose almost free; ``relative`` is per consecutive step.
    """

    absolute_ok: tuple[float, float] = (0.03, 2.0)
    absolute_flagged: tuple[float, float] = (1.0, 45.0)
    relative: tuple[float, float] = (0.02, 1.0)
    options: FusionOptions = FusionOptions()


def map_depth_steps(pose_map: PoseMap, images: list[torch.Tensor], T_world_depth: torch.Tensor, success: torch.Tensor,
                    records: list[str], config: FeatureMatchingConfig = FeatureMatchingConfig()) -> tuple[torch.Tensor, torch.Tensor]:
    """Relative poses between consecutive frames of each record from PnP on map depth rendered at the anchor's estimate.

    Args:
        images: ``N`` colour images ``(1, 3, h, w)`` at the map's working size.
        T_world_depth: ``(N, 4, 4)`` localised depth-camera (file) poses; ``success``: ``(N,)`` bool flags.
        records: ``N`` record names; pairs never cross records.

    Returns:
        ``pairs (M, 2)`` (anchor, other) rows and ``T_anchor_other (M, 4, 4)`` float64 depth-camera poses.
    """
    renderer = pose_map.renderer()
    k = pose_map.colour_intrinsics
    D = pose_map.calibration.T_depth_colour.to(torch.float64)
    pairs, steps = [], []
    for i in range(len(images) - 1):
        if records[i] != records[i + 1]:
            continue
        anchor = i if bool(success[i]) else (i + 1 if bool(success[i + 1]) else None)
        if anchor is None:
            continue
        other = i + 1 if anchor == i else i
        view = renderer.render(pose_map.calibration.T_world_colour(T_world_depth[anchor]), k)
        result = estimate_pose_pnp(images[other], images[anchor], view.depth, k, config)
        if not result.success:
            continue
        T_anchor_other_colour = se3_inverse(result.T_src_tgt.double().reshape(4, 4))
        pairs.append((anchor, other))
        steps.append(D @ T_anchor_other_colour @ se3_inverse(D))
    if not pairs:
        return torch.zeros(0, 2, dtype=torch.long), torch.zeros(0, 4, 4, dtype=torch.float64)
    return torch.tensor(pairs, dtype=torch.long), torch.stack(steps)


def read_run(out: Path, frames: list[FrameRecord]) -> tuple[torch.Tensor, torch.Tensor]:
    """``(N, 4, 4)`` localised poses and ``(N,)`` success flags of a run folder, in ``frames`` order."""
    poses = torch.empty(len(frames), 4, 4, dtype=torch.float64)
    for record in sorted({f.record_id for f in frames}):
        rows = [i for i, f in enumerate(frames) if f.record_id == record]
        path = out / f"poses_{record_file_stem(record)}.tum"
        traj = read_tum(path)
        if traj.poses.shape[0] != len(rows):
            raise FileFormatError(path, f"{traj.poses.shape[0]} poses for {len(rows)} frames of record {record!r}")
        poses[rows] = traj.poses.to(torch.float64)
    if not (out / "frames.csv").is_file():
        raise FileFormatError(out / "frames.csv", "missing: fuse a folder written by posekit localize")
    with open(out / "frames.csv", newline="") as handle:
        table = {row.get("frame"): row for row in csv.DictReader(handle)}
    missing = [f.key for f in frames if f.key not in table]
    if missing:
        raise FileFormatError(out / "frames.csv", f"no row for frame {missing[0]}")
    if any(table[f.key].get("success") not in ("0", "1") for f in frames):
        raise FileFormatError(out / "frames.csv", "a frame's 'success' is not 0 or 1")
    success = torch.tensor([table[f.key]["success"] == "1" for f in frames])
    return poses, success


def _time(frame: FrameRecord) -> float:
    """The frame's TUM timestamp as :func:`~posekit.localization.run.localize_frames` writes it."""
    return frame.timestamp if frame.timestamp is not None else float(frame.order)


def fuse_localized_run(pose_map: PoseMap, frames: list[FrameRecord], out: str | Path, with_errors: bool = True,
                       config: SequenceFusionConfig = SequenceFusionConfig()) -> dict:
    """Fuse the run folder ``out`` of :func:`~posekit.localization.run.localize_frames`; returns the fused summary."""
    out = Path(out)
    estimated, success = read_run(out, frames)
    records = [f.record_id for f in frames]
    order = sorted(range(len(frames)), key=lambda i: (records[i], i))  # contiguous records for the graph
    images = [load_colour(frames[i], pose_map.size.hw)[None] for i in order]
    pairs, steps = map_depth_steps(pose_map, images, estimated[order], success[order], [records[i] for i in order])
    sigmas = torch.stack([sigma_vector(*(config.absolute_ok if bool(success[i]) else config.absolute_flagged))
                          for i in order])
    fused_sorted = fuse_sequence(AbsoluteMeasurements(estimated[order], sigmas),
                                 RelativeMeasurements(pairs, steps, sigma_vector(*config.relative)),
                                 [records[i] for i in order], config.options).T_world_cam
    fused = torch.empty_like(fused_sorted)
    fused[order] = fused_sorted
    times_sorted = torch.tensor([_time(frames[i]) for i in order], dtype=torch.float64)
    write_relative_csv(out / "relative_steps.csv", times_sorted[pairs[:, 0]], times_sorted[pairs[:, 1]], steps)
    for record in sorted(set(records)):
        rows = [i for i, r in enumerate(records) if r == record]
        times = torch.tensor([_time(frames[i]) for i in rows], dtype=torch.float64)
        write_tum(out / f"fused_{record_file_stem(record)}.tum", Trajectory(fused[rows], times, [frames[i].key for i in rows]))
    summary: dict = {"frames": len(frames), "relative_pairs": int(pairs.shape[0]),
                     "flagged_successful": int(success.sum())}
    if with_errors:
        gt = torch.stack([f.T_world_cam for f in frames]).to(torch.float64)
        summary.update(summarise(gt, fused))
        summary["unfused"] = summarise(gt, estimated)
    atomic_write_text(out / "fused_summary.json", json.dumps(summary, indent=1) + "\n")
    return summary
