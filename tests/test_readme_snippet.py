"""The README's "In Python" snippet runs as written on the shared real data (``../shared/data``, or
``POSEKIT_DATA`` substituted for it) and its estimates land within 2 cm of the ground truth."""

from __future__ import annotations

import os
import re
import subprocess
import sys

from tests.conftest import REPO_ROOT, require_real_data


def readme_snippet() -> str:
    text = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("## In Python", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```python\n(.*?)```", section, flags=re.S)
    assert len(blocks) == 1, "the In Python section should hold one python block"
    return blocks[0]


def test_readme_python_snippet_runs_on_real_data(tmp_path):
    data = require_real_data("7scenes_redkitchen_seq01").parent
    code = readme_snippet()
    assert "../shared/data" in code
    script = tmp_path / "snippet.py"
    script.write_text(code.replace("../shared/data", str(data)), encoding="utf-8")
    env = dict(os.environ, PYTHONPATH=str(REPO_ROOT / "src"), OMP_NUM_THREADS="1")
    out = subprocess.run([sys.executable, str(script)], cwd=REPO_ROOT, env=env, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    lines = out.stdout.strip().splitlines()
    assert lines[0].startswith("DirectAlignmentResult(1 pair") and "tensor" not in out.stdout
    assert lines[1].startswith("FeaturePoseResult(success=True")
    for line in lines[2:]:
        millimetres = float(line.split(": ")[1].split()[0])
        assert millimetres < 20.0, line
