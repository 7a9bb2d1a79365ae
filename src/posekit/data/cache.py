"""The on-disk transform cache and the user cache folder.

The deterministic part of loading a frame (decode, depth unit conversion, resize, crop) is cached as one
``torch.save`` file per frame and transform. The key is a SHA-256 of the full transform configuration, the
cache format version and the identity of every source file (absolute path, size, ``mtime_ns``), so a
changed setting or a touched file is a different key and can never be served a stale entry. Entries are
written atomically (:func:`posekit.fileio.atomic_save`), so DataLoader workers can share the cache; a
corrupt entry counts as a miss and is rewritten.

Everything posekit caches lives under the user cache folder: ``$POSEKIT_CACHE_DIR`` if set, else the
platform's user cache directory (``platformdirs.user_cache_dir("posekit")``), never the current directory.
"""

from __future__ import annotations

import hashlib
import json
import os
import pickle
import shutil
from pathlib import Path

import platformdirs
import torch

from posekit.fileio import atomic_save

CACHE_ENV = "POSEKIT_CACHE_DIR"
# Bump when the content or layout of cache entries changes.
CACHE_FORMAT_VERSION = 1


def default_cache_dir() -> Path:
    """``$POSEKIT_CACHE_DIR``, or the platform user cache folder for posekit."""
    override = os.environ.get(CACHE_ENV)
    return Path(override).expanduser().resolve() if override else Path(platformdirs.user_cache_dir("posekit"))


def file_identity(path: str | Path) -> list:
    """``[absolute path, size, mtime_ns]`` of a file (a touched or replaced file gets a new identity).

    Raises:
        FileNotFoundError: the file does not exist.
    """
    resolved = Path(path).resolve()
    stat = resolved.stat()
    return [str(resolved), stat.st_size, stat.st_mtime_ns]


class TransformCache:
    """Cached transform outputs: ``{name: tensor}`` dicts keyed by configuration and source files.

    Args:
        root: cache folder; default ``default_cache_dir() / "transforms"``.

    Example:
        >>> cache = TransformCache(tmp_path)  # doctest: +SKIP
        >>> key = cache.key({"resize": [240, 320]}, [image_path])  # doctest: +SKIP
        >>> cache.load(key) is None  # doctest: +SKIP
        True
    """

    def __init__(self, root: str | Path | None = None):
        self.root = Path(root) if root is not None else default_cache_dir() / "transforms"
        self.hits = 0
        self.misses = 0

    def key(self, config: dict, files: list[str | Path | None]) -> str:
        """Hex key of a transform ``config`` applied to ``files`` (``None`` entries stand for absent files)."""
        identity = {
            "version": CACHE_FORMAT_VERSION,
            "config": config,
            "files": [None if f is None else file_identity(f) for f in files],
        }
        return hashlib.sha256(json.dumps(identity, sort_keys=True).encode("utf-8")).hexdigest()

    def path(self, key: str) -> Path:
        return self.root / key[:2] / f"{key}.pt"

    def load(self, key: str) -> dict[str, torch.Tensor] | None:
        """The cached entry, or ``None`` on a miss (absent or unreadable entry)."""
        path = self.path(key)
        try:
            entry = torch.load(path, map_location="cpu", weights_only=True)
        except FileNotFoundError:
            self.misses += 1
            return None
        except (RuntimeError, EOFError, OSError, ValueError, pickle.UnpicklingError):
            # A truncated or foreign file: a miss; store() replaces it.
            self.misses += 1
            return None
        self.hits += 1
        return entry

    def store(self, key: str, entry: dict[str, torch.Tensor]) -> None:
        """Write an entry atomically."""
        atomic_save(self.path(key), lambda handle: torch.save(entry, handle))

    def clear(self) -> None:
        """Delete every cached entry."""
        if self.root.exists():
            shutil.rmtree(self.root)

    def __repr__(self) -> str:
        return f"TransformCache(root={str(self.root)!r})"
