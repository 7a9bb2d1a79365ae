"""``benchmarks/bench_localize.py --quick`` runs and ends with its JSON line."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from tests.conftest import REPO_ROOT, require_real_data


def test_bench_localize_quick():
    data = require_real_data("7scenes_redkitchen_seq01")
    env = dict(os.environ, PYTHONPATH=str(REPO_ROOT / "src") + os.pathsep + os.environ.get("PYTHONPATH", ""),
               OMP_NUM_THREADS="1")
    out = subprocess.run([sys.executable, str(REPO_ROOT / "benchmarks" / "bench_localize.py"), "--quick", "--data",
                          str(data)], capture_output=True, text=True, env=env, timeout=600, check=True)
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result["frames"] == 2 and result["reference_pnp_s"] > 0 and result["refinement_s"] > 0
    assert set(result) >= {"init_s", "pnp_s", "align_s", "render_s", "refinement_over_reference", "refinement_fps",
                           "previous_refinement_s", "speedup_over_previous", "median_pose_change_cm"}
    assert result["previous_refinement_s"] > 0 and result["median_pose_change_cm"] >= 0
