"""The synthetic pre-training benchmark runs end to end in its quick mode (real frames 0-59, 24 rendered pairs,
one epoch per stage) and every key of its JSON line is named in its docstring."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

from tests.conftest import require_real_data

BENCHMARK = Path(__file__).resolve().parents[2] / "benchmarks" / "bench_relpose_pretrain.py"


def test_quick_mode_prints_the_table_and_a_documented_json_line(tmp_path, capsys):
    data = require_real_data("7scenes_redkitchen_seq01")
    spec = importlib.util.spec_from_file_location("bench_relpose_pretrain", BENCHMARK)
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    summary = bench.main(["--quick", "--data", str(data), "--out", str(tmp_path / "out"),
                          "--cache-dir", str(tmp_path / "cache")])
    lines = capsys.readouterr().out.strip().splitlines()
    assert json.loads(lines[-1]) == json.loads(json.dumps(summary))
    doc = bench.__doc__
    for key, value in summary.items():
        if key.startswith("d") and key[1].isdigit():  # dD_M_t_median_m: D and M are documented
            distance, rest = key[1:].split("_", 1)
            method, metric = rest.rsplit("_", 3)[0], "_".join(rest.rsplit("_", 3)[1:])
            assert distance in doc and f"``{method}``" in doc and metric in ("t_median_m", "r_median_deg"), key
            assert value >= 0
        else:
            assert f"``{key}``" in doc, key
    for method in ("zero", "constant_velocity", "scratch", "pretrained", "finetuned"):
        assert f"d20_{method}_t_median_m" in summary
    for key in ("zero_t_median_m", "zero_r_median_deg", "pretrained_t_median_m", "pretrained_r_median_deg"):
        assert f"``{key}``" in doc and summary["synth_val"][key] > 0
    assert summary["d20_zero_t_median_m"] == summary["rows"]["zero"]["20"]["t_median_m"]
    assert summary["pretrain_seconds"] > 0 and summary["finetune_seconds"] > 0
    assert any(line.startswith("finetuned ") for line in lines)
