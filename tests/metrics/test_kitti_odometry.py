"""The KITTI devkit metric and kitti-odom-eval's ATE / RPE: synthetic checks and the published numbers."""

from __future__ import annotations

import math

import pytest
import torch

from posekit.errors import TrajectoryError
from posekit.geometry import axis_angle_to_matrix, make_pose
from posekit.metrics import (
    KittiAlignment,
    Trajectory,
    evaluate_kitti_odometry,
    kitti_rotation_error,
    read_kitti,
    trajectory_distances,
)
from posekit.metrics.kitti_odometry import SEGMENT_LENGTHS, STEP_SIZE

from .helpers import straight_line


def winding_path(n: int) -> Trajectory:
    """A planar, gently turning drive, 1 m per frame (x right, z forward, as KITTI's camera)."""
    yaw = 0.01 * torch.arange(n, dtype=torch.float64)
    rotations = axis_angle_to_matrix(torch.stack((torch.zeros_like(yaw), yaw, torch.zeros_like(yaw)), dim=-1))
    steps = rotations[:, :, 2]  # forward axis
    positions = torch.cumsum(steps, dim=0) - steps[0]
    return Trajectory(make_pose(rotations, positions))


def test_perfect_estimate_has_zero_errors_for_every_alignment():
    gt = winding_path(400)
    for alignment in KittiAlignment:
        result = evaluate_kitti_odometry(gt, gt, alignment)
        assert result.translation_error_percent == pytest.approx(0.0, abs=1e-9)
        assert result.rotation_error_deg_per_100m == pytest.approx(0.0, abs=1e-4)  # arccos near 1
        assert result.ate == pytest.approx(0.0, abs=1e-9)
        assert result.rpe_translation == pytest.approx(0.0, abs=1e-9)


def test_half_scale_estimate_gives_the_expected_segment_error():
    n = 600
    gt = straight_line(n, step=1.0)
    poses = gt.poses.clone()
    poses[:, :3, 3] *= 0.5
    est = gt.with_poses(poses)
    result = evaluate_kitti_odometry(gt, est)
    # Sub-sequence from f of length L ends at f + L + 1 (first frame *beyond* L metres); its error is
    # 0.5 (L + 1) metres, divided by L. Averaged over every start f = 0, 10, ... and every length that fits.
    expected = [
        0.5 * (length + 1) / length
        for first in range(0, n, STEP_SIZE)
        for length in SEGMENT_LENGTHS
        if first + length + 1 < n
    ]
    assert result.segments.length.numel() == len(expected)
    assert result.translation_error_percent == pytest.approx(100.0 * sum(expected) / len(expected), rel=1e-12)
    assert result.rpe_translation == pytest.approx(0.5)
    assert result.ate == pytest.approx(math.sqrt(sum((0.5 * k) ** 2 for k in range(n)) / n))
    assert set(result.per_length) == {100.0, 200.0, 300.0, 400.0, 500.0}
    # The least-squares scale undoes it; Umeyama needs a path that is not a straight line.
    assert evaluate_kitti_odometry(gt, est, KittiAlignment.scale).translation_error_percent == pytest.approx(0.0, abs=1e-9)
    with pytest.raises(TrajectoryError, match="degenerate"):
        evaluate_kitti_odometry(gt, est, KittiAlignment.seven_dof)
    curved = winding_path(n)
    poses = curved.poses.clone()
    poses[:, :3, 3] *= 0.5
    for alignment in (KittiAlignment.scale, KittiAlignment.scale_7dof, KittiAlignment.seven_dof):
        result = evaluate_kitti_odometry(curved, curved.with_poses(poses), alignment)
        assert result.translation_error_percent == pytest.approx(0.0, abs=1e-9)


def test_frames_without_estimates_skip_their_segments_and_pairs():
    gt = winding_path(400)
    gap = set(range(150, 160))
    keep = [k for k in range(400) if k not in gap]
    est = Trajectory(gt.poses[keep], None, [str(k) for k in keep])
    result = evaluate_kitti_odometry(gt, est)
    full = evaluate_kitti_odometry(gt, gt)
    full_segments = set(zip(full.segments.first_frame.tolist(), full.segments.last_frame.tolist()))
    kept = {(a, b) for a, b in full_segments if a not in gap and b not in gap}
    assert set(zip(result.segments.first_frame.tolist(), result.segments.last_frame.tolist())) == kept
    assert len(kept) < len(full_segments)


def test_distances_and_rotation_error():
    positions = torch.tensor([[0.0, 0.0, 0.0], [3.0, 4.0, 0.0], [3.0, 4.0, 1.0]], dtype=torch.float64)
    assert trajectory_distances(positions).tolist() == [0.0, 5.0, 6.0]
    R = axis_angle_to_matrix(torch.tensor([0.0, 0.2, 0.0], dtype=torch.float64))
    assert float(kitti_rotation_error(make_pose(R, torch.zeros(3, dtype=torch.float64)))) == pytest.approx(0.2)


def test_invalid_estimates_raise():
    gt = straight_line(50)
    with pytest.raises(TrajectoryError, match="frame indices"):
        evaluate_kitti_odometry(gt, Trajectory(gt.poses[:2], None, ["0", "50"]))
    with pytest.raises(TrajectoryError, match="repeated"):
        evaluate_kitti_odometry(gt, Trajectory(gt.poses[:2], None, ["3", "3"]))
    with pytest.raises(TrajectoryError, match="100 m"):
        evaluate_kitti_odometry(gt, gt)


# ------------------------------------------------------------------------------------------ published numbers

# kitti_odom_eval/SOURCE.md: (Trans. err. %, Rot. err. deg/100m, ATE m, RPE m, RPE deg).
PUBLISHED = [
    ("example_0", "09", KittiAlignment.seven_dof, (2.884112511407129, 0.24905618674615418, 8.38661922878607, 0.34341307706920193, 0.0633886066529585)),
    ("example_0", "10", KittiAlignment.seven_dof, (3.297839536933298, 0.3045899519453301, 6.630158107185018, 0.04735256371856307, 0.06626406473816236)),
    # Not published: the repo's own script with --align 6dof, run by the data's curators.
    ("example_1", "09", KittiAlignment.six_dof, (2.606842940387442, 0.2877072219866253, 10.880278468457115, 0.055702041204242776, 0.03698807262502938)),
    ("example_1", "10", KittiAlignment.six_dof, (2.293174110927859, 0.3693346740063282, 3.7206682022460646, 0.046554806893318784, 0.0425957506767865)),
]


@pytest.mark.parametrize(("example", "sequence", "alignment", "expected"), PUBLISHED)
def test_kitti_odom_eval_numbers(trajectories_dir, example, sequence, alignment, expected):
    root = trajectories_dir / "kitti_odom_eval"
    gt = read_kitti(root / "gt_poses" / f"{sequence}.txt")
    est = read_kitti(root / "result" / example / f"{sequence}.txt")
    result = evaluate_kitti_odometry(gt, est, alignment)
    got = (
        result.translation_error_percent,
        result.rotation_error_deg_per_100m,
        result.ate,
        result.rpe_translation,
        result.rpe_rotation_deg,
    )
    assert got == pytest.approx(expected, rel=1e-9)
