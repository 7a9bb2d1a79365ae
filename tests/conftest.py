"""Shared fixtures. Real data is found through ``POSEKIT_DATA`` (default ``../shared/data`` beside the repo).

Tests that need it skip with a reason when it is absent, except under ``CI=true``, where absence fails.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]


def real_data_root() -> Path:
    """The real-data folder: ``$POSEKIT_DATA`` or ``<repo>/../shared/data``."""
    return Path(os.environ.get("POSEKIT_DATA", REPO_ROOT.parent / "shared" / "data")).resolve()


def require_real_data(relative: str) -> Path:
    """Path of ``relative`` inside the real-data folder; skip (fail under CI=true) if it is missing."""
    path = real_data_root() / relative
    if not path.exists():
        message = f"real data not found: {path} (set POSEKIT_DATA to the shared data folder)"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message)
        pytest.skip(message)
    return path


@pytest.fixture
def sevenscenes_dir() -> Path:
    """``7scenes_redkitchen_seq01``: 534 real RGB-D frames with poses (frames/ and camera-intrinsics.txt)."""
    return require_real_data("7scenes_redkitchen_seq01")


@pytest.fixture
def kitti_dir() -> Path:
    """``kitti_odometry``: KITTI seq 06 and 01 excerpts (51 frames each)."""
    return require_real_data("kitti_odometry")


@pytest.fixture
def trajectories_dir() -> Path:
    """``trajectories``: evo test data, kitti-odom-eval results, 7-Scenes relocalisation estimates."""
    return require_real_data("trajectories")
