"""The evo-style additions to APE/RPE, each checked against numbers computed here independently with
numpy/scipy: every pose relation, RPE pairs by accumulated rotation (deg/rad), the point distance error
ratio, align-origin, interpolation sync (scipy's Slerp), time cropping, and the stored evo error arrays."""

from __future__ import annotations

import io
import zipfile

import numpy as np
import pytest
import torch
from scipy.spatial.transform import Rotation, Slerp

from posekit.errors import TrajectoryError
from posekit.metrics import (
    PoseRelation,
    Trajectory,
    Unit,
    align_origin,
    associate_by_interpolation,
    compute_ape,
    compute_rpe,
    crop_to_time_range,
    interpolate_poses,
    read_kitti,
    rpe_pairs,
)
from tests.metrics.helpers import random_trajectory


def _np(traj: Trajectory) -> np.ndarray:
    return traj.poses.numpy()


def _noisy(traj: Trajectory, seed: int, t_sigma=0.05, r_sigma=0.05) -> Trajectory:
    rng = np.random.default_rng(seed)
    poses = _np(traj).copy()
    for pose in poses:
        pose[:3, :3] = pose[:3, :3] @ Rotation.from_rotvec(rng.normal(0, r_sigma, 3)).as_matrix()
        pose[:3, 3] += rng.normal(0, t_sigma, 3)
    return traj.with_poses(torch.from_numpy(poses))


def _angle(R: np.ndarray) -> float:
    return float(np.linalg.norm(Rotation.from_matrix(R).as_rotvec()))


def _rpe_by_hand(ref: np.ndarray, est: np.ndarray, pairs, relation: str) -> np.ndarray:
    out = []
    for i, j in pairs:
        E = np.linalg.inv(np.linalg.inv(ref[i]) @ ref[j]) @ (np.linalg.inv(est[i]) @ est[j])
        d_ref, d_est = np.linalg.norm(ref[i, :3, 3] - ref[j, :3, 3]), np.linalg.norm(est[i, :3, 3] - est[j, :3, 3])
        out.append({
            "full": np.linalg.norm(E - np.eye(4)),
            "rot_part": np.linalg.norm(E[:3, :3] - np.eye(3)),
            "trans_part": np.linalg.norm(E[:3, 3]),
            "angle_rad": _angle(E[:3, :3]),
            "angle_deg": np.degrees(_angle(E[:3, :3])),
            "point_distance": abs(d_ref - d_est),
            "point_distance_error_ratio": 100 * abs(d_ref - d_est) / d_ref,
        }[relation])
    return np.array(out)


RELATIONS = {
    "full": PoseRelation.full_transformation, "rot_part": PoseRelation.rotation_part,
    "trans_part": PoseRelation.translation_part, "angle_rad": PoseRelation.rotation_angle_rad,
    "angle_deg": PoseRelation.rotation_angle_deg, "point_distance": PoseRelation.point_distance,
    "point_distance_error_ratio": PoseRelation.point_distance_error_ratio,
}


@pytest.mark.parametrize("name", list(RELATIONS))
def test_every_rpe_relation_matches_a_numpy_computation(name):
    ref = random_trajectory(30, seed=3)
    est = _noisy(ref, seed=4)
    result = compute_rpe(ref, est, RELATIONS[name], delta=2)
    expected = _rpe_by_hand(_np(ref), _np(est), result.pairs.tolist(), name)
    np.testing.assert_allclose(result.errors.numpy(), expected, rtol=1e-9, atol=1e-12)
    assert result.pairs.tolist() == [[i, i + 2] for i in range(0, 28, 2)]


@pytest.mark.parametrize("name", [n for n in RELATIONS if n != "point_distance_error_ratio"])
def test_every_ape_relation_matches_a_numpy_computation(name):
    ref = random_trajectory(20, seed=5)
    est = _noisy(ref, seed=6)
    ref_np, est_np = _np(ref), _np(est)
    expected = []
    for P, Q in zip(est_np, ref_np):
        E = np.linalg.inv(P) @ Q
        expected.append({
            "full": np.linalg.norm(E - np.eye(4)), "rot_part": np.linalg.norm(E[:3, :3] - np.eye(3)),
            "trans_part": np.linalg.norm(P[:3, 3] - Q[:3, 3]), "point_distance": np.linalg.norm(P[:3, 3] - Q[:3, 3]),
            "angle_rad": _angle(E[:3, :3]), "angle_deg": np.degrees(_angle(E[:3, :3])),
        }[name])
    np.testing.assert_allclose(compute_ape(ref, est, RELATIONS[name]).errors.numpy(), expected, rtol=1e-9, atol=1e-12)


def test_error_ratio_is_rpe_only_and_skips_pairs_at_rest():
    ref = random_trajectory(6, seed=7)
    with pytest.raises(TrajectoryError, match="RPE"):
        compute_ape(ref, ref, PoseRelation.point_distance_error_ratio)
    poses = ref.poses.clone()
    poses[3] = poses[2]  # the camera rests between poses 2 and 3
    resting = ref.with_poses(poses)
    result = compute_rpe(resting, resting, PoseRelation.point_distance_error_ratio)
    assert [2, 3] not in result.pairs.tolist() and result.pairs.shape[0] == 4
    assert torch.isfinite(result.errors).all()


