"""APE and RPE: definitions on synthetic trajectories, and evo's numbers on the real evo test data.

Reference numbers: ``trajectories/evo_test_data/SOURCE.md``. The res_files statistics (written by evo in
2018) are read from the archives themselves; the "computed with evo v1.38.1" table is given there to 6
decimals, so those values are compared to half a unit of the last printed digit.
"""

from __future__ import annotations

import functools
import json
import math
import zipfile
from pathlib import Path

import pytest
import torch

from posekit.errors import TrajectoryError
from posekit.geometry import axis_angle_to_matrix, make_pose
from posekit.metrics import (
    AlignmentType,
    PoseRelation,
    Trajectory,
    Unit,
    ape_errors,
    associate_trajectories,
    compute_ape,
    compute_rpe,
    read_euroc_csv,
    read_kitti,
    read_tum,
    rpe_pairs,
)

from .helpers import random_poses, random_trajectory, straight_line

STAT_KEYS = ("rmse", "mean", "median", "std", "min", "max", "sse")

# ------------------------------------------------------------------------------------------ synthetic checks


def test_identical_trajectories_have_zero_errors_for_every_relation():
    traj = random_trajectory(12, seed=1)
    for relation in PoseRelation:
        if relation is not PoseRelation.point_distance_error_ratio:  # RPE only (tested in test_relations.py)
            assert compute_ape(traj, traj, relation).statistics["max"] == pytest.approx(0.0, abs=1e-6)
        assert compute_rpe(traj, traj, relation).statistics["max"] == pytest.approx(0.0, abs=1e-6)


def test_ape_of_a_constant_offset_and_a_constant_rotation():
    ref = random_trajectory(10, seed=2)
    shifted = ref.poses.clone()
    shifted[:, :3, 3] += torch.tensor([0.3, 0.4, 0.0], dtype=torch.float64)
    est = ref.with_poses(shifted)
    errors = ape_errors(ref, est, PoseRelation.translation_part)
    torch.testing.assert_close(errors, torch.full((10,), 0.5, dtype=torch.float64))
    assert compute_ape(ref, est, alignment=AlignmentType.se3).statistics["max"] == pytest.approx(0.0, abs=1e-12)
    # Rotating every camera by 10 deg about its own axis: APE angle 10 deg, translation 0.
    R = axis_angle_to_matrix(torch.tensor([0.0, 0.0, math.radians(10.0)], dtype=torch.float64))
    rotated = ref.with_poses(ref.poses @ make_pose(R, torch.zeros(3, dtype=torch.float64)))
    torch.testing.assert_close(ape_errors(ref, rotated, PoseRelation.rotation_angle_deg), torch.full((10,), 10.0, dtype=torch.float64))
    assert float(ape_errors(ref, rotated, PoseRelation.translation_part).max()) == 0.0
    expected_frobenius = math.sqrt(2 * ((1 - math.cos(math.radians(10))) ** 2 + math.sin(math.radians(10)) ** 2))
    torch.testing.assert_close(
        ape_errors(ref, rotated, PoseRelation.rotation_part), torch.full((10,), expected_frobenius, dtype=torch.float64)
    )


def test_rpe_is_invariant_to_a_rigid_motion_of_the_estimate_and_sees_a_local_jump():
    ref = random_trajectory(20, seed=3)
    moved = ref.transformed(random_poses(1, seed=4)[0])
    assert compute_rpe(ref, moved).statistics["max"] == pytest.approx(0.0, abs=1e-12)
    poses = ref.poses.clone()
    poses[10:, :3, 3] += torch.tensor([0.0, 0.0, 1.0], dtype=torch.float64)  # a 1 m jump between frames 9 and 10
    result = compute_rpe(ref, ref.with_poses(poses))
    assert result.errors.argmax().item() == 9
    assert result.statistics["max"] == pytest.approx(1.0)
    assert result.statistics["sse"] == pytest.approx(1.0)


def test_frame_pairs_consecutive_and_all():
    traj = straight_line(10)
    assert rpe_pairs(traj, 3).tolist() == [[0, 3], [3, 6], [6, 9]]
    assert rpe_pairs(traj, 3, all_pairs=True).tolist() == [[i, i + 3] for i in range(7)]
    with pytest.raises(TrajectoryError, match="integer"):
        rpe_pairs(traj, 1.5)
    with pytest.raises(TrajectoryError, match="no pose pairs"):
        rpe_pairs(traj, 10)
    with pytest.raises(TrajectoryError, match="positive"):
        rpe_pairs(traj, 0)


