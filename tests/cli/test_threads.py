"""``--threads`` / ``POSEKIT_THREADS``: the choice rule and its application before a heavy command."""

from __future__ import annotations

import torch
from click.testing import CliRunner

from posekit.cli import cli
from posekit.cli.threads import choose_threads, idle_cores


def test_idle_cores_is_one_on_a_busy_machine_and_the_free_cores_otherwise():
    assert idle_cores(2, 3.4) == 1
    assert idle_cores(2, 1.2) == 1
    assert idle_cores(2, 0.1) == 1  # 1.9 free cores: one whole core
    assert idle_cores(2, 0.0) == 2
    assert idle_cores(16, 4.0) == 12
    assert idle_cores(4, -1.0) == 4  # never more than the cores


def test_request_beats_omp_which_beats_the_load_rule(monkeypatch):
    monkeypatch.setenv("OMP_NUM_THREADS", "3")
    assert choose_threads(5) == (5, "--threads / POSEKIT_THREADS")
    assert choose_threads(None) == (3, "OMP_NUM_THREADS")
    monkeypatch.delenv("OMP_NUM_THREADS")
    threads, source = choose_threads(None)
    assert threads >= 1 and source.startswith("idle cores")


def test_heavy_command_sets_and_announces_the_threads(monkeypatch):
    before = torch.get_num_threads()
    for name in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        monkeypatch.setenv(name, "1")  # restored after the test
    try:
        out = CliRunner().invoke(cli, ["--threads", "3", "synth", "--frames", "0"])
        assert "posekit: threads: 3 CPU threads (--threads / POSEKIT_THREADS" in out.output
        assert torch.get_num_threads() == 3
        import os

        assert os.environ["OMP_NUM_THREADS"] == "3"
        out = CliRunner().invoke(cli, ["synth", "--frames", "0"], env={"POSEKIT_THREADS": "2", "OMP_NUM_THREADS": "1"})
        assert "posekit: threads: 2 CPU threads" in out.output and torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(before)


def test_light_commands_and_help_do_not_announce():
    out = CliRunner().invoke(cli, ["--threads", "2", "synth", "--help"])
    assert out.exit_code == 0 and "CPU thread" not in out.output
    out = CliRunner().invoke(cli, ["--threads", "2", "eval-traj", "--help"])
    assert out.exit_code == 0 and "CPU thread" not in out.output


def test_bad_thread_count_is_a_usage_error():
    out = CliRunner().invoke(cli, ["--threads", "0", "synth"])
    assert out.exit_code == 2 and "--threads" in out.output
