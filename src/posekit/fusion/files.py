"""Fusing trajectory files: what ``posekit fuse`` runs (absolute TUM + relative TUM or CSV [+ ground truth])."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import torch

from posekit.errors import TrajectoryError
from posekit.fusion.graph import FusionOptions
from posekit.fusion.inputs import TIMESTAMP_TOLERANCE, read_frame_flags, read_relative_csv, rows_at_timestamps
from posekit.fusion.measurements import AbsoluteMeasurements, RelativeMeasurements
from posekit.fusion.noise import sigmas_from_residuals
from posekit.fusion.outputs import write_fusion_run
from posekit.metrics.records import contiguous_groups, record_of
from posekit.fusion.sequence import fuse_sequence
from posekit.geometry import relative_pose
from posekit.metrics.sync import matching_time_indices
from posekit.metrics.trajectory import Trajectory
from posekit.metrics.trajectory_files import read_tum


@dataclass(frozen=True)
class FuseFilesConfig:
    """Settings of :func:`fuse_files`.

    Attributes:
        absolute_sigma, relative_sigma: ``(6,)`` float64 ``(t [m], omega [rad])`` standard deviations, used
            unless ``sigmas_from_residuals``.
        sigmas_from_residuals: estimate both from the inputs' consistency (:mod:`posekit.fusion.noise`).
        absolute_every: VO mode: absolute factors on every N-th frame of each record only.
        options: graph settings (robust kernel, LM).
        method: file stem of the outputs.
    """

    absolute_sigma: torch.Tensor
    relative_sigma: torch.Tensor
    sigmas_from_residuals: bool = False
    absolute_every: int | None = None
    options: FusionOptions = FusionOptions()
    method: str = "fused"


def _read_relative(relative_path: Path) -> tuple[torch.Tensor, object]:
    """The timestamps a relative file mentions, and its contents (a TUM trajectory or a relative table)."""
    if relative_path.suffix.lower() == ".csv":
        table = read_relative_csv(relative_path)
        return torch.unique(torch.cat((table.t_from, table.t_to))), table
    odometry = read_tum(relative_path)
    return odometry.timestamps, odometry


def _relative_rows(relative_path: Path, contents, timestamps: torch.Tensor, records: list[str]) -> tuple[torch.Tensor, torch.Tensor]:
    """Pairs of frame rows and ``T_i_j``: from a relative CSV, or from a TUM trajectory's consecutive frames
    of each record."""
    if isinstance(contents, Trajectory):
        poses = contents.poses[rows_at_timestamps(timestamps, contents.timestamps, relative_path)]
        pairs = [(k, k + 1) for k in range(len(records) - 1) if records[k] == records[k + 1]]
        index = torch.tensor(pairs, dtype=torch.long).reshape(-1, 2)
        return index, relative_pose(poses[index[:, 0]], poses[index[:, 1]])
    rows_from = rows_at_timestamps(contents.t_from, timestamps, relative_path)
    rows_to = rows_at_timestamps(contents.t_to, timestamps, relative_path)
    return torch.stack((rows_from, rows_to), dim=1), contents.T_i_j


def _timeline(absolute: Trajectory, relative_stamps: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Frames of a single-record sequence: the union of the absolute and the relative timestamps (a frame the
    absolute estimator skipped, e.g. a failed localisation, is still fused through the odometry).

    Returns:
        ``(N,)`` timestamps and ``(N, 4, 4)`` absolute poses (NaN where the frame has none).
    """
    _, matched = matching_time_indices(absolute.timestamps, relative_stamps, max_diff=TIMESTAMP_TOLERANCE)
    unmatched = torch.ones(relative_stamps.numel(), dtype=torch.bool)
    unmatched[matched] = False
    extra = relative_stamps[unmatched]
    stamps = torch.cat((absolute.timestamps, extra))
    order = torch.argsort(stamps)
    poses = torch.cat((absolute.poses, torch.full((extra.numel(), 4, 4), float("nan"), dtype=torch.float64)))
    return stamps[order], poses[order]