def test_metre_pairs_start_at_pose_zero_and_restart_after_each_pair():
    # Steps of 0.4 m: the path reaches 1 m at pose 3 (1.2 m), then again 3 poses later.
    traj = straight_line(10, step=0.4)
    assert rpe_pairs(traj, 1.0, Unit.meters).tolist() == [[0, 3], [3, 6], [6, 9]]


def test_metre_all_pairs_take_the_nearest_path_length_within_tolerance():
    positions = torch.tensor([0.0, 0.5, 0.9, 1.04, 1.95, 2.12, 3.5], dtype=torch.float64)
    poses = torch.eye(4, dtype=torch.float64).repeat(7, 1, 1)
    poses[:, 0, 3] = positions
    pairs = rpe_pairs(Trajectory(poses), 1.0, Unit.meters, rel_tol=0.1, all_pairs=True).tolist()
    # From 0: 1.04 (0.04 off). From 0.5: the nearest, 1.04, is 0.46 off -> none. From 0.9: 1.95 (0.05 off).
    # From 1.04: 2.12 (0.08 off) beats the earlier 1.95 (0.09 off). From 1.95 and 2.12: nothing within 0.1.
    assert pairs == [[0, 3], [2, 4], [3, 5]]


def test_metre_all_pairs_ties_and_rests_pick_the_first_index():
    positions = torch.tensor([0.0, 0.0, 1.0, 1.0, 1.0, 2.0], dtype=torch.float64)
    poses = torch.eye(4, dtype=torch.float64).repeat(6, 1, 1)
    poses[:, 0, 3] = positions
    pairs = rpe_pairs(Trajectory(poses), 1.0, Unit.meters, all_pairs=True).tolist()
    assert pairs == [[0, 2], [1, 2], [2, 5], [3, 5], [4, 5]]


def test_rpe_length_mismatch_raises():
    with pytest.raises(TrajectoryError, match="same number of poses"):
        compute_rpe(random_trajectory(5), random_trajectory(4))


# ------------------------------------------------------------------------------------------ real data (evo)


@functools.cache
def _kitti(path: Path) -> Trajectory:
    return read_kitti(path)


@functools.cache
def _tum_pair(ref_path: Path, est_path: Path, euroc: bool = False) -> tuple[Trajectory, Trajectory]:
    ref = read_euroc_csv(ref_path) if euroc else read_tum(ref_path)
    return associate_trajectories(ref, read_tum(est_path))


def _res_stats(evo_dir: Path, name: str) -> dict[str, float]:
    with zipfile.ZipFile(evo_dir / "res_files" / f"{name}.zip") as archive:
        return json.loads(archive.read("stats.json"))


def _assert_stats(stats: dict[str, float], expected: dict[str, float] | tuple[float, ...], **tolerance) -> None:
    if isinstance(expected, tuple):
        expected = dict(zip(STAT_KEYS, expected))
    for key, value in expected.items():
        assert stats[key] == pytest.approx(value, **tolerance), key


@pytest.mark.parametrize(("estimate", "res_file"), [("KITTI_00_ORB.txt", "orb_ape"), ("KITTI_00_SPTAM.txt", "sptam_ape")])
def test_kitti_00_ape_se3_reproduces_evo_res_files(trajectories_dir, estimate, res_file):
    evo = trajectories_dir / "evo_test_data"
    result = compute_ape(_kitti(evo / "KITTI_00_gt.txt"), _kitti(evo / estimate), alignment=AlignmentType.se3)
    expected = _res_stats(evo, res_file)
    assert set(expected) == set(STAT_KEYS)
    _assert_stats(result.statistics, expected, rel=1e-9)
    assert result.errors.numel() == 4541


# `evo_rpe/evo_ape ...` rows of SOURCE.md's "computed with evo v1.38.1" table (6 decimals).
KITTI_ROWS = [
    ("KITTI_00_ORB.txt", dict(delta=10, delta_unit=Unit.meters), (0.236763, 0.172301, 0.138488, 0.162386, 0.025323, 1.331392, 19.844157)),
    ("KITTI_00_SPTAM.txt", dict(delta=10, delta_unit=Unit.meters), (0.281613, 0.225269, 0.178348, 0.168997, 0.018752, 1.206594, 28.232959)),
    ("KITTI_00_ORB.txt", dict(delta=1, delta_unit=Unit.frames), (0.028120, 0.019301, 0.014709, 0.020450, 0.000312, 0.302712, 3.590030)),
    (
        "KITTI_00_ORB.txt",
        dict(delta=1, delta_unit=Unit.frames, pose_relation=PoseRelation.rotation_angle_deg),
        (0.114974, 0.059583, 0.041074, 0.098330, 0.002244, 2.196615, 60.013854),
    ),
]


