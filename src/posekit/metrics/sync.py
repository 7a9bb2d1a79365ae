"""Timestamp association of two trajectories (nearest timestamp within ``max_diff``), as evo's
``sync.associate_trajectories`` does; or by interpolation (:func:`associate_by_interpolation`: the reference
pose at each estimate stamp, translation linear and rotation slerp); cropping to a time range.

The trajectory with fewer poses is matched into the longer one, so none of its poses is lost to a
duplicate; each of its stamps takes the nearest stamp of the other one (ties go to the earlier one) if it
is at most ``max_diff`` seconds away. A pose of the longer trajectory can be matched more than once.
"""

from __future__ import annotations

import torch

from posekit.errors import TrajectoryError
from posekit.geometry import axis_angle_to_matrix, make_pose, matrix_to_axis_angle
from posekit.metrics.trajectory import Trajectory

DEFAULT_MAX_DIFF = 0.01  # seconds, evo's default
_CHUNK = 1024  # rows of the brute-force distance matrix for unsorted timestamps


def matching_time_indices(
    stamps_1: torch.Tensor, stamps_2: torch.Tensor, max_diff: float = DEFAULT_MAX_DIFF, offset_2: float = 0.0
) -> tuple[torch.Tensor, torch.Tensor]:
    """Indices of the best matching timestamps of ``stamps_1`` in ``stamps_2 + offset_2``.

    Args:
        stamps_1: ``(N,)`` float64 seconds.
        stamps_2: ``(M,)`` float64 seconds.
        max_diff: largest accepted absolute time difference (s).
        offset_2: added to ``stamps_2`` before matching (s).

    Returns:
        ``(K,)`` int64 indices into ``stamps_1`` (increasing) and the ``(K,)`` matching indices into
        ``stamps_2``.
    """
    stamps_1 = stamps_1.to(torch.float64).reshape(-1)
    stamps_2 = stamps_2.to(torch.float64).reshape(-1) + offset_2
    if stamps_1.numel() == 0 or stamps_2.numel() == 0:
        empty = torch.zeros(0, dtype=torch.long)
        return empty, empty
    if bool((stamps_2[1:] - stamps_2[:-1] >= 0).all()):
        return _match_sorted(stamps_1, stamps_2, max_diff)
    return _match_linear(stamps_1, stamps_2, max_diff)


def _match_sorted(stamps_1: torch.Tensor, stamps_2: torch.Tensor, max_diff: float) -> tuple[torch.Tensor, torch.Tensor]:
    """Binary search in sorted ``stamps_2``: compare the neighbours left and right of each insertion point."""
    in_range = (stamps_1 >= stamps_2[0] - max_diff) & (stamps_1 <= stamps_2[-1] + max_diff)
    upper = torch.searchsorted(stamps_2, stamps_1, right=True).clamp(max=stamps_2.numel() - 1)
    diff_upper = stamps_2[upper] - stamps_1
    inf = torch.full_like(stamps_1, float("inf"))
    diff_lower = torch.where(upper > 0, stamps_1 - stamps_2[(upper - 1).clamp(min=0)], inf)
    take_upper = (diff_upper <= max_diff) & (diff_upper < diff_lower)
    take_lower = ~take_upper & (diff_lower <= max_diff) & (diff_lower <= diff_upper)
    keep = in_range & (take_upper | take_lower)
    index_2 = torch.where(take_upper, upper, upper - 1)
    index_1 = keep.nonzero().reshape(-1)
    return index_1, index_2[index_1]


def _match_linear(stamps_1: torch.Tensor, stamps_2: torch.Tensor, max_diff: float) -> tuple[torch.Tensor, torch.Tensor]:
    """Nearest stamp by brute force (``stamps_2`` not sorted), in chunks to bound memory."""
    nearest, distance = [], []
    for chunk in stamps_1.split(_CHUNK):
        diffs = (stamps_2[None, :] - chunk[:, None]).abs()
        d, i = diffs.min(dim=1)  # first minimum on ties, like numpy's argmin
        nearest.append(i)
        distance.append(d)
    index_2 = torch.cat(nearest)
    index_1 = (torch.cat(distance) <= max_diff).nonzero().reshape(-1)
    return index_1, index_2[index_1]


