"""The pose graph on synthetic data: fusion beats absolute-only, robust kernels reject a gross outlier, VO
mode keeps drift bounded, records are never linked, bad input raises typed errors."""

from __future__ import annotations

import math

import pytest
import torch

from posekit.errors import ConfigError, ShapeError, TrajectoryError
from posekit.fusion.graph import FusionOptions, fuse_record
from posekit.fusion.measurements import (
    AbsoluteMeasurements,
    RelativeMeasurements,
    chain_relative_poses,
    consecutive_relative_poses,
    sigma_vector,
)
from posekit.fusion.sequence import fuse_sequence
from posekit.geometry import relative_pose
from posekit.metrics import absolute_pose_errors
from tests.fusion.synthetic import ground_truth, measurements, perturb, translation_errors


def test_relative_measurement_convention():
    """T_i_j = inv(T_world_i) @ T_world_j: chaining the consecutive steps from the first pose recovers the path."""
    gt = ground_truth(20)
    steps = consecutive_relative_poses(gt, sigma_vector(0.01, 1.0))
    assert torch.allclose(chain_relative_poses(gt[0], steps.T_i_j), gt, atol=1e-9)
    assert torch.allclose(gt[3] @ steps.T_i_j[3], gt[4], atol=1e-12)


def test_exact_measurements_are_a_fixed_point():
    gt = ground_truth(15)
    absolute = AbsoluteMeasurements(gt, sigma_vector(0.1, 2.0))
    result = fuse_record(absolute, consecutive_relative_poses(gt, sigma_vector(0.01, 0.5)))
    assert torch.allclose(result.T_world_cam, gt, atol=1e-7)
    assert result.final_error < 1e-10


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_fusion_recovers_trajectory_better_than_absolute_alone(seed):
    """Measured on seeds 1-5: fused median translation error = 0.16-0.33x the absolute-only one, rotation
    0.21-0.27x. Asserted: <= 0.4x both."""
    gt = ground_truth()
    absolute, relative = measurements(gt, seed)
    fused = fuse_record(absolute, relative, FusionOptions(robust="none")).T_world_cam
    before, after = absolute_pose_errors(gt, absolute.T_world_cam), absolute_pose_errors(gt, fused)
    assert after.translation.median() <= 0.4 * before.translation.median()
    assert after.rotation_deg.median() <= 0.4 * before.rotation_deg.median()


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_robust_kernel_pulls_back_gross_outlier(seed):
    """Frame 30's absolute pose is about 12 m off. Measured (seeds 1-3): without a kernel frame 30 ends 0.28-0.38 m
    off, with Huber or Cauchy 0.07-0.10 m (0.065-0.085 m without the outlier)."""
    gt = ground_truth()
    absolute, relative = measurements(gt, seed)
    clean = translation_errors(fuse_record(absolute, relative, FusionOptions(robust="none")).T_world_cam, gt)
    poses = absolute.T_world_cam.clone()
    poses[30, :3, 3] += torch.tensor([10.0, -5.0, 10.0 / 3], dtype=torch.float64)
    corrupted = AbsoluteMeasurements(poses, absolute.sigmas)
    plain = fuse_record(corrupted, relative, FusionOptions(robust="none"))
    assert translation_errors(plain.T_world_cam, gt)[30] > 0.25
    for kernel in ("huber", "cauchy"):
        robust = fuse_record(corrupted, relative, FusionOptions(robust=kernel))
        error = translation_errors(robust.T_world_cam, gt)
        assert error[30] < 0.15
        assert error[30] < clean[30] + 0.05
        assert robust.absolute_residual[30] > 20.0  # flagged as an outlier (inliers: norm about 2.4)
        assert float(robust.absolute_residual[torch.arange(60) != 30].median()) < 4.0


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_vo_mode_bounds_drift(seed):
    """300 frames, odometry 1 cm / 0.3 deg per step, accurate fixes (2 cm / 0.5 deg) every 25 frames.
    Measured: dead reckoning drifts to 0.28-0.54 m, the graph stays within 0.09-0.12 m. Asserted: <= 0.2 m
    and less than half the dead-reckoning drift."""
    generator = torch.Generator().manual_seed(seed)
    n = 300
    gt = ground_truth(n)
    steps = perturb(relative_pose(gt[:-1], gt[1:]), 0.01, 0.3, generator)
    fixes = AbsoluteMeasurements(perturb(gt, 0.02, 0.5, generator), sigma_vector(0.02, 0.5))
    relative = RelativeMeasurements(torch.stack((torch.arange(n - 1), torch.arange(1, n)), 1), steps,
                                    sigma_vector(0.01, 0.3))
    fused = fuse_sequence(fixes, relative, options=FusionOptions(robust="none"), absolute_every=25).T_world_cam
    dead_reckoning = chain_relative_poses(fixes.T_world_cam[0], steps)
    drift = translation_errors(dead_reckoning, gt).max()
    assert translation_errors(fused, gt).max() <= min(0.2, 0.5 * drift)


def test_frames_without_fix_are_initialised_by_chaining_both_ways():
    gt = ground_truth(12)
    valid = torch.zeros(12, dtype=torch.bool)
    valid[5] = True
    absolute = AbsoluteMeasurements(gt, sigma_vector(0.1, 1.0), valid)
    result = fuse_record(absolute, consecutive_relative_poses(gt, sigma_vector(0.01, 0.5)))
    assert torch.allclose(result.T_world_cam, gt, atol=1e-7)
    assert torch.isnan(result.absolute_residual[0]) and torch.isfinite(result.absolute_residual[5])


