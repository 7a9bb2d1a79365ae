"""``posekit fuse`` on synthetic TUM files: fused per-record trajectories, the evaluation CSV / JSON, flagged
frames dropped, bad input exits with code 2 and a one-line message."""

from __future__ import annotations

import json

import torch
from click.testing import CliRunner

from posekit.cli import cli
from posekit.fusion.inputs import write_relative_csv
from posekit.metrics import Trajectory, read_tum, write_tum
from tests.fusion.synthetic import ground_truth, measurements


def _write_inputs(tmp_path, n=40):
    gt = ground_truth(n)
    absolute, relative = measurements(gt, 1)
    stamps = torch.arange(n, dtype=torch.float64) * 0.5 + 100.0
    write_tum(tmp_path / "abs.tum", Trajectory(absolute.T_world_cam, stamps))
    write_tum(tmp_path / "gt.tum", Trajectory(gt, stamps))
    write_relative_csv(tmp_path / "rel.csv", stamps[:-1], stamps[1:], relative.T_i_j)
    vo = [gt[0]]
    for step in relative.T_i_j:
        vo.append(vo[-1] @ step)
    write_tum(tmp_path / "vo.tum", Trajectory(torch.stack(vo), stamps))
    return gt, absolute, stamps


def _run(args):
    return CliRunner().invoke(cli, ["fuse", *map(str, args)])


def test_fuse_with_ground_truth_writes_evaluation(tmp_path):
    gt, absolute, stamps = _write_inputs(tmp_path)
    for relative_file, out in (("rel.csv", "run_csv"), ("vo.tum", "run_tum")):
        result = _run(["--absolute", tmp_path / "abs.tum", "--relative", tmp_path / relative_file, "--gt",
                       tmp_path / "gt.tum", "--abs-sigma", "0.2,5", "--rel-sigma", "0.01,0.3", "--out",
                       tmp_path / out, "--json"])
        assert result.exit_code == 0, result.output
        summary = json.loads(result.stdout)
        absolute_median = float(torch.linalg.vector_norm(absolute.T_world_cam[:, :3, 3] - gt[:, :3, 3], dim=-1).median())
        assert summary["median_t_m"] < 0.4 * absolute_median
        assert {"median_r_deg", "mean_t_m", "mean_r_deg", "recall_5cm_5deg", "recall_2cm_2deg"} <= set(summary)
        fused = read_tum(tmp_path / out / "eval" / "fused.tum")
        assert torch.equal(fused.timestamps, stamps)
        assert (tmp_path / out / "eval" / "fused.csv").read_text().startswith("name,translation_error_m,rotation_error_deg")
        assert (tmp_path / out / "fusion_frames.csv").exists()
    same = read_tum(tmp_path / "run_csv" / "eval" / "fused.tum").poses
    assert torch.allclose(same, read_tum(tmp_path / "run_tum" / "eval" / "fused.tum").poses, atol=1e-6)


def test_fuse_records_and_failed_frames(tmp_path):
    """A frames CSV splits rows into two records (one TUM each) and drops the absolute factor of failed
    frames: a failed frame with a wild pose does not move the fused trajectory."""
    gt, absolute, stamps = _write_inputs(tmp_path)
    wild = absolute.T_world_cam.clone()
    wild[5, :3, 3] += 50.0
    write_tum(tmp_path / "wild.tum", Trajectory(wild, stamps))
    names = [f"a/{i}" for i in range(20)] + [f"b/{i}" for i in range(20)]
    rows = ["name,success"] + [f"{name},{0 if i == 5 else 1}" for i, name in enumerate(names)]
    (tmp_path / "frames.csv").write_text("\n".join(rows) + "\n")
    common = ["--relative", tmp_path / "vo.tum", "--frames", tmp_path / "frames.csv", "--robust", "none", "--json"]
    result = _run(["--absolute", tmp_path / "wild.tum", "--out", tmp_path / "wild_run", *common])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["frames_without_absolute"] == 1
    assert sorted(p.name for p in (tmp_path / "wild_run" / "eval").glob("*.tum")) == ["fused.a.tum", "fused.b.tum"]
    result = _run(["--absolute", tmp_path / "abs.tum", "--out", tmp_path / "clean_run", *common])
    assert result.exit_code == 0, result.output
    a_wild = read_tum(tmp_path / "wild_run" / "eval" / "fused.a.tum")
    assert torch.allclose(a_wild.poses[:5], read_tum(tmp_path / "clean_run" / "eval" / "fused.a.tum").poses[:5], atol=1e-4)
    # never linked: record b's start is not pulled towards record a's end
    b = read_tum(tmp_path / "wild_run" / "eval" / "fused.b.tum")
    assert len(b) == 20 and torch.equal(b.timestamps, stamps[20:])


