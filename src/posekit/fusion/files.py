"""Fusing trajectory files: what ``posekit fuse`` runs (absolute TUM + relative TUM or CSV [+ ground truth])."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import torch

from posekit.errors import TrajectoryError
from posekit.fusion.graph import FusionOptions
from posekit.fusion.inputs import read_frame_flags, read_relative_csv, rows_at_timestamps
from posekit.fusion.measurements import AbsoluteMeasurements, RelativeMeasurements
from posekit.fusion.noise import sigmas_from_residuals
from posekit.fusion.outputs import write_fusion_run
from posekit.fusion.records import contiguous_groups, record_of
from posekit.fusion.sequence import fuse_sequence
from posekit.geometry import relative_pose
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


def _relative_rows(relative_path: Path, absolute: Trajectory, records: list[str]) -> tuple[torch.Tensor, torch.Tensor]:
    """Pairs of absolute rows and ``T_i_j`` from a relative TUM (consecutive frames of each record) or CSV."""
    if relative_path.suffix.lower() == ".csv":
        table = read_relative_csv(relative_path)
        rows_from = rows_at_timestamps(table.t_from, absolute.timestamps, relative_path)
        rows_to = rows_at_timestamps(table.t_to, absolute.timestamps, relative_path)
        return torch.stack((rows_from, rows_to), dim=1), table.T_i_j
    odometry = read_tum(relative_path)
    rows = rows_at_timestamps(absolute.timestamps, odometry.timestamps, relative_path)
    poses = odometry.poses[rows]
    pairs = [(k, k + 1) for k in range(len(records) - 1) if records[k] == records[k + 1]]
    index = torch.tensor(pairs, dtype=torch.long).reshape(-1, 2)
    return index, relative_pose(poses[index[:, 0]], poses[index[:, 1]])


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
            False drops the frame's absolute factor).
        gt_path: TUM ground truth holding every absolute timestamp.

    Raises:
        TrajectoryError: timestamps that do not match between files, a relative pose across records.
    """
    absolute_path, relative_path = Path(absolute_path), Path(relative_path)
    absolute = read_tum(absolute_path)
    n = len(absolute)
    if n > 1 and bool((absolute.timestamps[1:] == absolute.timestamps[:-1]).any()):
        raise TrajectoryError(f"{absolute_path}: repeated timestamps (one row per frame needed)")
    success = torch.ones(n, dtype=torch.bool)
    names = [f"{i:06d}" for i in range(n)]
    if frames_path is not None:
        flags = read_frame_flags(frames_path)
        if len(flags.success) != n:
            raise TrajectoryError(f"{frames_path}: {len(flags.success)} rows, but {absolute_path} has {n} poses")
        success = flags.success
        names = flags.names if flags.names is not None else names
    records = [record_of(name) for name in names]
    contiguous_groups(records)
    pairs, T_i_j = _relative_rows(relative_path, absolute, records)
    absolute_sigma, relative_sigma = config.absolute_sigma, config.relative_sigma
    extra: dict = {"method": config.method, "absolute": str(absolute_path), "relative": str(relative_path),
                   "robust": config.options.robust.value, "absolute_every": config.absolute_every,
                   "absolute_failed": int((~success).sum())}
    if config.sigmas_from_residuals:
        absolute_sigma, relative_sigma = _residual_sigmas(absolute.poses, records, pairs, T_i_j)
    extra["absolute_sigma_t_m"] = float(absolute_sigma[0])
    extra["absolute_sigma_r_deg"] = float(torch.rad2deg(absolute_sigma[3]))
    extra["relative_sigma_t_m"] = float(relative_sigma[0])
    extra["relative_sigma_r_deg"] = float(torch.rad2deg(relative_sigma[3]))
    measurements = AbsoluteMeasurements(absolute.poses, absolute_sigma, success)
    fusion = fuse_sequence(measurements, RelativeMeasurements(pairs, T_i_j, relative_sigma), records,
                           config.options, config.absolute_every)
    gt_poses = None
    if gt_path is not None:
        gt = read_tum(gt_path)
        gt_poses = gt.poses[rows_at_timestamps(absolute.timestamps, gt.timestamps, gt_path)]
    used = measurements.valid if config.absolute_every is None else _every_mask(records, measurements.valid, config.absolute_every)
    diagnostics = {"absolute_used": [int(v) for v in used.tolist()],
                   "absolute_residual": [f"{v:.6g}" for v in fusion.absolute_residual.tolist()]}
    fused = Trajectory(fusion.T_world_cam, absolute.timestamps, names)
    return write_fusion_run(out, config.method, fused, gt_poses, diagnostics, extra)


def _every_mask(records: list[str], valid: torch.Tensor, step: int) -> torch.Tensor:
    keep = torch.zeros_like(valid)
    for rows in contiguous_groups(records).values():
        keep[rows[::step]] = True
    return keep & valid


def _residual_sigmas(poses: torch.Tensor, records: list[str], pairs: torch.Tensor, T_i_j: torch.Tensor):
    """Residual-based sigmas; needs the consecutive relative poses ``(k, k + 1)`` of every record."""
    step_of = {tuple(p): m for m, p in enumerate(pairs.tolist())}
    absolute_parts, relative_parts = [], []
    for rows in contiguous_groups(records).values():
        steps = [step_of.get((k, k + 1)) for k in rows[:-1]]
        if any(s is None for s in steps):
            raise TrajectoryError("sigmas from residuals need a relative pose between every two consecutive frames")
        absolute_parts.append(poses[rows])
        relative_parts.append(T_i_j[steps] if steps else T_i_j[:0])
    estimate = sigmas_from_residuals(absolute_parts, relative_parts)
    return estimate.absolute, estimate.relative
