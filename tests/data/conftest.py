"""Data tests never touch the real user cache: ``POSEKIT_CACHE_DIR`` points into a temporary folder."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def user_cache_dir(tmp_path_factory, monkeypatch):
    """The user cache folder of the test (splits and transform cache)."""
    path = tmp_path_factory.mktemp("posekit-cache")
    monkeypatch.setenv("POSEKIT_CACHE_DIR", str(path))
    return path