def test_fuse_bad_input_exit_code_2(tmp_path):
    _write_inputs(tmp_path)
    stamps = torch.arange(40, dtype=torch.float64) * 0.5 + 100.3  # no common timestamps
    write_tum(tmp_path / "shifted.tum", Trajectory(ground_truth(40), stamps))
    result = _run(["--absolute", tmp_path / "abs.tum", "--relative", tmp_path / "shifted.tum", "--out", tmp_path / "r"])
    assert result.exit_code == 2
    assert "shifted.tum: no frame at timestamp 100.0" in result.output
    result = _run(["--absolute", tmp_path / "abs.tum", "--relative", tmp_path / "rel.csv", "--abs-sigma", "nan,3",
                   "--out", tmp_path / "r"])
    assert result.exit_code == 2 and "--abs-sigma" in result.output
    (tmp_path / "bad.csv").write_text("t_from,t_to,tx,ty,tz,qx,qy,qz,qw\n100,100.5,0,0,0,0,0,0\n")
    result = _run(["--absolute", tmp_path / "abs.tum", "--relative", tmp_path / "bad.csv", "--out", tmp_path / "r"])
    assert result.exit_code == 2 and "bad.csv:2" in result.output


def test_fuse_fills_frames_missing_from_the_absolute_file(tmp_path):
    """An absolute file without frames 10-14 (a localiser that wrote only its successes): those frames are
    fused through the odometry, close to the ground truth."""
    gt, absolute, stamps = _write_inputs(tmp_path)
    keep = (torch.arange(40) < 10) | (torch.arange(40) >= 15)
    write_tum(tmp_path / "gappy.tum", Trajectory(absolute.T_world_cam[keep], stamps[keep]))
    result = _run(["--absolute", tmp_path / "gappy.tum", "--relative", tmp_path / "vo.tum", "--gt", tmp_path / "gt.tum",
                   "--abs-sigma", "0.2,5", "--rel-sigma", "0.01,0.3", "--out", tmp_path / "run", "--json"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["frames"] == 40 and summary["frames_without_absolute"] == 5
    fused = read_tum(tmp_path / "run" / "eval" / "fused.tum")
    errors = torch.linalg.vector_norm(fused.poses[10:15, :3, 3] - gt[10:15, :3, 3], dim=-1)
    assert float(errors.max()) < 0.15  # absolute measurements alone are 0.2 m per axis off
    result = _run(["--absolute", tmp_path / "gappy.tum", "--relative", tmp_path / "vo.tum", "--sigmas-from-residuals",
                   "--out", tmp_path / "run2", "--json"])
    assert result.exit_code == 0, result.output
    assert 0.05 < json.loads(result.stdout)["absolute_sigma_t_m"] < 0.5


def test_fuse_keeps_flagged_frames_that_nothing_links(tmp_path):
    """Frames 10-14 flagged and the relative CSV has no step into, out of or inside them (what
    ``localize --sequence`` writes when neither neighbour is localised): they keep their own poses, are counted
    in ``frames_unanchored`` and marked in fusion_frames.csv; the other frames are fused as usual."""
    gt, absolute, stamps = _write_inputs(tmp_path)
    rows = ["name,success"] + [f"s/{i},{0 if 10 <= i <= 14 else 1}" for i in range(40)]
    (tmp_path / "frames.csv").write_text("\n".join(rows) + "\n")
    steps = measurements(gt, 1)[1].T_i_j
    keep = torch.tensor([not (9 <= m <= 14) for m in range(39)])
    write_relative_csv(tmp_path / "gaps.csv", stamps[:-1][keep], stamps[1:][keep], steps[keep])
    result = _run(["--absolute", tmp_path / "abs.tum", "--relative", tmp_path / "gaps.csv", "--frames",
                   tmp_path / "frames.csv", "--gt", tmp_path / "gt.tum", "--out", tmp_path / "run", "--json"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["frames_unanchored"] == 5 and summary["frames_without_absolute"] == 5
    fused = read_tum(tmp_path / "run" / "eval" / "fused.s.tum").poses
    assert torch.allclose(fused[10:15], absolute.T_world_cam[10:15], atol=1e-6)  # TUM text round trip
    lines = (tmp_path / "run" / "fusion_frames.csv").read_text().splitlines()
    anchored = [line.split(",")[lines[0].split(",").index("anchored")] for line in lines[1:]]
    assert anchored == ["1"] * 10 + ["0"] * 5 + ["1"] * 25
