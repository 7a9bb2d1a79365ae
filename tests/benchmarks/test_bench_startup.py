"""The start-up and thread benchmarks run (``--quick``) and print their table and JSON line."""

from __future__ import annotations

import json
import subprocess
import sys

from tests.conftest import REPO_ROOT


def _run(script: str) -> tuple[str, dict]:
    out = subprocess.run([sys.executable, str(REPO_ROOT / "benchmarks" / script), "--quick"],
                         check=True, capture_output=True, text=True)
    lines = out.stdout.strip().splitlines()
    return out.stdout, json.loads(lines[-1])


def test_bench_cli_quick_reports_the_commands_and_eval_traj_fits_300_mib():
    text, result = _run("bench_cli.py")
    for name in ("python -c 'import numpy'", "posekit --help", "posekit eval-traj"):
        assert name in text and result[name]["wall_s"] > 0
    # Memory, not time: eval-traj on 4541 poses stays within the 300 MiB.
    assert result["eval_traj_peak_mib"] <= 300


def test_bench_threads_quick_compares_one_and_two_threads():
    text, result = _run("bench_threads.py")
    assert "posenet_step" in text and result["direct_pair"]["ratio"] > 0