def _accumulated_angle_pairs(rotations: np.ndarray, delta: float, degrees: bool):
    """Consecutive pairs by the rotation angle accumulated along the path, written plainly."""
    steps = [_angle(rotations[k - 1].T @ rotations[k]) for k in range(1, len(rotations))]
    steps = np.degrees(steps) if degrees else np.array(steps)
    ids, current = [0], 0.0
    for k, step in enumerate(steps, start=1):
        current += step
        if current >= delta:
            ids.append(k)
            current = 0.0
    return [[a, b] for a, b in zip(ids, ids[1:])]


@pytest.mark.parametrize(("unit", "delta"), [(Unit.degrees, 90.0), (Unit.radians, 1.5)])
def test_rpe_pairs_by_accumulated_rotation(unit, delta):
    traj = random_trajectory(40, seed=8)
    expected = _accumulated_angle_pairs(_np(traj)[:, :3, :3], delta, unit is Unit.degrees)
    assert len(expected) > 3
    assert rpe_pairs(traj, delta, unit).tolist() == expected


def test_all_pairs_by_rotation_keep_pairs_within_tolerance():
    traj = random_trajectory(40, seed=9)
    rotations = _np(traj)[:, :3, :3]
    steps = np.degrees([_angle(rotations[k - 1].T @ rotations[k]) for k in range(1, 40)])
    accumulated = np.concatenate([[0.0], np.cumsum(steps)])
    pairs = rpe_pairs(traj, 120.0, Unit.degrees, rel_tol=0.1, all_pairs=True).tolist()
    assert pairs
    for i, j in pairs:
        assert abs(accumulated[j] - accumulated[i] - 120.0) <= 12.0
        # j is the best match for i among all later poses
        assert abs(accumulated[j] - accumulated[i] - 120) <= np.abs(accumulated[i + 1:] - accumulated[i] - 120).min() + 1e-12


def test_align_origin_puts_the_first_poses_on_each_other():
    ref = random_trajectory(10, seed=10)
    T = np.eye(4)
    T[:3, :3] = Rotation.from_rotvec([0.3, -0.2, 1.0]).as_matrix()
    T[:3, 3] = [5.0, -1.0, 2.0]
    est = ref.transformed(torch.from_numpy(T))  # the same motion in another world frame
    moved, T_ref_est = align_origin(est, ref)
    np.testing.assert_allclose(T_ref_est.numpy(), np.linalg.inv(T), atol=1e-12)
    assert compute_ape(ref, moved).statistics["max"] == pytest.approx(0.0, abs=1e-9)


def test_interpolation_matches_scipy_slerp_and_linear_positions():
    ref = random_trajectory(12, seed=11)
    stamps = torch.tensor([1000.0, 1000.05, 1000.333, 1001.0, 1001.1])
    poses = interpolate_poses(ref, stamps).numpy()
    times = ref.timestamps.numpy()
    slerp = Slerp(times, Rotation.from_matrix(_np(ref)[:, :3, :3]))
    np.testing.assert_allclose(poses[:, :3, :3], slerp(stamps.numpy()).as_matrix(), atol=1e-9)
    for axis in range(3):
        np.testing.assert_allclose(poses[:, axis, 3], np.interp(stamps.numpy(), times, _np(ref)[:, axis, 3]), atol=1e-12)


def test_associate_by_interpolation_keeps_estimate_stamps_inside_the_reference():
    ref = random_trajectory(20, seed=12)  # 1000.0 .. 1001.9 s
    est = Trajectory(random_trajectory(10, seed=13).poses, torch.linspace(999.5, 1002.5, 10, dtype=torch.float64))
    ref_at, est_in = associate_by_interpolation(ref, est, offset_est=0.2)
    shifted = est.timestamps + 0.2
    inside = (shifted >= 1000.0) & (shifted <= 1001.9)
    assert len(ref_at) == len(est_in) == int(inside.sum())
    torch.testing.assert_close(ref_at.timestamps, shifted[inside])
    with pytest.raises(TrajectoryError, match="time range"):
        associate_by_interpolation(ref, est, offset_est=100.0)


def test_crop_to_time_range_is_inclusive():
    traj = random_trajectory(10, seed=14)  # 1000.0 .. 1000.9
    cropped = crop_to_time_range(traj, 1000.2, 1000.5)
    torch.testing.assert_close(cropped.timestamps, traj.timestamps[2:6])
    assert len(crop_to_time_range(traj, None, 1000.0)) == 1
    with pytest.raises(TrajectoryError, match="no poses"):
        crop_to_time_range(traj, 2000.0, None)


def test_metric_result_prints_statistics_not_values():
    ref = random_trajectory(500, seed=15)
    text = repr(compute_ape(ref, _noisy(ref, 16)))
    assert text.startswith("MetricResult(APE translation part (m), 500 values: rmse=") and "sse=" in text
    assert len(text) < 300


def test_per_pose_kitti_00_ape_errors_equal_evo_stored_error_array(trajectories_dir):
    evo = trajectories_dir / "evo_test_data"
    with zipfile.ZipFile(evo / "res_files" / "orb_ape.zip") as archive:
        stored = np.load(io.BytesIO(archive.read("error_array.npz")))
    from posekit.metrics import AlignmentType

    result = compute_ape(read_kitti(evo / "KITTI_00_gt.txt"), read_kitti(evo / "KITTI_00_ORB.txt"),
                         alignment=AlignmentType.se3)
    np.testing.assert_allclose(result.errors.numpy(), stored, rtol=0, atol=1e-9)
