"""``posekit eval-traj``: JSON keys, the table, evo's numbers on real files, exit code 2 on bad input."""

from __future__ import annotations

import json
import math

import pytest
import torch
from click.testing import CliRunner

from posekit.cli import cli
from posekit.geometry import axis_angle_to_matrix, make_pose
from posekit.metrics import Trajectory, write_tum

STAT_KEYS = ["rmse", "mean", "median", "std", "min", "max", "sse"]


def run(*args: str):
    return CliRunner().invoke(cli, ["eval-traj", *map(str, args)])


@pytest.fixture
def tum_pair(tmp_path):
    """A TUM ground truth and an estimate 0.1 m off in x, with timestamps 2 ms apart."""
    n = 50
    generator = torch.Generator().manual_seed(0)
    omega = 0.3 * torch.rand(n, 3, generator=generator, dtype=torch.float64)
    positions = torch.cumsum(0.1 * torch.rand(n, 3, generator=generator, dtype=torch.float64), dim=0)
    times = 100.0 + 0.1 * torch.arange(n, dtype=torch.float64)
    gt = Trajectory(make_pose(axis_angle_to_matrix(omega), positions), times)
    shifted = positions + torch.tensor([0.1, 0.0, 0.0], dtype=torch.float64)
    est = Trajectory(make_pose(axis_angle_to_matrix(omega), shifted), times + 0.002)
    write_tum(tmp_path / "gt.txt", gt)
    write_tum(tmp_path / "est.txt", est)
    return tmp_path / "gt.txt", tmp_path / "est.txt"


def test_json_has_exactly_the_statistics_keys(tum_pair):
    out = run(*tum_pair, "--json")
    assert out.exit_code == 0, out.output
    stats = json.loads(out.stdout)
    assert list(stats) == STAT_KEYS
    assert stats["rmse"] == pytest.approx(0.1) and stats["std"] == pytest.approx(0.0, abs=1e-12)
    aligned = json.loads(run(*tum_pair, "--align", "se3", "--json").stdout)
    assert aligned["max"] == pytest.approx(0.0, abs=1e-9)
    rpe = json.loads(run(*tum_pair, "--metric", "rpe", "--delta", "2", "--rotation", "--json").stdout)
    assert rpe["max"] == pytest.approx(0.0, abs=1e-6)


def test_table_lists_every_statistic(tum_pair):
    out = run(*tum_pair, "--metric", "rpe", "--delta", "0.2", "--delta-unit", "m", "--all-pairs")
    assert out.exit_code == 0, out.output
    lines = out.output.strip().splitlines()
    assert lines[0].startswith("RPE w.r.t. translation part")
    assert [line.split()[0] for line in lines[1:]] == STAT_KEYS


def test_malformed_file_exits_2_naming_file_and_line(tum_pair, tmp_path):
    bad = tmp_path / "bad.txt"
    bad.write_text("# header\n1.0 0 0 0 0 0 0 1\n1.1 0 0 0 0 0\n")
    out = run(bad, tum_pair[1])
    assert out.exit_code == 2
    assert f"{bad}:3:" in out.output and "expected 8 values" in out.output


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--metric", "rpe", "--delta", "1.5"], "integer number of frames"),
        (["--max-diff", "0.001"], "no matching timestamps"),  # the stamps are 2 ms apart
        (["--align", "affine"], "'--align': 'affine' is not one of"),  # click's usage error
    ],
)
def test_bad_options_exit_2(tum_pair, extra, message):
    out = run(*tum_pair, *extra)
    assert out.exit_code == 2
    assert message in out.output


def test_missing_file_exits_2(tum_pair, tmp_path):
    out = run(tmp_path / "missing.txt", tum_pair[1])
    assert out.exit_code == 2
    assert "missing.txt: file not found" in out.output


def test_kitti_00_orb_ape_matches_evo(trajectories_dir):
    evo = trajectories_dir / "evo_test_data"
    out = run(evo / "KITTI_00_gt.txt", evo / "KITTI_00_ORB.txt", "--format", "kitti", "--align", "se3", "--json")
    assert out.exit_code == 0, out.output
    stats = json.loads(out.stdout)
    assert stats["rmse"] == pytest.approx(1.303450, abs=5e-7)
    assert stats["sse"] == pytest.approx(7715.073440, abs=5e-7)


def test_euroc_reads_the_csv_ground_truth_and_a_tum_estimate(trajectories_dir):
    evo = trajectories_dir / "evo_test_data"
    out = run(evo / "V102_groundtruth.csv", evo / "V102.txt", "--format", "euroc", "--align", "se3", "--json")
    assert out.exit_code == 0, out.output
    assert json.loads(out.stdout)["rmse"] == pytest.approx(0.091727, abs=5e-7)



def test_non_finite_delta_is_a_one_line_error(tum_pair):
    for delta, unit in (("inf", "f"), ("1e30", "f"), ("nan", "m"), ("inf", "m")):
        result = run(*tum_pair, "--metric", "rpe", "--delta", delta, "--delta-unit", unit)
        assert result.exit_code == 2, (delta, unit, result.output)
        assert result.output.startswith("posekit: error:") and result.output.count("\n") == 1


def test_statistics_that_overflow_are_refused_not_printed_as_infinity(tmp_path):
    times = 1.0 + torch.arange(3, dtype=torch.float64)
    rotations = torch.eye(3, dtype=torch.float64).expand(3, 3, 3)
    far = torch.tensor([[0.0, 0.0, 0.0], [9e11, 0.0, 0.0], [-9e11, 0.0, 0.0]], dtype=torch.float64)
    write_tum(tmp_path / "gt.txt", Trajectory(make_pose(rotations, torch.zeros(3, 3, dtype=torch.float64)), times))
    write_tum(tmp_path / "est.txt", Trajectory(make_pose(rotations, far), times))
    result = run(tmp_path / "gt.txt", tmp_path / "est.txt", "--json")
    if result.exit_code == 0:  # sse = 1.6e24 is finite: the JSON must parse with finite numbers only
        assert all(map(math.isfinite, json.loads(result.stdout).values()))
    else:
        assert result.exit_code == 2 and result.output.startswith("posekit: error:")


def test_timestamps_option_chooses_the_accepted_order(tum_pair, tmp_path):
    """A repeated estimate timestamp is kept by default (as evo reads it), refused with --timestamps strict
    (naming file and line); timestamps that go back are refused unless --timestamps sort."""
    gt, est = tum_pair
    lines = est.read_text().splitlines()
    stamp = lines[5].split()[0]
    repeated = lines[:6] + [" ".join([stamp, *lines[6].split()[1:]])] + lines[7:]
    (tmp_path / "repeat.txt").write_text("\n".join(repeated) + "\n")
    assert run(gt, tmp_path / "repeat.txt", "--json").exit_code == 0
    strict = run(gt, tmp_path / "repeat.txt", "--timestamps", "strict", "--json")
    assert strict.exit_code == 2 and "repeat.txt:" in strict.output
    swapped = lines[:5] + [lines[6], lines[5]] + lines[7:]
    (tmp_path / "swapped.txt").write_text("\n".join(swapped) + "\n")
    assert run(gt, tmp_path / "swapped.txt", "--json").exit_code == 2
    sorted_run = run(gt, tmp_path / "swapped.txt", "--timestamps", "sort", "--json")
    assert sorted_run.exit_code == 0, sorted_run.output
    assert json.loads(sorted_run.stdout)["rmse"] == pytest.approx(json.loads(run(gt, est, "--json").stdout)["rmse"], abs=1e-9)
