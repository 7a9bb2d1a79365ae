"""The KITTI odometry metric (devkit) and kitti-odom-eval's ATE and RPE, with kitti-odom-eval's alignments.

Definitions (KITTI devkit ``evaluate_odometry.cpp`` and Huangying-Zhan/kitti-odom-eval ``kitti_odometry.py``):

- Both trajectories are first expressed relative to the estimate's first frame ``f0``:
  ``inv(P_f0) @ P`` and ``inv(Q_f0) @ Q``.
- Alignment (:class:`KittiAlignment`), computed on the positions of the frames that have an estimate:
  ``scale``: least-squares scale ``sum(x.y) / sum(x.x)``; ``scale_7dof``: the Sim(3) Umeyama scale only;
  ``7dof``: Sim(3) Umeyama; ``6dof``: SE(3) Umeyama.
- **Translation / rotation error** (the devkit metric): sub-sequences starting every 10th frame
  (``0, 10, 20, ...``) and ending at the first frame whose ground-truth path length from the start exceeds
  100, 200, ..., 800 m. For each, ``E = inv(inv(P_a) P_b) @ inv(Q_a) Q_b``; the translation error is
  ``||t_E|| / length`` and the rotation error ``arccos((trace(R_E) - 1) / 2) / length``. Both are averaged
  over all sub-sequences and reported as % and deg per 100 m.
- **ATE**: RMSE of the position differences after alignment.
- **RPE**: the **mean** (not the RMSE) over consecutive frames ``(k, k+1)`` of the translation (m) and
  rotation (deg) of ``inv(inv(Q_k) Q_k+1) @ inv(P_k) P_k+1``, after alignment.

As in those tools, relative poses use general matrix inverses (the files' rotations are rounded, and the
arccos of the trace is sensitive to that at small angles), and the rotation angle comes from the trace.

Estimates may cover only some frames (kitti-odom-eval's "first format", frame indices in
``Trajectory.names``, see :func:`posekit.metrics.trajectory_files.kitti_frame_indices`); sub-sequences whose
first or last frame has no estimate are skipped, and RPE pairs need both frames. The path lengths are those
of the whole ground truth. (kitti-odom-eval re-expresses only the ground-truth frames that have an estimate
in the first frame, so for estimates with gaps inside the sequence its path lengths across a gap differ;
for estimates without inner gaps, such as its own examples, the two agree.)
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import Enum

import torch

from posekit.errors import TrajectoryError
from posekit.metrics.alignment import umeyama_alignment
from posekit.metrics.trajectory import Trajectory
from posekit.metrics.trajectory_files import kitti_frame_indices

SEGMENT_LENGTHS = (100.0, 200.0, 300.0, 400.0, 500.0, 600.0, 700.0, 800.0)  # metres
STEP_SIZE = 10  # a sub-sequence starts every STEP_SIZE frames


class KittiAlignment(Enum):
    """kitti-odom-eval's ``--align`` options."""

    none = "none"
    scale = "scale"  # least-squares scale of the positions
    scale_7dof = "scale_7dof"  # only the scale of a Sim(3) Umeyama alignment
    seven_dof = "7dof"  # Sim(3) Umeyama
    six_dof = "6dof"  # SE(3) Umeyama


@dataclass(frozen=True, eq=False)
class KittiSegmentErrors:
    """Per sub-sequence errors of the devkit metric, ``K`` sub-sequences.

    Attributes:
        first_frame: ``(K,)`` int64 first frame index.
        last_frame: ``(K,)`` int64 last frame index.
        length: ``(K,)`` float64 nominal length (m): one of :data:`SEGMENT_LENGTHS`.
        translation_error: ``(K,)`` translation error per metre (m/m).
        rotation_error: ``(K,)`` rotation error per metre (rad/m).
    """

    first_frame: torch.Tensor
    last_frame: torch.Tensor
    length: torch.Tensor
    translation_error: torch.Tensor
    rotation_error: torch.Tensor


