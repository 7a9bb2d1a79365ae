"""``posekit eval-traj`` with evo's options: relations, delta units, time offset and range, interpolation,
align-origin, pairs from the reference, saved results, plots, the KITTI devkit metric; checked against
evo's stored numbers and numbers computed here."""

from __future__ import annotations

import json

import numpy as np
import pytest
from click.testing import CliRunner
from scipy.spatial.transform import Rotation, Slerp

from posekit.cli import cli
from posekit.metrics import Trajectory, load_record, write_tum
from tests.metrics.helpers import random_trajectory


def run(*args):
    return CliRunner().invoke(cli, ["eval-traj", *map(str, args)])


def stats(*args) -> dict:
    out = run(*args, "--json")
    assert out.exit_code == 0, out.output
    return json.loads(out.stdout)


@pytest.fixture
def smooth_pair(tmp_path):
    """A smooth GT at 10 Hz and an estimate sampled exactly (scipy Slerp + linear) half-way between GT stamps."""
    import torch

    t = np.arange(40) * 0.1 + 50.0
    rot = Rotation.from_rotvec(np.stack([0.02 * np.arange(40), 0.01 * np.arange(40), 0.03 * np.arange(40)], 1))
    pos = np.stack([np.sin(t), np.cos(t), 0.1 * t], 1)
    poses = np.tile(np.eye(4), (40, 1, 1))
    poses[:, :3, :3], poses[:, :3, 3] = rot.as_matrix(), pos
    gt = Trajectory(torch.from_numpy(poses), torch.from_numpy(t))
    ts = t[:-1] + 0.05
    est_poses = np.tile(np.eye(4), (39, 1, 1))
    est_poses[:, :3, :3] = Slerp(t, rot)(ts).as_matrix()
    est_poses[:, :3, 3] = np.stack([np.interp(ts, t, pos[:, k]) for k in range(3)], 1)
    est = Trajectory(torch.from_numpy(est_poses), torch.from_numpy(ts + 7.0))  # a 7 s clock offset
    write_tum(tmp_path / "gt.txt", gt)
    write_tum(tmp_path / "est.txt", est)
    return tmp_path / "gt.txt", tmp_path / "est.txt"


def test_interpolation_with_the_clock_offset_gives_zero_error(smooth_pair):
    exact = stats(*smooth_pair, "--sync", "interpolate", "--t_offset", "-7")
    assert exact["max"] == pytest.approx(0.0, abs=1e-6)
    nearest = stats(*smooth_pair, "--t-offset", "-7", "--max-diff", "0.06")  # pairs poses 50 ms apart
    assert nearest["mean"] > 1e-2
    assert run(*smooth_pair).exit_code == 2  # without the offset no stamp matches


def test_time_range_uses_only_the_poses_inside(smooth_pair, tmp_path):
    out = tmp_path / "r.json"
    assert run(*smooth_pair, "--sync", "interpolate", "--t-offset", "-7", "--t_start", "51.0", "--t_end", "52.0",
               "--save-results", out).exit_code == 0
    record = load_record(out)
    assert record.errors.size == 10  # estimate stamps 51.05 .. 51.95
    assert record.timestamps.min() >= 51.0 and record.timestamps.max() <= 52.0


def test_align_origin_and_pairs_from_reference(tmp_path):
    import torch

    ref = random_trajectory(30, seed=1)
    T = torch.eye(4, dtype=torch.float64)
    T[:3, :3] = torch.from_numpy(Rotation.from_rotvec([0.1, 0.5, -0.3]).as_matrix())
    T[:3, 3] = torch.tensor([3.0, 2.0, 1.0])
    write_tum(tmp_path / "gt.txt", ref)
    write_tum(tmp_path / "est.txt", ref.transformed(T))
    assert stats(tmp_path / "gt.txt", tmp_path / "est.txt")["min"] > 0.1
    assert stats(tmp_path / "gt.txt", tmp_path / "est.txt", "--align_origin")["max"] == pytest.approx(0, abs=1e-9)
    assert run(tmp_path / "gt.txt", tmp_path / "est.txt", "--align-origin", "-a", "se3").exit_code == 2
    rpe = stats(tmp_path / "gt.txt", tmp_path / "est.txt", "--metric", "rpe", "-d", "5", "-u", "m",
                "--pairs_from_reference", "--all_pairs")
    assert rpe["max"] == pytest.approx(0.0, abs=1e-9)  # the same motion: no relative error


def test_kitti_00_rotation_rpe_matches_evo(trajectories_dir):
    evo = trajectories_dir / "evo_test_data"
    result = stats(evo / "KITTI_00_gt.txt", evo / "KITTI_00_ORB.txt", "--format", "kitti", "--metric", "rpe",
                   "-d", "1", "-u", "f", "-r", "angle_deg")
    assert result["rmse"] == pytest.approx(0.114974, abs=5e-7)
    assert result["sse"] == pytest.approx(60.013854, abs=5e-6)


def test_kitti_00_rpe_10_m_matches_evo_1_38(trajectories_dir):
    evo = trajectories_dir / "evo_test_data"
    result = stats(evo / "KITTI_00_gt.txt", evo / "KITTI_00_SPTAM.txt", "--format", "kitti", "--metric", "rpe",
                   "-d", "10", "-u", "m")
    assert result["rmse"] == pytest.approx(0.281613, abs=5e-7)


def test_fr1_xyz_nearest_sync_matches_evo(trajectories_dir):
    evo = trajectories_dir / "evo_test_data"
    gt, est = evo / "freiburg1_xyz-groundtruth.txt", evo / "freiburg1_xyz-rgbdslam.txt"
    assert stats(gt, est)["rmse"] == pytest.approx(0.020079, abs=5e-7)
    assert stats(gt, est, "--metric", "rpe", "-r", "angle_deg")["rmse"] == pytest.approx(0.353613, abs=5e-7)
    # Interpolating the 100 Hz mocap at the estimate's stamps moves the number only a little.
    assert stats(gt, est, "--sync", "interpolate")["rmse"] == pytest.approx(0.020079, rel=0.05)


def test_kitti_devkit_metric_matches_kitti_odom_eval(trajectories_dir):
    kitti = trajectories_dir / "kitti_odom_eval"
    numbers = stats(kitti / "gt_poses" / "09.txt", kitti / "result" / "example_0" / "09.txt", "--format", "kitti",
                    "--metric", "kitti", "-a", "sim3")
    assert numbers["translation_error_percent"] == pytest.approx(2.884112511407129, rel=1e-6)
    assert numbers["rotation_error_deg_per_100m"] == pytest.approx(0.24905618674615418, rel=1e-6)
    assert numbers["ate"] == pytest.approx(8.38661922878607, rel=1e-6)


def test_save_results_json_and_npz_and_plot(trajectories_dir, tmp_path):
    evo = trajectories_dir / "evo_test_data"
    gt, est = evo / "fr2_desk_groundtruth.txt", evo / "fr2_desk_ORB.txt"
    for suffix in ("json", "npz"):
        out = run(gt, est, "-a", "se3", "--save-results", tmp_path / f"r.{suffix}", "--save-plot", tmp_path / "p.png")
        assert out.exit_code == 0, out.output
        record = load_record(tmp_path / f"r.{suffix}")
        assert record.statistics["rmse"] == pytest.approx(0.008119, abs=5e-7)
        assert record.errors.size == record.timestamps.size > 2000
        assert record.statistics["rmse"] == pytest.approx(float(np.sqrt(np.mean(record.errors ** 2))), rel=1e-12)
    assert (tmp_path / "p.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert run(gt, est, "--save-results", tmp_path / "r.txt").exit_code == 2
