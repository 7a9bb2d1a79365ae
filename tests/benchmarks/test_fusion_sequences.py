"""``benchmarks/fusion_sequences.py --quick`` runs and prints its table and one JSON line."""

from __future__ import annotations

import json
import runpy
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "fusion_sequences.py"


def test_quick_mode(capsys):
    runpy.run_path(str(SCRIPT), run_name="not_main")["main"](["--quick"])
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[0].startswith("| method")
    rows = {row["method"]: row for row in json.loads(lines[-1])["rows"]}
    assert rows["absolute + relative, PGO (sigmas from residuals)"]["median_t_m"] < 0.5 * rows["absolute alone"]["median_t_m"]
