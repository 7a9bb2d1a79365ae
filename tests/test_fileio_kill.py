"""Kill test for atomic writes (issue 11 item 7): a process killed with SIGKILL while it writes a large
checkpoint leaves, under the final name, either no file or a complete one that loads; the temporary file
it leaves is removed by the next successful write of the same file."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from posekit.fileio import atomic_save

# Writes checkpoints 0, 1, 2, ...; from checkpoint ``pause_at`` on, it says "writing N" with the content
# in the temporary file but not yet moved over the final name, and waits (the moment a kill hurts most).
WRITER = """
import sys, time, torch
from posekit.fileio import atomic_save
path, pause_at = sys.argv[1], int(sys.argv[2])
def save(handle, state):
    torch.save(state, handle)
    if state["step"] >= pause_at:
        print("writing", state["step"], flush=True)
        time.sleep(60)
for step in range(1000):
    state = {"step": step, "weights": torch.full((2_000_000,), float(step))}  # 8 MB
    atomic_save(path, lambda handle: save(handle, state))
    print("wrote", step, flush=True)
"""


def _loaded_step(path: Path) -> int | None:
    """The step of the checkpoint under its final name (checking it is whole), or None if absent."""
    if not path.exists():
        return None
    state = torch.load(path, weights_only=True)
    assert state["weights"].numel() == 2_000_000 and bool((state["weights"] == state["step"]).all())
    return int(state["step"])


def _run_and_kill(path: Path, pause_at: int, delay: float | None) -> None:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path), "OMP_NUM_THREADS": "1"}
    process = subprocess.Popen([sys.executable, "-c", WRITER, str(path), str(pause_at)], env=env,
                               stdout=subprocess.PIPE, text=True)
    try:
        if delay is None:  # kill when the paused write says so
            while not process.stdout.readline().startswith("writing"):
                pass
        else:  # kill at a time that does not know the writer's state
            process.stdout.readline()
            time.sleep(delay)
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=30)
        process.stdout.close()


@pytest.mark.skipif(os.name != "posix", reason="SIGKILL is POSIX")
def test_a_killed_checkpoint_write_leaves_the_old_file_or_none(tmp_path):
    path = tmp_path / "last.ckpt"
    _run_and_kill(path, pause_at=0, delay=None)  # killed during the first write: no file
    assert _loaded_step(path) is None
    _run_and_kill(path, pause_at=2, delay=None)  # killed during the third write: the second one stays
    assert _loaded_step(path) == 1
    temporaries = [p.name for p in tmp_path.iterdir() if p.name.startswith(".last.ckpt.")]
    assert len(temporaries) == 1  # the second killed write left its own (its successful writes removed the first's)
    _run_and_kill(path, pause_at=10**6, delay=0.15)  # killed at some moment of a busy write loop
    assert _loaded_step(path) is not None
    assert not set(temporaries) & {p.name for p in tmp_path.iterdir()}  # its successful writes removed them

    atomic_save(path, lambda handle: torch.save({"step": -1, "weights": torch.full((2_000_000,), -1.0)}, handle))
    assert _loaded_step(path) == -1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["last.ckpt"]
