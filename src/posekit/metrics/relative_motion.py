"""The motion between frames of a sequence, and the trivial relative-pose estimates every network must beat.

Pairs follow the relative-pose dataset: at frame distance ``d`` the **target** is frame ``i`` and the
**source** frame ``i + d``; the relative pose is ``T_src_tgt = inv(T_world_src) @ T_world_tgt``.

- :func:`motion_statistics`: how far a camera moves (translation, m) and turns (rotation, deg) between frames
  ``d`` apart: the statistics of real hand-held motion that synthetic training pairs should match.
- :func:`zero_motion`: the identity for every pair ("no motion"): at small distances it is already close.
- :func:`constant_velocity`: the previous pair's motion, ``T_src_tgt(i, i + d) = T_src_tgt(i - d, i)``, from the
  poses of frames ``i - d`` and ``i`` (known when tracking a sequence in order; here from the ground truth,
  so it is the oracle constant-velocity model of a tracker that was right so far). Where ``i - d`` lies
  outside the sequence it falls back to the identity.

Example:
    >>> poses = torch.eye(4, dtype=torch.float64).repeat(5, 1, 1)
    >>> motion_statistics(poses, (1,))[1]["t_median_m"]
    0.0
"""

from __future__ import annotations

from collections.abc import Sequence

import torch

from posekit.errors import ConfigError
from posekit.geometry import relative_pose, rotation_matrix_angle
from posekit.geometry.checks import check_shape
from posekit.metrics.statistics import compute_statistics


def pair_indices(count: int, distance: int) -> tuple[torch.Tensor, torch.Tensor]:
    """``(targets, sources)`` frame indices of all pairs at ``distance`` in a sequence of ``count`` frames
    (``sources = targets + distance``, both inside ``[0, count)``), targets in increasing order."""
    if distance == 0:
        raise ConfigError("distance: must be a non-zero frame offset")
    targets = torch.arange(max(0, -distance), min(count, count - distance))
    return targets, targets + distance


def pair_motion(T_world_cam: torch.Tensor, distance: int) -> torch.Tensor:
    """``(M, 4, 4)`` float64 ``T_src_tgt`` of every pair at ``distance`` of a ``(N, 4, 4)`` sequence."""
    check_shape("T_world_cam", T_world_cam, (None, 4, 4))
    targets, sources = pair_indices(T_world_cam.shape[0], distance)
    poses = T_world_cam.double()
    return relative_pose(poses[sources], poses[targets])


def motion_magnitudes(T_src_tgt: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """``(M,)`` translation lengths (m) and ``(M,)`` rotation angles (deg) of ``(M, 4, 4)`` relative poses."""
    check_shape("T_src_tgt", T_src_tgt, (None, 4, 4))
    pose = T_src_tgt.double()
    return torch.linalg.vector_norm(pose[:, :3, 3], dim=-1), torch.rad2deg(rotation_matrix_angle(pose[:, :3, :3]))


def motion_statistics(T_world_cam: torch.Tensor, distances: Sequence[int]) -> dict[int, dict[str, float]]:
    """Per distance: ``pairs`` and ``t_{median,mean,p90,max}_m``, ``r_{median,mean,p90,max}_deg`` of the motion
    between frames ``d`` apart in a ``(N, 4, 4)`` sequence of camera-to-world poses."""
    out: dict[int, dict[str, float]] = {}
    for d in distances:
        motion = pair_motion(T_world_cam, int(d))
        if motion.shape[0] == 0:
            raise ConfigError(f"distance {d}: no pair in a sequence of {T_world_cam.shape[0]} frames")
        row: dict[str, float] = {"pairs": float(motion.shape[0])}
        for name, unit, values in zip(("t", "r"), ("m", "deg"), motion_magnitudes(motion)):
            stats = compute_statistics(values)
            row.update({f"{name}_median_{unit}": stats["median"], f"{name}_mean_{unit}": stats["mean"],
                        f"{name}_p90_{unit}": float(torch.quantile(values, 0.9)), f"{name}_max_{unit}": stats["max"]})
        out[int(d)] = row
    return out


def zero_motion(count: int) -> torch.Tensor:
    """``(count, 4, 4)`` float64 identities: the "no motion" estimate."""
    return torch.eye(4, dtype=torch.float64).expand(count, 4, 4).clone()


def constant_velocity(T_world_cam: torch.Tensor, targets: torch.Tensor, distance: int) -> torch.Tensor:
    """Constant-velocity estimates of ``T_src_tgt`` for the pairs ``(targets, targets + distance)``.

    Args:
        T_world_cam: ``(N, 4, 4)`` camera-to-world poses of the sequence (the frames before each target are
            what a tracker would know).
        targets: ``(M,)`` target frame indices.
        distance: the pairs' frame distance ``d``.

    Returns:
        ``(M, 4, 4)`` float64: ``inv(T_world_i) @ T_world_(i - d)`` (the previous pair's ``T_src_tgt``), the
        identity where ``i - d`` is outside the sequence.
    """
    check_shape("T_world_cam", T_world_cam, (None, 4, 4))
    poses = T_world_cam.double()
    targets = torch.as_tensor(targets, dtype=torch.long)
    previous = targets - distance
    inside = (previous >= 0) & (previous < poses.shape[0])
    estimate = zero_motion(targets.shape[0])
    estimate[inside] = relative_pose(poses[targets[inside]], poses[previous[inside]])
    return estimate


def previous_pair_motion(T_src_tgt: torch.Tensor, previous: torch.Tensor) -> torch.Tensor:
    """Constant velocity on a list of pairs: each pair's estimate is the motion of its previous pair (the form
    of :func:`constant_velocity` for pairs that are not one regular sequence, e.g. held-out blocks).

    Args:
        T_src_tgt: ``(N, 4, 4)`` motions of the pairs (the ground truth for the oracle model).
        previous: ``(N,)`` row of each pair's previous pair ``(i - d, i)``, ``-1`` where there is none.

    Returns:
        ``(N, 4, 4)`` float64: ``T_src_tgt[previous]``, the identity where ``previous`` is ``-1``.
    """
    check_shape("T_src_tgt", T_src_tgt, (None, 4, 4))
    check_shape("previous", previous, (T_src_tgt.shape[0],))
    estimate = zero_motion(T_src_tgt.shape[0])
    known = previous >= 0
    estimate[known] = T_src_tgt.double()[previous[known]]
    return estimate