@pytest.mark.parametrize(("estimate", "options", "expected"), KITTI_ROWS)
def test_kitti_00_rpe_reproduces_evo_1_38_1(trajectories_dir, estimate, options, expected):
    evo = trajectories_dir / "evo_test_data"
    result = compute_rpe(_kitti(evo / "KITTI_00_gt.txt"), _kitti(evo / estimate), **options)
    _assert_stats(result.statistics, expected, abs=5e-7)


TUM_ROWS = [
    ("freiburg1_xyz-groundtruth.txt", "freiburg1_xyz-rgbdslam.txt", "ape", dict(alignment=AlignmentType.se3),
     (0.013470, 0.012024, 0.011183, 0.006071, 0.000955, 0.034760, 0.142433)),
    ("freiburg1_xyz-groundtruth.txt", "freiburg1_xyz-rgbdslam.txt", "ape", {},
     (0.020079, 0.018063, 0.016518, 0.008771, 0.001256, 0.043289, 0.316499)),
    ("freiburg1_xyz-groundtruth.txt", "freiburg1_xyz-rgbdslam.txt", "rpe", {},
     (0.005764, 0.004816, 0.004139, 0.003168, 0.000171, 0.020866, 0.026051)),
    ("freiburg1_xyz-groundtruth.txt", "freiburg1_xyz-rgbdslam.txt", "rpe", dict(pose_relation=PoseRelation.rotation_angle_deg),
     (0.353613, 0.300307, 0.262139, 0.186704, 0.016937, 1.633296, 98.033138)),
    ("freiburg1_xyz-groundtruth.txt", "freiburg1_xyz-ORB_kf_mono.txt", "ape", dict(alignment=AlignmentType.sim3),
     (0.009755, 0.008219, 0.007909, 0.005254, 0.001877, 0.027924, 0.003045)),
    ("fr2_desk_groundtruth.txt", "fr2_desk_ORB.txt", "ape", dict(alignment=AlignmentType.se3),
     (0.008119, 0.007492, 0.007415, 0.003129, 0.000350, 0.024300, 0.143305)),
    ("fr2_desk_groundtruth.txt", "fr2_desk_ORB.txt", "rpe", {},
     (0.003490, 0.003038, 0.002750, 0.001718, 0.000132, 0.019485, 0.026472)),
    ("fr2_desk_groundtruth.txt", "fr2_desk_ORB_kf_mono.txt", "ape", dict(alignment=AlignmentType.sim3),
     (0.007729, 0.007104, 0.007100, 0.003046, 0.001216, 0.015689, 0.007050)),
    ("V102_groundtruth.csv", "V102.txt", "ape", dict(alignment=AlignmentType.se3),
     (0.091727, 0.081522, 0.077912, 0.042049, 0.002620, 0.255817, 6.714263)),
    ("V102_groundtruth.csv", "V102.txt", "rpe", {},
     (0.015077, 0.006107, 0.004184, 0.013785, 0.000115, 0.217409, 0.181164)),
]


@pytest.mark.parametrize(("ground_truth", "estimate", "metric", "options", "expected"), TUM_ROWS)
def test_tum_and_euroc_reproduce_evo_1_38_1(trajectories_dir, ground_truth, estimate, metric, options, expected):
    evo = trajectories_dir / "evo_test_data"
    ref, est = _tum_pair(evo / ground_truth, evo / estimate, euroc=ground_truth.endswith(".csv"))
    compute = compute_ape if metric == "ape" else compute_rpe
    _assert_stats(compute(ref, est, **options).statistics, expected, abs=5e-7)


def test_fr2_desk_matches_the_maintainers_published_output(trajectories_dir):
    """evo issue #8: max 0.024300, mean 0.007492, median 0.007415, min 0.000350, rmse 0.008119,
    sse 0.143305, std 0.003129 (APE translation, SE(3) Umeyama)."""
    evo = trajectories_dir / "evo_test_data"
    ref, est = _tum_pair(evo / "fr2_desk_groundtruth.txt", evo / "fr2_desk_ORB.txt")
    stats = compute_ape(ref, est, alignment=AlignmentType.se3).statistics
    published = dict(max=0.024300, mean=0.007492, median=0.007415, min=0.000350, rmse=0.008119, sse=0.143305, std=0.003129)
    _assert_stats(stats, published, abs=5e-7)
