"""Umeyama alignment recovers known similarity transforms."""

from __future__ import annotations

import math

import pytest
import torch

from posekit.errors import TrajectoryError
from posekit.geometry import axis_angle_to_matrix
from posekit.metrics import AlignmentType, Similarity, Trajectory, align_trajectory, apply_similarity, umeyama_alignment

from .helpers import random_poses, random_trajectory

TRUE = Similarity(
    axis_angle_to_matrix(torch.tensor([0.3, -1.2, 0.7], dtype=torch.float64)),
    torch.tensor([4.0, -2.0, 0.5], dtype=torch.float64),
    2.5,
)


def test_umeyama_recovers_a_known_sim3():
    points = torch.randn(50, 3, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    found = umeyama_alignment(points, TRUE.apply_to_points(points), with_scale=True)
    torch.testing.assert_close(found.rotation, TRUE.rotation)
    torch.testing.assert_close(found.translation, TRUE.translation)
    assert found.scale == pytest.approx(TRUE.scale, rel=1e-12)
    torch.testing.assert_close(found.matrix(), TRUE.matrix())


def test_umeyama_without_scale_recovers_a_rigid_transform_and_stays_proper_for_reflected_data():
    points = torch.randn(30, 3, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    rigid = Similarity(TRUE.rotation, TRUE.translation, 1.0)
    found = umeyama_alignment(points, rigid.apply_to_points(points))
    torch.testing.assert_close(found.rigid_matrix(), rigid.rigid_matrix())
    assert found.scale == 1.0
    mirrored = umeyama_alignment(points, points * torch.tensor([1.0, 1.0, -1.0], dtype=torch.float64))
    assert float(torch.linalg.det(mirrored.rotation)) == pytest.approx(1.0)


def test_umeyama_rejects_degenerate_and_mismatched_points():
    line = torch.linspace(0, 1, 10, dtype=torch.float64)[:, None] * torch.tensor([[1.0, 2.0, 3.0]], dtype=torch.float64)
    with pytest.raises(TrajectoryError, match="degenerate"):
        umeyama_alignment(line, line + 1.0)
    with pytest.raises(TrajectoryError, match="differ in shape"):
        umeyama_alignment(torch.zeros(5, 3, dtype=torch.float64), torch.zeros(4, 3, dtype=torch.float64))


def test_align_trajectory_sim3_undoes_a_similarity_of_whole_poses():
    ref = random_trajectory(40, seed=2)
    est = apply_similarity(ref, TRUE)  # est = TRUE(ref): aligning must bring it back
    aligned, found = align_trajectory(est, ref, AlignmentType.sim3)
    torch.testing.assert_close(aligned.poses, ref.poses)
    assert found.scale == pytest.approx(1.0 / TRUE.scale, rel=1e-12)
    assert aligned.timestamps is est.timestamps or torch.equal(aligned.timestamps, est.timestamps)


def test_scale_alignment_only_scales_the_translations():
    ref = random_trajectory(30, seed=3)
    poses = ref.poses.clone()
    poses[:, :3, 3] *= 0.25
    aligned, found = align_trajectory(ref.with_poses(poses), ref, AlignmentType.scale)
    torch.testing.assert_close(found.rotation, torch.eye(3, dtype=torch.float64))
    assert found.translation.abs().max() == 0
    # The Sim(3) scale of positions that differ by a pure scale is that scale.
    assert found.scale == pytest.approx(4.0, rel=1e-12)
    torch.testing.assert_close(aligned.poses, ref.poses)


def test_n_poses_aligns_on_the_first_poses_only():
    ref = random_trajectory(20, seed=4)
    est_poses = apply_similarity(ref, Similarity(TRUE.rotation, TRUE.translation, 1.0)).poses.clone()
    est_poses[10:, :3, 3] += 5.0  # the tail drifts away; the first 10 poses fix the alignment exactly
    aligned, _ = align_trajectory(ref.with_poses(est_poses), ref, AlignmentType.se3, n_poses=10)
    torch.testing.assert_close(aligned.poses[:10], ref.poses[:10])
    assert not torch.allclose(aligned.poses[10:], ref.poses[10:])
    with pytest.raises(TrajectoryError, match="n_poses"):
        align_trajectory(ref, ref, AlignmentType.se3, n_poses=0)


def test_none_alignment_returns_the_estimate_and_identity():
    ref = random_trajectory(5, seed=5)
    est = Trajectory(random_poses(5, seed=6), ref.timestamps)
    aligned, found = align_trajectory(est, ref, AlignmentType.none)
    assert aligned is est
    torch.testing.assert_close(found.matrix(), torch.eye(4, dtype=torch.float64))
    with pytest.raises(TrajectoryError, match="differ in length"):
        align_trajectory(est.subset([0, 1]), ref)
    assert math.isclose(found.scale, 1.0)
