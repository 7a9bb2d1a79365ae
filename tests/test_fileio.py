"""Atomic writes: the destination is replaced whole or not at all, with normal permissions."""

from __future__ import annotations

import os
import stat

import pytest

from posekit.fileio import atomic_open, atomic_save, atomic_write_bytes, atomic_write_text


def test_write_creates_folders_and_uses_umask_permissions(tmp_path):
    path = tmp_path / "a" / "b" / "poses.txt"
    atomic_write_text(path, "hello\n")
    assert path.read_text() == "hello\n"
    mask = os.umask(0)
    os.umask(mask)
    assert stat.S_IMODE(path.stat().st_mode) == 0o666 & ~mask


def test_failed_write_keeps_the_old_file_and_leaves_no_temporary(tmp_path):
    path = tmp_path / "model.bin"
    atomic_write_bytes(path, b"old")

    def failing(handle):
        handle.write(b"partial")
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError, match="disk full"):
        atomic_save(path, failing)
    assert path.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["model.bin"]


def test_read_modes_are_refused(tmp_path):
    with pytest.raises(ValueError, match="write mode"):
        with atomic_open(tmp_path / "x", "r"):
            pass


def test_stale_temporaries_of_dead_processes_are_removed_on_the_next_write(tmp_path):
    import subprocess
    import sys

    path = tmp_path / "last.ckpt"
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    stale = tmp_path / f".last.ckpt.{int(dead.stdout)}.abc123_x.tmp"
    stale.write_bytes(b"half")
    alive = tmp_path / f".last.ckpt.{os.getppid()}.zz.tmp"  # a running process (our parent): kept
    alive.write_bytes(b"in flight")
    other = tmp_path / f".other.ckpt.{int(dead.stdout)}.abc.tmp"  # another file's temporary: kept
    other.write_bytes(b"x")
    atomic_write_bytes(path, b"whole")
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([path.name, alive.name, other.name])
