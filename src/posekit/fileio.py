"""Atomic file writing: a reader never sees a half-written file, and a failed write loses nothing.

Every file posekit writes (trajectories, checkpoints, images, reports, caches) goes through these helpers:
the content is written to a temporary file in the destination folder, flushed to disk, then moved over the
destination with :func:`os.replace`, which is atomic on POSIX and Windows.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO


@contextlib.contextmanager
def atomic_open(path: str | Path, mode: str = "w", encoding: str | None = "utf-8") -> Iterator[IO]:
    """Open a temporary file beside ``path`` for writing; on success it replaces ``path`` atomically.

    Example:
        >>> with atomic_open(tmp_path / "poses.txt") as f:  # doctest: +SKIP
        ...     f.write("0 0 0 0 0 0 0 1\\n")
    """
    if "r" in mode or "a" in mode or "+" in mode:
        raise ValueError(f"atomic_open: mode must be a write mode ('w' or 'wb'), got {mode!r}")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        os.chmod(tmp_name, 0o666 & ~_current_umask())  # mkstemp makes 0600; give the usual permissions
        with os.fdopen(fd, mode, encoding=None if "b" in mode else encoding) as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp_name, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp_name)
        raise


def _current_umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def atomic_write_text(path: str | Path, text: str) -> None:
    """Write ``text`` to ``path`` atomically (UTF-8)."""
    with atomic_open(path, "w") as handle:
        handle.write(text)


def atomic_write_bytes(path: str | Path, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically."""
    with atomic_open(path, "wb") as handle:
        handle.write(data)


def atomic_save(path: str | Path, save: Callable[[IO[bytes]], None]) -> None:
    """Call ``save(handle)`` on a binary temporary file and move it over ``path`` when it returns.

    For writers that take a file object, e.g. ``atomic_save(p, lambda f: torch.save(obj, f))``.
    """
    with atomic_open(path, "wb") as handle:
        save(handle)