@dataclass(frozen=True, eq=False)
class KittiOdometryResult:
    """The numbers kitti-odom-eval prints for a sequence.

    Attributes:
        translation_error_percent: mean sub-sequence translation error (%).
        rotation_error_deg_per_100m: mean sub-sequence rotation error (deg / 100 m).
        ate: RMSE of the aligned positions (m).
        rpe_translation: mean translation error between consecutive frames (m).
        rpe_rotation_deg: mean rotation error between consecutive frames (deg).
        segments: the per sub-sequence errors.
        per_length: ``{length: (translation %, rotation deg/100 m)}`` averaged per sub-sequence length, for
            the lengths that occur.
    """

    translation_error_percent: float
    rotation_error_deg_per_100m: float
    ate: float
    rpe_translation: float
    rpe_rotation_deg: float
    segments: KittiSegmentErrors
    per_length: dict[float, tuple[float, float]]


def kitti_rotation_error(error_poses: torch.Tensor) -> torch.Tensor:
    """Devkit rotation angle ``arccos(clamp((trace(R) - 1) / 2, -1, 1))`` (rad) of ``(..., 4, 4)`` poses."""
    trace = error_poses[..., 0, 0] + error_poses[..., 1, 1] + error_poses[..., 2, 2]
    return torch.arccos(torch.clamp(0.5 * (trace - 1.0), -1.0, 1.0))


def kitti_translation_error(error_poses: torch.Tensor) -> torch.Tensor:
    """Devkit translation error ``||t||`` (m) of ``(..., 4, 4)`` poses."""
    t = error_poses[..., :3, 3]
    return torch.sqrt(t[..., 0] * t[..., 0] + t[..., 1] * t[..., 1] + t[..., 2] * t[..., 2])


def trajectory_distances(positions: torch.Tensor) -> torch.Tensor:
    """``(N,)`` path length from the first position to each one (devkit ``trajectoryDistances``)."""
    d = positions[1:] - positions[:-1]
    steps = torch.sqrt(d[:, 0] * d[:, 0] + d[:, 1] * d[:, 1] + d[:, 2] * d[:, 2])
    return torch.cat((positions.new_zeros(1), torch.cumsum(steps, dim=0)))


def _relative(poses_a: torch.Tensor, poses_b: torch.Tensor) -> torch.Tensor:
    """``inv(A) @ B`` with a general matrix inverse, as the devkit and kitti-odom-eval compute it."""
    return torch.linalg.inv(poses_a) @ poses_b


def kitti_segment_errors(
    gt_poses: torch.Tensor,
    est_poses_by_frame: torch.Tensor,
    has_estimate: torch.Tensor,
    lengths: tuple[float, ...] = SEGMENT_LENGTHS,
    step_size: int = STEP_SIZE,
) -> KittiSegmentErrors:
    """The devkit sub-sequence errors.

    Args:
        gt_poses: ``(N, 4, 4)`` ground truth for every frame.
        est_poses_by_frame: ``(N, 4, 4)`` estimates indexed by frame (rows without an estimate are ignored).
        has_estimate: ``(N,)`` bool, frames with an estimate.
        lengths: sub-sequence lengths (m).
        step_size: a sub-sequence starts every ``step_size`` frames.
    """
    n = gt_poses.shape[0]
    distances = trajectory_distances(gt_poses[:, :3, 3])
    first = torch.arange(0, n, step_size)
    length = torch.tensor(lengths, dtype=torch.float64)
    first_grid = first[:, None].expand(-1, length.numel()).reshape(-1)  # first frame outer, length inner
    length_grid = length[None, :].expand(first.numel(), -1).reshape(-1)
    # First frame whose path distance exceeds the start's by more than the length.
    last_grid = torch.searchsorted(distances, distances[first_grid] + length_grid, right=True)
    valid = last_grid < n
    last_clamped = last_grid.clamp(max=n - 1)
    valid &= has_estimate[first_grid] & has_estimate[last_clamped]
    a, b, seg_length = first_grid[valid], last_clamped[valid], length_grid[valid]
    delta_gt = _relative(gt_poses[a], gt_poses[b])
    delta_est = _relative(est_poses_by_frame[a], est_poses_by_frame[b])
    pose_error = _relative(delta_est, delta_gt)
    return KittiSegmentErrors(
        first_frame=a,
        last_frame=b,
        length=seg_length,
        translation_error=kitti_translation_error(pose_error) / seg_length,
        rotation_error=kitti_rotation_error(pose_error) / seg_length,
    )


