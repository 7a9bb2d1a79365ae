"""``posekit traj`` (info, convert, transform, merge) and ``posekit res`` (compare saved results, evo zips too)."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from click.testing import CliRunner
from scipy.spatial.transform import Rotation

from posekit.cli import cli
from posekit.metrics import Trajectory, read_euroc_csv, read_frame_pose_folder, read_kitti, read_tum, write_tum
from tests.metrics.helpers import random_trajectory


def run(*args):
    out = CliRunner().invoke(cli, list(map(str, args)))
    return out


def test_info_of_kitti_00_with_times(trajectories_dir):
    evo = trajectories_dir / "evo_test_data"
    out = run("traj", "info", evo / "KITTI_00_gt.txt", "--format", "kitti", "--times", evo / "KITTI_00_gt_times.txt", "--json")
    assert out.exit_code == 0, out.output
    info = json.loads(out.stdout)
    positions = np.loadtxt(evo / "KITTI_00_gt.txt").reshape(-1, 3, 4)[:, :, 3]
    assert info["poses"] == 4541
    assert info["path_length_m"] == pytest.approx(np.linalg.norm(np.diff(positions, axis=0), axis=1).sum(), rel=1e-9)
    assert info["duration_s"] == pytest.approx(np.loadtxt(evo / "KITTI_00_gt_times.txt")[-1], rel=1e-9)


def test_convert_kitti_to_tum_to_7scenes_keeps_poses(trajectories_dir, tmp_path):
    evo = trajectories_dir / "evo_test_data"
    kitti = read_kitti(evo / "KITTI_00_ORB.txt")
    assert run("traj", "convert", evo / "KITTI_00_ORB.txt", tmp_path / "orb.tum", "--from", "kitti", "--to", "tum",
               "--times", evo / "KITTI_00_gt_times.txt").exit_code == 0
    tum = read_tum(tmp_path / "orb.tum")
    np.testing.assert_allclose(tum.timestamps.numpy(), np.loadtxt(evo / "KITTI_00_gt_times.txt"), atol=1e-6)
    np.testing.assert_allclose(tum.poses.numpy(), kitti.poses.numpy(), atol=1e-5)
    assert run("traj", "convert", tmp_path / "orb.tum", tmp_path / "frames", "--from", "tum", "--to", "7scenes").exit_code == 0
    frames = read_frame_pose_folder(tmp_path / "frames")
    assert len(frames) == 4541
    np.testing.assert_allclose(frames.poses.numpy(), kitti.poses.numpy(), atol=1e-5)
    out = run("traj", "convert", evo / "V102_groundtruth.csv", tmp_path / "v.kitti", "--from", "euroc", "--to", "kitti")
    assert out.exit_code == 0 and (tmp_path / "v_times.txt").exists()



def test_convert_euroc_round_trip_and_euroc_needs_times(trajectories_dir, tmp_path):
    """EuRoC CSV -> EuRoC CSV keeps poses and (nanosecond) timestamps; a KITTI file without --times cannot
    become EuRoC."""
    evo = trajectories_dir / "evo_test_data"
    source = read_euroc_csv(evo / "V102_groundtruth.csv")
    out = run("traj", "convert", evo / "V102_groundtruth.csv", tmp_path / "v.csv", "--from", "euroc", "--to", "euroc")
    assert out.exit_code == 0, out.output
    again = read_euroc_csv(tmp_path / "v.csv")
    assert torch.equal(again.timestamps, source.timestamps)  # the same integer nanoseconds, read the same way
    np.testing.assert_allclose(again.poses.numpy(), source.poses.numpy(), atol=1e-12)
    refused = run("traj", "convert", evo / "KITTI_00_ORB.txt", tmp_path / "k.csv", "--from", "kitti", "--to", "euroc")
    assert refused.exit_code == 2 and "EuRoC files need timestamps" in refused.output


def test_transform_by_matrix_and_by_alignment(tmp_path):
    ref = random_trajectory(25, seed=2)
    T = np.eye(4)
    T[:3, :3] = Rotation.from_rotvec([0.2, -0.4, 0.9]).as_matrix()
    T[:3, 3] = [1.0, 2.0, -3.0]
    np.savetxt(tmp_path / "T.txt", T)
    write_tum(tmp_path / "ref.txt", ref)
    assert run("traj", "transform", tmp_path / "ref.txt", tmp_path / "moved.txt", "--matrix", tmp_path / "T.txt").exit_code == 0
    moved = read_tum(tmp_path / "moved.txt")
    np.testing.assert_allclose(moved.poses.numpy(), T @ ref.poses.numpy(), atol=1e-6)
    # Scaled by 2 as well: Sim(3) alignment back onto the reference recovers it.
    scaled = moved.poses.clone()
    scaled[:, :3, 3] *= 2.0
    write_tum(tmp_path / "scaled.txt", moved.with_poses(scaled))
    out = run("traj", "transform", tmp_path / "scaled.txt", tmp_path / "back.txt", "--align-to", tmp_path / "ref.txt",
              "--align", "sim3")
    assert out.exit_code == 0, out.output
    assert "scale 0.5)" in out.output
    np.testing.assert_allclose(read_tum(tmp_path / "back.txt").poses.numpy(), ref.poses.numpy(), atol=1e-5)
    assert run("traj", "transform", tmp_path / "ref.txt", tmp_path / "x.txt").exit_code == 2


def test_merge_sorts_by_time_and_refuses_repeats(tmp_path):
    traj = random_trajectory(10, seed=3)
    write_tum(tmp_path / "a.txt", traj.subset(list(range(0, 10, 2))))
    write_tum(tmp_path / "b.txt", traj.subset(list(range(1, 10, 2))))
    assert run("traj", "merge", tmp_path / "b.txt", tmp_path / "a.txt", "--out", tmp_path / "m.txt").exit_code == 0
    merged = read_tum(tmp_path / "m.txt")
    np.testing.assert_allclose(merged.timestamps.numpy(), traj.timestamps.numpy(), atol=1e-6)
    np.testing.assert_allclose(merged.poses.numpy(), traj.poses.numpy(), atol=1e-6)
    out = run("traj", "merge", tmp_path / "a.txt", tmp_path / "a.txt", "--out", tmp_path / "m2.txt")
    assert out.exit_code == 2 and "occurs in more than one pose" in out.output


def test_res_compares_own_and_evo_results(trajectories_dir, tmp_path):
    evo = trajectories_dir / "evo_test_data"
    for name in ("ORB", "SPTAM"):
        assert run("eval-traj", evo / "KITTI_00_gt.txt", evo / f"KITTI_00_{name}.txt", "--format", "kitti", "-a", "se3",
                   "--save-results", tmp_path / f"posekit_{name.lower()}.npz").exit_code == 0
    files = [tmp_path / "posekit_orb.npz", evo / "res_files" / "orb_ape.zip", tmp_path / "posekit_sptam.npz",
             evo / "res_files" / "sptam_ape.zip"]
    out = run("res", *files, "--json")
    assert out.exit_code == 0, out.output
    table = json.loads(out.stdout)
    for name in ("orb", "sptam"):
        ours, theirs = table[f"posekit_{name}"], table[f"{name}_ape"]
        for key in ("rmse", "mean", "median", "std", "min", "max"):
            assert ours[key] == pytest.approx(theirs[key], rel=1e-9)
    out = run("res", *files, "--save-table", tmp_path / "t.csv", "--save-plot", tmp_path / "p.png")
    assert out.exit_code == 0, out.output
    assert out.output.splitlines()[0].split()[:3] == ["result", "rmse", "mean"]
    assert len((tmp_path / "t.csv").read_text().splitlines()) == 5
    assert (tmp_path / "p.png").stat().st_size > 1000
    assert run("res", tmp_path / "missing.json").exit_code == 2
