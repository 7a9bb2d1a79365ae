"""Absolute and relative pose error (APE, RPE) of an estimated trajectory, with evo's definitions.

- APE of pose ``i``: ``E_i = inv(P_i) @ Q_i`` for estimate ``P`` and reference ``Q`` (Kuemmerle et al.);
  its translation part is ``||p_i - q_i||``.
- RPE of a pair ``(i, j)``: ``E_ij = inv(inv(Q_i) Q_j) @ (inv(P_i) P_j)`` (Sturm et al., TUM RGB-D).
- Pairs for the RPE (:func:`rpe_pairs`), chosen on the estimate unless ``pairs_from_reference``:
  ``delta`` frames apart (consecutive: ``0, d, 2d, ...``; all pairs: ``(i, i + d)``), or ``delta`` metres of
  path apart (consecutive: starting at pose 0, a pose is kept each time the path since the last kept pose
  reaches ``delta``, as evo 1.38.1 does; all pairs: for each ``i`` the ``j > i`` whose path length from
  ``i`` is closest to ``delta``, kept if within ``rel_tol * delta``), or ``delta`` degrees / radians of
  rotation accumulated along the path (the angles of the relative rotations of consecutive poses, summed;
  pairs chosen as for metres). evo's angle pairs use the difference of the absolute orientation angles
  ``|angle(R_i) - angle(R_j)|`` instead, which depends on the world frame; the numbers then differ. evo's 2018 releases started at the
  first pose reaching ``delta`` instead of pose 0, which is why their stored KITTI 00 RPE results differ.

The trajectories must already be associated (same length, pose ``i`` of one matching pose ``i`` of the
other): see :func:`posekit.metrics.sync.associate_trajectories`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import Enum

import torch

from posekit.errors import TrajectoryError
from posekit.geometry import matrix_to_axis_angle, relative_pose
from posekit.metrics.alignment import AlignmentType, Similarity, align_trajectory
from posekit.metrics.statistics import compute_statistics
from posekit.metrics.trajectory import Trajectory


class PoseRelation(Enum):
    """Which part of the error pose ``E`` is measured."""

    translation_part = "translation part"  # ||t_E|| (m)
    rotation_angle_deg = "rotation angle in degrees"  # angle of R_E (deg)
    rotation_angle_rad = "rotation angle in radians"  # angle of R_E (rad)
    rotation_part = "rotation part"  # ||R_E - I||_F (unitless)
    full_transformation = "full transformation"  # ||E - I||_F (unitless)
    point_distance = "point distance"  # | ||q_i - q_j|| - ||p_i - p_j|| | for RPE; ||p_i - q_i|| for APE
    point_distance_error_ratio = "point distance error ratio"  # RPE only: 100 | d_ref - d_est | / d_ref (%)


class Unit(Enum):
    """Unit of the RPE ``delta`` between the poses of a pair."""

    frames = "frames"
    meters = "m"  # path length
    degrees = "deg"  # rotation angle accumulated along the path
    radians = "rad"


_ERROR_UNITS = {
    PoseRelation.translation_part: "m",
    PoseRelation.point_distance: "m",
    PoseRelation.rotation_angle_deg: "deg",
    PoseRelation.rotation_angle_rad: "rad",
    PoseRelation.rotation_part: "",
    PoseRelation.full_transformation: "",
    PoseRelation.point_distance_error_ratio: "%",
}


def error_unit(pose_relation: PoseRelation) -> str:
    """The unit of the errors of a :class:`PoseRelation` (``"m"``, ``"deg"``, ``"rad"`` or ``""``)."""
    return _ERROR_UNITS[pose_relation]


@dataclass(frozen=True, eq=False)
class MetricResult:
    """Errors of an APE or RPE evaluation and their statistics.

    Attributes:
        errors: ``(K,)`` float64 per-pose (APE) or per-pair (RPE) errors, in ``unit``.
        statistics: ``{"rmse", "mean", "median", "std", "min", "max", "sse"}`` of ``errors``.
        pose_relation: what was measured.
        unit: unit of the errors (:func:`error_unit`).
        alignment: the similarity applied to the estimate before the errors were computed.
        pairs: ``(K, 2)`` int64 index pairs (RPE only).
    """

    errors: torch.Tensor
    statistics: dict[str, float]
    pose_relation: PoseRelation
    unit: str
    alignment: Similarity
    pairs: torch.Tensor | None = None

    def __repr__(self) -> str:
        """The statistics, not every error value (thousands of them on a real trajectory)."""
        kind = "APE" if self.pairs is None else "RPE"
        unit = f" ({self.unit})" if self.unit else ""
        stats = ", ".join(f"{name}={value:.6g}" for name, value in self.statistics.items())
        return f"MetricResult({kind} {self.pose_relation.value}{unit}, {self.errors.numel()} values: {stats})"


def _check_same_length(traj_ref: Trajectory, traj_est: Trajectory) -> None:
    if len(traj_ref) != len(traj_est):
        raise TrajectoryError(
            f"trajectories must have the same number of poses (associate them first): "
            f"{len(traj_ref)} vs {len(traj_est)}"
        )
    if len(traj_ref) == 0:
        raise TrajectoryError("trajectories are empty")


def rotation_angle(rotation: torch.Tensor) -> torch.Tensor:
    """Angle in [0, pi] (rad) of ``(..., 3, 3)`` rotations, as the norm of the SO(3) logarithm (evo's
    ``so3_log_angle``)."""
    return torch.linalg.vector_norm(matrix_to_axis_angle(rotation), dim=-1)


def errors_of_error_poses(error_poses: torch.Tensor, pose_relation: PoseRelation) -> torch.Tensor:
    """Scalar errors of ``(K, 4, 4)`` error poses ``E`` (identity = no error). ``point_distance`` is not a
    property of ``E`` and is handled by the APE/RPE functions."""
    if pose_relation is PoseRelation.translation_part:
        return torch.linalg.vector_norm(error_poses[:, :3, 3], dim=-1)
    if pose_relation is PoseRelation.rotation_angle_rad:
        return rotation_angle(error_poses[:, :3, :3])
    if pose_relation is PoseRelation.rotation_angle_deg:
        return torch.rad2deg(rotation_angle(error_poses[:, :3, :3]))
    eye = torch.eye(4, dtype=error_poses.dtype)
    if pose_relation is PoseRelation.rotation_part:
        return torch.linalg.matrix_norm(error_poses[:, :3, :3] - eye[:3, :3])
    if pose_relation is PoseRelation.full_transformation:
        return torch.linalg.matrix_norm(error_poses - eye)
    raise ValueError(f"unsupported pose relation {pose_relation!r}")


def ape_errors(traj_ref: Trajectory, traj_est: Trajectory, pose_relation: PoseRelation) -> torch.Tensor:
    """Per-pose absolute pose errors ``(N,)`` of associated (and, if wanted, aligned) trajectories."""
    _check_same_length(traj_ref, traj_est)
    if pose_relation is PoseRelation.point_distance_error_ratio:
        raise TrajectoryError("the point distance error ratio is a relative error: use it with the RPE")
    if pose_relation in (PoseRelation.translation_part, PoseRelation.point_distance):
        return torch.linalg.vector_norm(traj_est.positions - traj_ref.positions, dim=-1)
    return errors_of_error_poses(relative_pose(traj_est.poses, traj_ref.poses), pose_relation)


def compute_ape(
    traj_ref: Trajectory,
    traj_est: Trajectory,
    pose_relation: PoseRelation = PoseRelation.translation_part,
    alignment: AlignmentType = AlignmentType.none,
    n_align: int | None = None,
) -> MetricResult:
    """APE after aligning the estimate to the reference (evo's ``evo_ape``, without the file handling).

    Args:
        traj_ref, traj_est: associated trajectories (same length).
        pose_relation: what to measure.
        alignment: :class:`AlignmentType` applied to the estimate first.
        n_align: align on the first ``n_align`` poses only (default: all).

    Example:
        >>> ref = Trajectory(torch.eye(4, dtype=torch.float64).repeat(3, 1, 1))
        >>> compute_ape(ref, ref).statistics["rmse"]
        0.0
    """
    _check_same_length(traj_ref, traj_est)
    aligned, similarity = align_trajectory(traj_est, traj_ref, alignment, n_align)
    errors = ape_errors(traj_ref, aligned, pose_relation)
    return MetricResult(errors, compute_statistics(errors), pose_relation, error_unit(pose_relation), similarity)


# ----------------------------------------------------------------------------------------------------------
# RPE
# ----------------------------------------------------------------------------------------------------------


def _path_steps(positions: torch.Tensor) -> torch.Tensor:
    """``(N-1,)`` distances between consecutive positions."""
    return torch.linalg.vector_norm(positions[1:] - positions[:-1], dim=-1)


def _pairs_by_index(n: int, delta: int, all_pairs: bool) -> torch.Tensor:
    if all_pairs:
        first = torch.arange(max(n - delta, 0))
        return torch.stack((first, first + delta), dim=-1)
    ids = torch.arange(0, n, delta)
    return torch.stack((ids[:-1], ids[1:]), dim=-1)


def _rotation_steps(rotations: torch.Tensor, degrees: bool) -> torch.Tensor:
    """``(N-1,)`` angles of the rotations between consecutive poses (deg or rad)."""
    angles = rotation_angle(rotations[:-1].transpose(-1, -2) @ rotations[1:])
    return torch.rad2deg(angles) if degrees else angles


def _pairs_by_steps(steps: torch.Tensor, delta: float, tol: float, all_pairs: bool) -> torch.Tensor:
    """Pairs whose accumulated ``steps`` (path length or rotation angle) reach ``delta`` (see the module
    docstring)."""
    if all_pairs:
        distances = torch.cat((steps.new_zeros(1), torch.cumsum(steps, dim=0)))
        n = distances.numel()
        first = torch.arange(n - 1)
        target = distances[:-1] + delta
        # The candidate j > i with |d_j - d_i - delta| smallest: a neighbour of the insertion point of
        # d_i + delta; on ties the earlier index wins (numpy's argmin). d is non-decreasing.
        upper = torch.maximum(torch.searchsorted(distances, target), first + 1).clamp(max=n - 1)
        lower = torch.maximum(upper - 1, first + 1)
        diff_upper = (distances[upper] - distances[:-1] - delta).abs()
        diff_lower = (distances[lower] - distances[:-1] - delta).abs()
        best = torch.where(diff_lower <= diff_upper, lower, upper)
        # Several equal distances (a camera at rest): take the first index with the best value.
        best = torch.maximum(torch.searchsorted(distances, distances[best]), first + 1)
        residual = (distances[best] - distances[:-1] - delta).abs()
        keep = residual <= tol
        return torch.stack((first[keep], best[keep]), dim=-1)
    ids = [0]
    current = 0.0
    for i, step in enumerate(steps.tolist(), start=1):
        current += step
        if current >= delta:
            ids.append(i)
            current = 0.0
    index = torch.tensor(ids, dtype=torch.long)
    return torch.stack((index[:-1], index[1:]), dim=-1)


def rpe_pairs(
    traj: Trajectory, delta: float, delta_unit: Unit = Unit.frames, rel_tol: float = 0.1, all_pairs: bool = False
) -> torch.Tensor:
    """Index pairs ``(K, 2)`` for the RPE, chosen on ``traj`` (see the module docstring).

    Args:
        traj: the trajectory whose poses define the spacing (evo: the estimate).
        delta: spacing, in ``delta_unit``; an integer for frames.
        delta_unit: :class:`Unit`: frames, metres of path, or degrees / radians of accumulated rotation.
        rel_tol: relative tolerance on ``delta`` for metre and angle pairs with ``all_pairs``.
        all_pairs: every pair at the spacing instead of consecutive, non-overlapping ones.

    Raises:
        TrajectoryError: ``delta`` not positive (or not an integer for frames), or no pair found.
    """
    if not (delta > 0 and math.isfinite(delta)):
        raise TrajectoryError(f"RPE delta must be a finite positive number, got {delta}")
    if delta_unit is Unit.frames:
        if float(delta) != int(delta):
            raise TrajectoryError(f"RPE delta must be an integer number of frames, got {delta}")
        if delta >= len(traj):
            raise TrajectoryError(f"RPE: delta = {delta:g} frames produced no pose pairs among {len(traj)} poses")
        pairs = _pairs_by_index(len(traj), int(delta), all_pairs)
    elif delta_unit is Unit.meters:
        pairs = _pairs_by_steps(_path_steps(traj.positions), float(delta), float(delta) * rel_tol, all_pairs)
    elif delta_unit in (Unit.degrees, Unit.radians):
        steps = _rotation_steps(traj.rotations, degrees=delta_unit is Unit.degrees)
        pairs = _pairs_by_steps(steps, float(delta), float(delta) * rel_tol, all_pairs)
    else:
        raise ValueError(f"unsupported delta unit {delta_unit!r}")
    if pairs.shape[0] == 0:
        raise TrajectoryError(
            f"RPE: delta = {delta} ({delta_unit.value}) produced no pose pairs among {len(traj)} poses; "
            "try a smaller delta"
        )
    return pairs


def rpe_errors(
    traj_ref: Trajectory, traj_est: Trajectory, pairs: torch.Tensor, pose_relation: PoseRelation
) -> torch.Tensor:
    """Relative pose errors ``(K,)`` of associated trajectories for ``(K, 2)`` index pairs ``(i, j)``."""
    _check_same_length(traj_ref, traj_est)
    i, j = pairs[:, 0], pairs[:, 1]
    if pose_relation in (PoseRelation.point_distance, PoseRelation.point_distance_error_ratio):
        ref_distance = torch.linalg.vector_norm(traj_ref.positions[i] - traj_ref.positions[j], dim=-1)
        est_distance = torch.linalg.vector_norm(traj_est.positions[i] - traj_est.positions[j], dim=-1)
        if pose_relation is PoseRelation.point_distance:
            return (ref_distance - est_distance).abs()
        return 100.0 * (ref_distance - est_distance).abs() / ref_distance  # inf/nan where ref_distance = 0
    T_refi_refj = relative_pose(traj_ref.poses[i], traj_ref.poses[j])
    T_esti_estj = relative_pose(traj_est.poses[i], traj_est.poses[j])
    return errors_of_error_poses(relative_pose(T_refi_refj, T_esti_estj), pose_relation)


def compute_rpe(
    traj_ref: Trajectory,
    traj_est: Trajectory,
    pose_relation: PoseRelation = PoseRelation.translation_part,
    delta: float = 1,
    delta_unit: Unit = Unit.frames,
    all_pairs: bool = False,
    rel_tol: float = 0.1,
    pairs_from_reference: bool = False,
    alignment: AlignmentType = AlignmentType.none,
    n_align: int | None = None,
) -> MetricResult:
    """RPE (evo's ``evo_rpe``, without the file handling).

    Args:
        traj_ref, traj_est: associated trajectories (same length).
        pose_relation: what to measure.
        delta, delta_unit, all_pairs, rel_tol: pair selection, see :func:`rpe_pairs`.
        pairs_from_reference: choose the pairs on the reference instead of the (aligned) estimate.
        alignment, n_align: alignment of the estimate before the errors, as in :func:`compute_ape`.
    """
    _check_same_length(traj_ref, traj_est)
    aligned, similarity = align_trajectory(traj_est, traj_ref, alignment, n_align)
    pairs = rpe_pairs(traj_ref if pairs_from_reference else aligned, delta, delta_unit, rel_tol, all_pairs)
    if pose_relation is PoseRelation.point_distance_error_ratio:
        i, j = pairs[:, 0], pairs[:, 1]
        pairs = pairs[torch.linalg.vector_norm(traj_ref.positions[i] - traj_ref.positions[j], dim=-1) > 0]
        if pairs.shape[0] == 0:
            raise TrajectoryError("RPE point distance error ratio: every pair has zero reference distance")
    errors = rpe_errors(traj_ref, aligned, pairs, pose_relation)
    return MetricResult(
        errors, compute_statistics(errors), pose_relation, error_unit(pose_relation), similarity, pairs
    )