def _align(gt_positions: torch.Tensor, est_poses: torch.Tensor, alignment: KittiAlignment) -> torch.Tensor:
    """Estimated poses after kitti-odom-eval's alignment to the ground-truth positions."""
    if alignment is KittiAlignment.none:
        return est_poses
    est_positions = est_poses[:, :3, 3]
    aligned = est_poses.clone()
    if alignment is KittiAlignment.scale:
        scale = float((est_positions * gt_positions).sum() / (est_positions**2).sum())
        aligned[:, :3, 3] = est_positions * scale
        return aligned
    similarity = umeyama_alignment(est_positions, gt_positions, with_scale=alignment is not KittiAlignment.six_dof)
    aligned[:, :3, 3] = est_positions * similarity.scale
    if alignment is KittiAlignment.scale_7dof:
        return aligned
    return similarity.rigid_matrix() @ aligned


def evaluate_kitti_odometry(
    traj_gt: Trajectory, traj_est: Trajectory, alignment: KittiAlignment = KittiAlignment.none
) -> KittiOdometryResult:
    """kitti-odom-eval's evaluation of one sequence (see the module docstring for the definitions).

    Args:
        traj_gt: ground truth, one pose per frame (``poses/XX.txt``).
        traj_est: estimate; its frames are ``kitti_frame_indices(traj_est)`` (``0 .. N-1`` unless read from
            a 13-number file).
        alignment: :class:`KittiAlignment`.

    Raises:
        TrajectoryError: an estimated frame index is outside the ground truth or repeated, or no
            sub-sequence or consecutive pair can be evaluated.
    """
    frames = kitti_frame_indices(traj_est)
    n = len(traj_gt)
    if frames.numel() == 0 or int(frames.min()) < 0 or int(frames.max()) >= n:
        raise TrajectoryError(
            f"KITTI evaluation: estimated frame indices must lie in [0, {n - 1}] (the ground truth has {n} poses)"
        )
    if torch.unique(frames).numel() != frames.numel():
        raise TrajectoryError("KITTI evaluation: the estimate has repeated frame indices")

    first_row = int(torch.argmin(frames))
    first_frame = int(frames[first_row])
    est_poses = _relative(traj_est.poses[first_row].expand_as(traj_est.poses), traj_est.poses)
    gt_poses = _relative(traj_gt.poses[first_frame].expand_as(traj_gt.poses), traj_gt.poses)
    est_poses = _align(gt_poses[frames, :3, 3], est_poses, alignment)

    has_estimate = torch.zeros(n, dtype=torch.bool)
    has_estimate[frames] = True
    est_by_frame = gt_poses.clone()
    est_by_frame[frames] = est_poses

    segments = kitti_segment_errors(gt_poses, est_by_frame, has_estimate)
    if segments.length.numel() == 0:
        raise TrajectoryError("KITTI evaluation: the sequence has no sub-sequence of 100 m or more with estimates")

    position_errors = kitti_translation_error(gt_poses[frames] - est_poses)
    ate = float(torch.sqrt((position_errors**2).mean()))

    consecutive = frames[(frames + 1 < n) & has_estimate[(frames + 1).clamp(max=n - 1)]]
    if consecutive.numel() == 0:
        raise TrajectoryError("KITTI evaluation: no two consecutive frames have estimates (needed for the RPE)")
    gt_rel = _relative(gt_poses[consecutive], gt_poses[consecutive + 1])
    est_rel = _relative(est_by_frame[consecutive], est_by_frame[consecutive + 1])
    rel_error = _relative(gt_rel, est_rel)

    per_length = {}
    for length in SEGMENT_LENGTHS:
        mask = segments.length == length
        if bool(mask.any()):
            per_length[length] = (
                float(segments.translation_error[mask].mean()) * 100.0,
                math.degrees(float(segments.rotation_error[mask].mean())) * 100.0,
            )
    return KittiOdometryResult(
        translation_error_percent=float(segments.translation_error.mean()) * 100.0,
        rotation_error_deg_per_100m=float(segments.rotation_error.mean()) / math.pi * 180.0 * 100.0,
        ate=ate,
        rpe_translation=float(kitti_translation_error(rel_error).mean()),
        rpe_rotation_deg=float(kitti_rotation_error(rel_error).mean()) * 180.0 / math.pi,
        segments=segments,
        per_length=per_length,
    )
