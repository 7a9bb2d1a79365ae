"""Every benchmark runs in its quick mode (a broken import or argument fails here, not months later) and ends
with one JSON line whose keys its docstring documents."""

from __future__ import annotations

import ast
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO_ROOT, real_data_root

BENCHMARKS = sorted((REPO_ROOT / "benchmarks").glob("bench_*.py"))
# Benchmarks that read the real-data folder (they skip without it, like the tests that need it).
NEEDS_REAL_DATA = {"bench_loader.py": "7scenes_redkitchen_seq01", "bench_relpose.py": "7scenes_redkitchen_seq01"}


def _documented(key: str, docstring: str) -> bool:
    """``key`` is named in the docstring, literally or by a pattern such as ``fps_<WxH>``."""
    if f"``{key}``" in docstring:
        return True
    patterns = re.findall(r"``([^`]*<[^`]*>[^`]*)``", docstring)
    return any(re.fullmatch(re.sub(r"<[^>]*>", ".+", re.escape(p).replace(r"\<", "<").replace(r"\>", ">")), key)
               for p in patterns)


def test_every_benchmark_is_found():
    assert len(BENCHMARKS) >= 5, BENCHMARKS


@pytest.mark.parametrize("script", BENCHMARKS, ids=lambda p: p.name)
def test_quick_mode_runs_and_prints_documented_json(script: Path):
    if script.name in NEEDS_REAL_DATA:
        from tests.conftest import require_real_data

        require_real_data(NEEDS_REAL_DATA[script.name])
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT / "src"), "OMP_NUM_THREADS": "1",
           "POSEKIT_DATA": str(real_data_root())}
    completed = subprocess.run([sys.executable, str(script), "--quick"], capture_output=True, text=True, env=env,
                               cwd=REPO_ROOT, timeout=900, check=False)
    assert completed.returncode == 0, completed.stderr[-3000:]
    result = json.loads(completed.stdout.strip().splitlines()[-1])
    assert isinstance(result, dict) and result
    docstring = ast.get_docstring(ast.parse(script.read_text(encoding="utf-8"))) or ""
    assert "JSON keys" in docstring, f"{script.name}: document the JSON keys in the docstring"
    undocumented = [key for key in result if not _documented(key, docstring)]
    assert not undocumented, f"{script.name}: JSON keys not in the docstring: {undocumented}"
