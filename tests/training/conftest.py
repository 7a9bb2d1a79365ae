"""Small real datasets for training tests: a few frames of the 7-Scenes excerpt copied into a temporary folder
in the per-frame (``frames``) layout (the private cache folder is the root conftest's ``user_cache_dir``)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.conftest import require_real_data


def copy_frames(destination: Path, frame_indices) -> Path:
    """Copy the given frames of the 7-Scenes excerpt (and its intrinsics) into ``destination/frames``."""
    source = require_real_data("7scenes_redkitchen_seq01")
    (destination / "frames").mkdir(parents=True, exist_ok=True)
    shutil.copy(source / "camera-intrinsics.txt", destination / "camera-intrinsics.txt")
    for i in frame_indices:
        for suffix in ("color.jpg", "depth.png", "pose.txt"):
            name = f"frame-{i:06d}.{suffix}"
            shutil.copy(source / "frames" / name, destination / "frames" / name)
    return destination


@pytest.fixture(scope="session")
def tiny_frames(tmp_path_factory) -> Path:
    """40 consecutive real frames (0-78, every 2nd) in the ``frames`` layout."""
    return copy_frames(tmp_path_factory.mktemp("tiny_frames"), range(0, 80, 2))