def test_records_are_never_linked():
    """Two records 50 m apart: fused together they give exactly what each gives alone."""
    gt_a, gt_b = ground_truth(30, seed=0), ground_truth(25, seed=50)
    abs_a, rel_a = measurements(gt_a, 1)
    abs_b, rel_b = measurements(gt_b, 2)
    absolute = AbsoluteMeasurements(torch.cat((abs_a.T_world_cam, abs_b.T_world_cam)), abs_a.sigmas[0])
    relative = RelativeMeasurements(torch.cat((rel_a.pairs, rel_b.pairs + 30)), torch.cat((rel_a.T_i_j, rel_b.T_i_j)),
                                    rel_a.sigmas[0])
    records = ["a"] * 30 + ["b"] * 25
    together = fuse_sequence(absolute, relative, records)
    assert torch.allclose(together.T_world_cam[:30], fuse_record(abs_a, rel_a).T_world_cam, atol=1e-9)
    assert torch.allclose(together.T_world_cam[30:], fuse_record(abs_b, rel_b).T_world_cam, atol=1e-9)
    linking = RelativeMeasurements(torch.tensor([[29, 30]]), torch.eye(4, dtype=torch.float64)[None],
                                   rel_a.sigmas[0])
    with pytest.raises(TrajectoryError, match="links row 29"):
        fuse_sequence(absolute, linking, records)
    with pytest.raises(TrajectoryError, match="not contiguous"):
        fuse_sequence(absolute, relative, ["a", "b"] * 27 + ["a"])


def test_bad_input_raises_typed_errors():
    gt = ground_truth(10)
    with pytest.raises(ShapeError, match="finite positive"):
        sigma_vector(float("nan"), 1.0)
    with pytest.raises(ShapeError, match="absolute sigmas"):
        AbsoluteMeasurements(gt, torch.tensor([0.1, 0.1, 0.1, 0.0, 0.1, 0.1]))
    bad = torch.full((9, 6), 0.1, dtype=torch.float64)
    bad[4, 2] = math.inf
    with pytest.raises(ShapeError, match="row 4"):
        RelativeMeasurements(torch.stack((torch.arange(9), torch.arange(1, 10)), 1), relative_pose(gt[:-1], gt[1:]), bad)
    none_valid = AbsoluteMeasurements(gt, sigma_vector(0.1, 1.0), torch.zeros(10, dtype=torch.bool))
    with pytest.raises(TrajectoryError, match="no valid absolute"):
        fuse_record(none_valid, consecutive_relative_poses(gt, sigma_vector(0.01, 0.5)))
    no_pose = gt.clone()
    no_pose[1:] = float("nan")
    one_fix = AbsoluteMeasurements(no_pose, sigma_vector(0.1, 1.0), torch.arange(10) == 0)
    with pytest.raises(TrajectoryError, match="frame 1 of 10 is linked to no absolute measurement and has no pose"):
        fuse_record(one_fix, consecutive_relative_poses(gt[:1], sigma_vector(0.01, 0.5)))
    with pytest.raises(TrajectoryError, match="outside"):
        fuse_record(AbsoluteMeasurements(gt[:3], sigma_vector(0.1, 1.0)), consecutive_relative_poses(gt, sigma_vector(0.01, 0.5)))
    with pytest.raises(ConfigError):
        FusionOptions(kernel_threshold=float("nan"))
    with pytest.raises(ValueError):
        FusionOptions(robust="tukey")


def test_unanchored_frames_keep_their_input_pose():
    """Frames 4-6 are flagged (no absolute factor) and only linked to each other: they cannot be placed by the
    graph, so they keep their input poses and are reported unanchored; the rest is fused as usual."""
    gt = ground_truth(10)
    noisy, _ = measurements(gt, 3)
    valid = torch.ones(10, dtype=torch.bool)
    valid[4:7] = False
    absolute = AbsoluteMeasurements(noisy.T_world_cam, sigma_vector(0.1, 1.0), valid)
    steps = consecutive_relative_poses(gt, sigma_vector(0.01, 0.5))
    keep = torch.tensor([m not in (3, 6) for m in range(9)])  # no step 3->4 nor 6->7
    relative = RelativeMeasurements(steps.pairs[keep], steps.T_i_j[keep], steps.sigmas[keep])
    result = fuse_record(absolute, relative)
    assert result.anchored.tolist() == [True] * 4 + [False] * 3 + [True] * 3
    assert torch.equal(result.T_world_cam[4:7], noisy.T_world_cam[4:7])
    assert torch.isfinite(result.T_world_cam).all()
    anchored_only = fuse_record(AbsoluteMeasurements(noisy.T_world_cam[:4], sigma_vector(0.1, 1.0)),
                                RelativeMeasurements(steps.pairs[:3], steps.T_i_j[:3], steps.sigmas[:3]))
    # The same optimum up to LM's stopping tolerance (measured: 4e-5; the two graphs stop at different iterations).
    assert torch.allclose(result.T_world_cam[:4], anchored_only.T_world_cam, atol=1e-4)
