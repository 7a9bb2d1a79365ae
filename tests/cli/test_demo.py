"""``posekit demo``: the plane demo recovers the known motion, the full demo runs again into its own folder; the
CLI turns posekit errors into exit code 2."""

from __future__ import annotations

import subprocess
import sys

from posekit.demo.plane import run_plane_demo
from tests.conftest import invoke, message_lines


def test_plane_demo_recovers_motion_to_a_millimetre():
    result = run_plane_demo("coffee", width=160, height=120)
    assert result.translation_error_m < 2e-3
    assert result.rotation_error_deg < 0.05
    assert result.error_after < 0.05 * result.error_before


def test_demo_command_prints_the_table():
    out = invoke(*["demo", "plane", "--size", "120x160"])
    assert out.exit_code == 0, out.output
    assert "recovered" in out.output and "pose error" in out.output


def test_bad_size_is_a_usage_error():
    out = invoke(*["demo", "plane", "--size", "big"])
    assert out.exit_code == 2
    lines = message_lines(out)
    assert len(lines) == 1 and "expected a size HxW" in lines[0]


def test_python_dash_m_posekit_runs():
    completed = subprocess.run([sys.executable, "-m", "posekit", "--version"], capture_output=True, text=True, check=False)
    assert completed.returncode == 0, completed.stderr
    assert "posekit" in completed.stdout


def test_demo_runs_twice_in_the_same_folder(tmp_path):
    out = tmp_path / "demo"
    first = invoke(*["demo", "--quick", "--no-progress", "--out", str(out)])
    assert first.exit_code == 0, first.output
    report = out / "report.html"
    assert report.is_file() and "re-using" not in first.output
    (out / "posenet" / "stale.txt").write_text("from the first run")
    second = invoke(*["demo", "--quick", "--no-progress", "--out", str(out)])
    assert second.exit_code == 0, second.output
    assert "re-using the scene rendered by an earlier demo" in second.output
    assert not (out / "posenet" / "stale.txt").exists(), "the earlier demo's results are replaced"
    assert report.is_file() and (out / "eval" / "posenet.json").is_file()
    assert [p.name for p in (out / "posenet" / "logs" / "posenet").iterdir()] == ["version_0"]


def test_demo_refuses_a_folder_that_is_not_its_own(tmp_path):
    (tmp_path / "notes.txt").write_text("mine")
    result = invoke(*["demo", "--quick", "--out", str(tmp_path)])
    assert result.exit_code == 2 and "not a posekit demo's output" in result.output
    assert [p.name for p in tmp_path.iterdir()] == ["notes.txt"]


def test_demo_renders_again_when_the_scene_settings_change(tmp_path):
    from posekit.demo.pipeline import DEMO_MARKER, DemoConfig, _synth_config, prepare_run_folder

    config = DemoConfig.quick(out=tmp_path)
    assert prepare_run_folder(tmp_path, _synth_config(config)) is False  # empty: a new demo
    (tmp_path / "data").mkdir()
    (tmp_path / DEMO_MARKER).write_text('{"synth": {"frames": 999}}')
    assert prepare_run_folder(tmp_path, _synth_config(config)) is False
    assert list(tmp_path.iterdir()) == [], "another scene: everything of the earlier demo is removed"
