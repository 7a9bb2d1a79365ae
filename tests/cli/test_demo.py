"""``posekit demo`` recovers the known motion; the CLI turns posekit errors into exit code 2."""

from __future__ import annotations

import subprocess
import sys

from click.testing import CliRunner

from posekit.cli import cli
from posekit.demo.plane import run_plane_demo


def test_plane_demo_recovers_motion_to_a_millimetre():
    result = run_plane_demo("coffee", width=160, height=120)
    assert result.translation_error_m < 2e-3
    assert result.rotation_error_deg < 0.05
    assert result.error_after < 0.05 * result.error_before


def test_demo_command_prints_the_table():
    out = CliRunner().invoke(cli, ["demo", "plane", "--size", "120x160"])
    assert out.exit_code == 0, out.output
    assert "recovered" in out.output and "pose error" in out.output


def test_bad_size_is_a_usage_error():
    out = CliRunner().invoke(cli, ["demo", "plane", "--size", "big"])
    assert out.exit_code == 2
    assert "expected a size HxW" in out.output and out.output.count("\n") == 1


def test_python_dash_m_posekit_runs():
    completed = subprocess.run([sys.executable, "-m", "posekit", "--version"], capture_output=True, text=True, check=False)
    assert completed.returncode == 0, completed.stderr
    assert "posekit" in completed.stdout
