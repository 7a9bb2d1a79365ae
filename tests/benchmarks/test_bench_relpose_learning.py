"""The relative-pose learning benchmark runs end to end in its quick mode (real frames 0-59, one epoch, test distances 10 and 20)."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

from tests.conftest import require_real_data

BENCHMARK = Path(__file__).resolve().parents[2] / "benchmarks" / "bench_relpose_learning.py"


def test_quick_mode_prints_the_table_and_the_json_line(tmp_path, capsys):
    data = require_real_data("7scenes_redkitchen_seq01")
    spec = importlib.util.spec_from_file_location("bench_relpose_learning", BENCHMARK)
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    summary = bench.main(["--quick", "--data", str(data), "--out", str(tmp_path / "out"),
                          "--cache-dir", str(tmp_path / "cache"), "--heads", "pooled,correlation"])
    lines = capsys.readouterr().out.strip().splitlines()
    assert json.loads(lines[-1]) == json.loads(json.dumps(summary))
    for d in ("d10_", "d20_"):
        for key in ("network_t_median_m", "network_r_median_deg", "zero_t_median_m", "zero_r_median_deg"):
            assert summary[d + key] >= 0
    assert summary["train_seconds"] > 0
    assert summary["d20_zero_t_median_m"] == summary["rows"]["zero"]["20"]["t_median_m"]
    assert {"zero", "constant_velocity", "pooled", "correlation", "identity+refine", "orb_pnp"} <= set(summary["rows"])
    assert any(line.startswith("zero ") for line in lines)


def test_quick_mode_fine_tunes_the_last_stage(tmp_path, capsys):
    data = require_real_data("7scenes_redkitchen_seq01")
    spec = importlib.util.spec_from_file_location("bench_relpose_learning", BENCHMARK)
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    summary = bench.main(["--quick", "--data", str(data), "--out", str(tmp_path / "out"), "--cache-dir",
                          str(tmp_path / "cache"), "--heads", "correlation", "--fine-tune-stages", "1",
                          "--refine-stride", "0"])
    assert summary["network"] == "correlation_ft1"
    assert {"zero", "constant_velocity", "correlation_ft1"} == set(summary["rows"])
