"""Evaluate an estimated trajectory file against a ground-truth file: read, offset, crop, synchronise,
align, and compute APE / RPE (what ``posekit eval-traj`` runs; evo's ``evo_ape``/``evo_rpe`` pipeline).

Formats: ``tum`` (both files TUM), ``kitti`` (both KITTI; an estimate with frame indices, kitti-odom-eval's
13-number lines, is compared with the ground truth at those frames), ``euroc`` (GT an EuRoC CSV, estimate TUM).
Synchronisation of timestamped files: ``nearest`` (evo's association within ``max_diff``) or ``interpolate``
(the ground truth interpolated at the estimate's stamps, :func:`~posekit.metrics.sync.associate_by_interpolation`).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from pathlib import Path

import numpy as np

from posekit.errors import TrajectoryError
from posekit.metrics.alignment import AlignmentType, align_origin, align_trajectory
from posekit.metrics.ape_rpe import MetricResult, PoseRelation, Unit, compute_ape, compute_rpe
from posekit.metrics.results import EvaluationRecord
from posekit.metrics.sync import (
    DEFAULT_MAX_DIFF,
    associate_by_interpolation,
    associate_trajectories,
    crop_to_time_range,
)
from posekit.metrics.trajectory import Trajectory
from posekit.metrics.trajectory_files import TimestampOrder, associate_kitti, read_euroc_csv, read_kitti, read_tum


class TrajectoryFormat(Enum):
    tum = "tum"
    kitti = "kitti"
    euroc = "euroc"


class SyncMethod(Enum):
    nearest = "nearest"
    interpolate = "interpolate"


# evo's short names of the pose relations (``-r``).
RELATION_NAMES = {
    "full": PoseRelation.full_transformation,
    "trans_part": PoseRelation.translation_part,
    "rot_part": PoseRelation.rotation_part,
    "angle_deg": PoseRelation.rotation_angle_deg,
    "angle_rad": PoseRelation.rotation_angle_rad,
    "point_distance": PoseRelation.point_distance,
    "point_distance_error_ratio": PoseRelation.point_distance_error_ratio,
}
# evo's short delta units (``-u``) and posekit's longer names.
UNIT_NAMES = {"f": Unit.frames, "frames": Unit.frames, "m": Unit.meters, "d": Unit.degrees, "deg": Unit.degrees,
              "r": Unit.radians, "rad": Unit.radians}


@dataclass(frozen=True)
class SyncOptions:
    """How two files are brought to matching poses.

    Attributes:
        method: :class:`SyncMethod`.
        max_diff: largest time difference (s) of nearest-stamp pairs.
        t_offset: seconds added to the estimate's timestamps.
        t_start, t_end: keep only poses with stamps in ``[t_start, t_end]`` (s, as in the files; the estimate's
            after the offset).
    """

    method: SyncMethod = SyncMethod.nearest
    max_diff: float = DEFAULT_MAX_DIFF
    t_offset: float = 0.0
    t_start: float | None = None
    t_end: float | None = None


def read_trajectory(path: str | Path, file_format: TrajectoryFormat, is_reference: bool,
                    timestamps: TimestampOrder = TimestampOrder.repeats) -> Trajectory:
    """One file in ``file_format`` (for ``euroc`` only the reference is a CSV, the estimate is TUM);
    ``timestamps`` says which timestamp orders a timestamped file may have (:class:`TimestampOrder`)."""
    if file_format is TrajectoryFormat.kitti:
        return read_kitti(path)
    if file_format is TrajectoryFormat.euroc and is_reference:
        return read_euroc_csv(path, timestamps)
    return read_tum(path, timestamps)


def synchronise(traj_ref: Trajectory, traj_est: Trajectory, file_format: TrajectoryFormat, sync: SyncOptions):
    """Reduce both trajectories to matching poses (pose ``i`` of one with pose ``i`` of the other)."""
    timed = sync.t_start is not None or sync.t_end is not None or sync.t_offset != 0.0
    if file_format is TrajectoryFormat.kitti:
        if timed or sync.method is SyncMethod.interpolate:
            raise TrajectoryError("--t-offset, --t-start, --t-end and --sync interpolate need timestamps (tum, euroc)")
        return associate_kitti(traj_ref, traj_est, "reference", "estimate")
    if sync.t_offset:
        traj_est = Trajectory(traj_est.poses, traj_est.timestamps + sync.t_offset, traj_est.names)
    if sync.t_start is not None or sync.t_end is not None:
        traj_ref = crop_to_time_range(traj_ref, sync.t_start, sync.t_end)
        traj_est = crop_to_time_range(traj_est, sync.t_start, sync.t_end)
    if sync.method is SyncMethod.interpolate:
        return associate_by_interpolation(traj_ref, traj_est)
    return associate_trajectories(traj_ref, traj_est, max_diff=sync.max_diff)


@dataclass(frozen=True, eq=False)
class TrajectoryEvaluation:
    """APE/RPE of a file pair: the result, the synchronised reference, the aligned estimate, a title."""

    result: MetricResult
    traj_ref: Trajectory
    traj_est_aligned: Trajectory
    title: str

    def __repr__(self) -> str:
        return f"TrajectoryEvaluation({self.title!r}, {self.result!r})"

    def record(self, ref_name: str, est_name: str, metric: str) -> EvaluationRecord:
        """The per-pose errors, their stamps (or pairs) and statistics, for :func:`~posekit.metrics.results.save_record`."""
        result = self.result
        index = None if result.pairs is None else result.pairs[:, 0]
        stamps = self.traj_ref.timestamps
        if stamps is not None and index is not None:
            stamps = stamps[index]
        sim = result.alignment
        return EvaluationRecord(
            title=self.title, statistics=result.statistics, errors=result.errors.numpy(), metric=metric,
            pose_relation=result.pose_relation.value, unit=result.unit, ref_name=ref_name, est_name=est_name,
            timestamps=None if stamps is None else stamps.numpy(),
            pairs=None if result.pairs is None else result.pairs.numpy(),
            extra={"alignment": {"rotation": sim.rotation.tolist(), "translation": sim.translation.tolist(),
                                 "scale": sim.scale}},
        )


def evaluate_trajectories(
    traj_ref: Trajectory,
    traj_est: Trajectory,
    metric: str = "ape",
    pose_relation: PoseRelation = PoseRelation.translation_part,
    alignment: AlignmentType = AlignmentType.none,
    n_align: int | None = None,
    origin: bool = False,
    delta: float = 1.0,
    delta_unit: Unit = Unit.frames,
    all_pairs: bool = False,
    pairs_from_reference: bool = False,
) -> TrajectoryEvaluation:
    """APE (``metric="ape"``) or RPE of synchronised trajectories after the alignment (Umeyama, or with
    ``origin`` the first poses made equal, evo's ``--align_origin``; not both)."""
    if origin and alignment is not AlignmentType.none:
        raise TrajectoryError("choose either an Umeyama alignment (--align) or --align-origin, not both")
    if origin:
        traj_est, _ = align_origin(traj_est, traj_ref)
    aligned, _ = align_trajectory(traj_est, traj_ref, alignment, n_align)
    how = "origin" if origin else alignment.value
    if metric == "ape":
        result = compute_ape(traj_ref, traj_est, pose_relation, alignment, n_align)
        title = f"APE w.r.t. {pose_relation.value}{_unit(result)}"
    elif metric == "rpe":
        result = compute_rpe(traj_ref, traj_est, pose_relation, delta, delta_unit, all_pairs,
                             pairs_from_reference=pairs_from_reference, alignment=alignment, n_align=n_align)
        pairs = "all pairs" if all_pairs else "consecutive pairs"
        title = f"RPE w.r.t. {pose_relation.value}{_unit(result)}, delta = {delta:g} {delta_unit.value}, {pairs}"
    else:
        raise TrajectoryError(f"unknown metric {metric!r} (ape, rpe)")
    return TrajectoryEvaluation(result, traj_ref, aligned, f"{title}, alignment {how}")


def _unit(result: MetricResult) -> str:
    return f" ({result.unit})" if result.unit else ""


def error_positions(evaluation: TrajectoryEvaluation) -> tuple[np.ndarray, np.ndarray]:
    """Where each error is drawn (the aligned estimate's pose, or a pair's first pose) and its x value
    (time in s from the start when there are stamps, else the index)."""
    result = evaluation.result
    index = np.arange(result.errors.numel()) if result.pairs is None else result.pairs[:, 0].numpy()
    positions = evaluation.traj_est_aligned.positions.numpy()[index]
    stamps = evaluation.traj_ref.timestamps
    x = index.astype(np.float64) if stamps is None else (stamps.numpy() - float(stamps[0]))[index]
    return positions, x