def fuse_files(
    absolute_path: str | Path,
    relative_path: str | Path,
    out: str | Path,
    config: FuseFilesConfig,
    frames_path: str | Path | None = None,
    gt_path: str | Path | None = None,
) -> dict:
    """Fuse an absolute TUM trajectory with relative measurements and write the run (see
    :func:`~posekit.fusion.outputs.write_fusion_run`); return the JSON summary.

    Args:
        absolute_path: TUM file of per-frame absolute estimates (PoseNet, localize, retrieval).
        relative_path: TUM trajectory (its consecutive relative poses are used) or relative CSV.
        frames_path: per-frame CSV in the absolute file's row order (``name`` gives the records; ``success``
            False drops the frame's absolute factor; a flagged frame linked to no other factor keeps its pose
            and is counted in ``frames_unanchored``). Without it the sequence is one record whose frames are
            all timestamps of both files: frames missing from the absolute file (a localisation that skipped
            its failures) are fused through the relative poses alone.
        gt_path: TUM ground truth holding every absolute timestamp.

    Raises:
        TrajectoryError: timestamps that do not match between files, a relative pose across records.
    """
    absolute_path, relative_path = Path(absolute_path), Path(relative_path)
    absolute = read_tum(absolute_path)
    n = len(absolute)
    if n > 1 and bool((absolute.timestamps[1:] == absolute.timestamps[:-1]).any()):
        raise TrajectoryError(f"{absolute_path}: repeated timestamps (one row per frame needed)")
    relative_stamps, relative_contents = _read_relative(relative_path)
    success = torch.ones(n, dtype=torch.bool)
    names = None
    if frames_path is not None:
        flags = read_frame_flags(frames_path)
        if len(flags.success) != n:
            raise TrajectoryError(f"{frames_path}: {len(flags.success)} rows, but {absolute_path} has {n} poses")
        success, names = flags.success, flags.names
        timestamps, poses = absolute.timestamps, absolute.poses
    else:
        timestamps, poses = _timeline(absolute, relative_stamps)
        success = torch.isfinite(poses).flatten(1).all(dim=1)
    names = names if names is not None else [f"{i:06d}" for i in range(len(timestamps))]
    records = [record_of(name) for name in names]
    contiguous_groups(records)
    pairs, T_i_j = _relative_rows(relative_path, relative_contents, timestamps, records)
    absolute_sigma, relative_sigma = config.absolute_sigma, config.relative_sigma
    extra: dict = {"method": config.method, "absolute": str(absolute_path), "relative": str(relative_path),
                   "robust": config.options.robust.value, "absolute_every": config.absolute_every,
                   "frames_without_absolute": int((~success).sum())}
    if config.sigmas_from_residuals:
        absolute_sigma, relative_sigma = _residual_sigmas(poses, success, records, pairs, T_i_j)
    extra["absolute_sigma_t_m"] = float(absolute_sigma[0])
    extra["absolute_sigma_r_deg"] = float(torch.rad2deg(absolute_sigma[3]))
    extra["relative_sigma_t_m"] = float(relative_sigma[0])
    extra["relative_sigma_r_deg"] = float(torch.rad2deg(relative_sigma[3]))
    measurements = AbsoluteMeasurements(poses, absolute_sigma, success)
    fusion = fuse_sequence(measurements, RelativeMeasurements(pairs, T_i_j, relative_sigma), records,
                           config.options, config.absolute_every)
    gt_poses = None
    if gt_path is not None:
        gt = read_tum(gt_path)
        gt_poses = gt.poses[rows_at_timestamps(timestamps, gt.timestamps, gt_path)]
    used = measurements.valid if config.absolute_every is None else _every_mask(records, measurements.valid, config.absolute_every)
    extra["frames_unanchored"] = int((~fusion.anchored).sum())
    diagnostics = {"absolute_used": [int(v) for v in used.tolist()],
                   "anchored": [int(v) for v in fusion.anchored.tolist()],
                   "absolute_residual": [f"{v:.6g}" for v in fusion.absolute_residual.tolist()]}
    fused = Trajectory(fusion.T_world_cam, timestamps, names)
    return write_fusion_run(out, config.method, fused, gt_poses, diagnostics, extra)


def _every_mask(records: list[str], valid: torch.Tensor, step: int) -> torch.Tensor:
    keep = torch.zeros_like(valid)
    for rows in contiguous_groups(records).values():
        keep[rows[::step]] = True
    return keep & valid


def _residual_sigmas(poses: torch.Tensor, valid: torch.Tensor, records: list[str], pairs: torch.Tensor, T_i_j: torch.Tensor):
    """Residual-based sigmas from the runs of consecutive frames that have an absolute pose and a relative pose
    ``(k, k + 1)`` between each two."""
    step_of = {tuple(p): m for m, p in enumerate(pairs.tolist())}
    absolute_parts, relative_parts = [], []
    for rows in contiguous_groups(records).values():
        run: list[int] = []
        for k in rows + [None]:
            if k is not None and bool(valid[k]) and (not run or (run[-1], k) in step_of):
                run.append(k)
                continue
            if len(run) >= 3:
                absolute_parts.append(poses[run])
                relative_parts.append(T_i_j[[step_of[(a, a + 1)] for a in run[:-1]]])
            run = [k] if k is not None and bool(valid[k]) else []
    if not absolute_parts:
        raise TrajectoryError("sigmas from residuals need runs of 3 or more consecutive frames with absolute and relative poses")
    estimate = sigmas_from_residuals(absolute_parts, relative_parts)
    return estimate.absolute, estimate.relative