def associate_trajectories(
    traj_1: Trajectory, traj_2: Trajectory, max_diff: float = DEFAULT_MAX_DIFF, offset_2: float = 0.0
) -> tuple[Trajectory, Trajectory]:
    """Reduce two timestamped trajectories to their poses at matching timestamps.

    Args:
        traj_1, traj_2: trajectories with timestamps (s).
        max_diff: largest accepted time difference of a matched pair (s), default 0.01.
        offset_2: time offset added to ``traj_2``'s timestamps for the matching (s); the returned
            trajectories keep their own timestamps.

    Returns:
        ``(traj_1, traj_2)`` reduced to the same number of poses, pose ``k`` of one matching pose ``k`` of
        the other.

    Raises:
        TrajectoryError: a trajectory has no timestamps, or no timestamps match.
    """
    for name, traj in (("first", traj_1), ("second", traj_2)):
        if traj.timestamps is None:
            raise TrajectoryError(f"associate_trajectories: the {name} trajectory has no timestamps")
    second_longer = len(traj_2) > len(traj_1)
    short, long = (traj_1, traj_2) if second_longer else (traj_2, traj_1)
    index_short, index_long = matching_time_indices(
        short.timestamps, long.timestamps, max_diff, offset_2 if second_longer else -offset_2
    )
    if index_short.numel() == 0:
        raise TrajectoryError(
            f"found no matching timestamps between the trajectories with max. time difference {max_diff} s "
            f"and time offset {offset_2} s"
        )
    short, long = short.subset(index_short), long.subset(index_long)
    return (short, long) if second_longer else (long, short)


def _stamps_of(traj: Trajectory, what: str) -> torch.Tensor:
    if traj.timestamps is None:
        raise TrajectoryError(f"{what}: the trajectory has no timestamps")
    return traj.timestamps


def crop_to_time_range(traj: Trajectory, t_start: float | None = None, t_end: float | None = None) -> Trajectory:
    """The poses with ``t_start <= t <= t_end`` (seconds, as in the file; ``None``: unbounded)."""
    stamps = _stamps_of(traj, "crop_to_time_range")
    keep = torch.ones_like(stamps, dtype=torch.bool)
    if t_start is not None:
        keep &= stamps >= t_start
    if t_end is not None:
        keep &= stamps <= t_end
    if not bool(keep.any()):
        raise TrajectoryError(f"no poses between t_start = {t_start} s and t_end = {t_end} s")
    return traj.subset(keep.nonzero().reshape(-1))


def interpolate_poses(traj: Trajectory, stamps: torch.Tensor) -> torch.Tensor:
    """Poses of ``traj`` at ``stamps`` ``(K,)`` inside its time range: the position linearly, the rotation by
    slerp (``R_a exp(w log(R_a^T R_b))``) between the two poses around each stamp.

    Args:
        traj: trajectory with increasing timestamps.
        stamps: ``(K,)`` seconds within ``[traj.timestamps[0], traj.timestamps[-1]]``.

    Returns:
        ``(K, 4, 4)`` float64 ``T_world_cam``.
    """
    times = _stamps_of(traj, "interpolate_poses")
    if len(traj) < 2 or not bool((times[1:] > times[:-1]).all()):
        raise TrajectoryError("interpolation needs at least 2 poses with strictly increasing timestamps")
    stamps = stamps.to(torch.float64).reshape(-1)
    if bool(((stamps < times[0]) | (stamps > times[-1])).any()):
        raise TrajectoryError("interpolate_poses: a stamp lies outside the trajectory's time range")
    upper = torch.searchsorted(times, stamps, right=True).clamp(1, len(traj) - 1)
    lower = upper - 1
    weight = ((stamps - times[lower]) / (times[upper] - times[lower]))[:, None]
    positions = (1 - weight) * traj.positions[lower] + weight * traj.positions[upper]
    R_a, R_b = traj.rotations[lower], traj.rotations[upper]
    omega = matrix_to_axis_angle(R_a.transpose(-1, -2) @ R_b)
    return make_pose(R_a @ axis_angle_to_matrix(weight * omega), positions)


def associate_by_interpolation(
    traj_ref: Trajectory, traj_est: Trajectory, offset_est: float = 0.0
) -> tuple[Trajectory, Trajectory]:
    """The reference interpolated at the estimate's stamps (``+ offset_est``) that lie inside the reference's
    time range, and the estimate reduced to those stamps. Unlike nearest-stamp association, no ``max_diff``
    is needed and no pose is paired with one taken at another time.

    Returns:
        ``(traj_ref_at_est, traj_est)``, same length; the reference keeps the estimate's (shifted) stamps.
    """
    ref_times = _stamps_of(traj_ref, "associate_by_interpolation")
    est_times = _stamps_of(traj_est, "associate_by_interpolation") + offset_est
    inside = ((est_times >= ref_times[0]) & (est_times <= ref_times[-1])).nonzero().reshape(-1)
    if inside.numel() == 0:
        raise TrajectoryError(
            f"no estimate timestamp (offset {offset_est} s) lies within the reference's time range "
            f"[{float(ref_times[0])}, {float(ref_times[-1])}] s"
        )
    stamps = est_times[inside]
    return Trajectory(interpolate_poses(traj_ref, stamps), stamps), traj_est.subset(inside)
