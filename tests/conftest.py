"""Shared fixtures and the one CLI helper of the tests.

- Real data is found through ``POSEKIT_DATA`` (default ``../shared/data`` beside the repo). Tests that need it
  skip with a reason when it is absent, except under ``CI=true``, where absence fails.
- No test touches the user's cache folder: ``POSEKIT_CACHE_DIR`` points into a temporary folder (autouse).
- :func:`invoke` runs ``posekit ARGS`` in-process (the same group as the console script: posekit errors become
  one line and exit code 2); :func:`check_ok` asserts success.
- :func:`synth_sequence`: a small rendered RGB-D sequence with exact poses, once per session; ``shared_cache``:
  a transform cache shared by the tests of a session (pass it with ``--cache-dir``).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

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


@pytest.fixture(scope="session")
def small_map(tmp_path_factory):
    """The small real map of ``tests/mapping/small_map.py`` (7-Scenes frames 0-39), built once for the session:
    the mapping, localisation and report tests only read it."""
    from tests.mapping.small_map import build_small_map

    return build_small_map(require_real_data("7scenes_redkitchen_seq01"), tmp_path_factory.mktemp("small_map"))


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


@pytest.fixture(autouse=True)
def user_cache_dir(tmp_path_factory, monkeypatch) -> Path:
    """The user cache folder of the test (splits and transform cache): a temporary one, never the user's."""
    path = tmp_path_factory.mktemp("posekit-cache")
    monkeypatch.setenv("POSEKIT_CACHE_DIR", str(path))
    return path


def invoke(*args) -> Result:
    """Run ``posekit ARGS`` in-process (arguments may be paths or numbers); the exception, if any, stays
    attached to the result."""
    from posekit.cli import cli

    return CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=True)


def message_lines(result: Result) -> list[str]:
    """The lines a CLI call printed, less the one status line of a heavy command (its CPU threads)."""
    from posekit.cli.threads import ANNOUNCEMENT_PREFIX

    return [line for line in result.output.splitlines() if not line.startswith(ANNOUNCEMENT_PREFIX)]


def check_ok(result: Result) -> Result:
    """Assert that a CLI call succeeded, showing its output and exception otherwise."""
    assert result.exit_code == 0, (result.output, repr(result.exception))
    return result


# The synthetic sequence: 40 frames of 96 x 64 pixels (the depth networks need multiples of 32).
SYNTH_FRAMES = 40
SYNTH_SIZE = "64x96"
TRAIN_FRAMES = "0-23"
TEST_FRAMES = "24-39"


@dataclass(frozen=True)
class SequenceData:
    """A dataset folder and how to read it: ``--dataset FORMAT --data ROOT``."""

    format: str
    root: Path

    def options(self) -> list[str]:
        return ["--dataset", self.format, "--data", str(self.root)]


@pytest.fixture(scope="session")
def synth_sequence(tmp_path_factory) -> SequenceData:
    """A rendered room sequence (7-Scenes layout); where no headless OpenGL is available, the real 7-Scenes
    excerpt (``frames`` layout) instead, resized by the tests' ``--image-size``."""
    from posekit.data.synth import SynthConfig, synthesize
    from posekit.errors import RenderError

    root = tmp_path_factory.mktemp("synth_room")
    try:
        synthesize(SynthConfig(frames=SYNTH_FRAMES, width=96, height=64, seed=3), root)
    except RenderError:
        return SequenceData("frames", require_real_data("7scenes_redkitchen_seq01"))
    return SequenceData("7scenes", root)


@pytest.fixture(scope="session")
def shared_cache(tmp_path_factory) -> Path:
    """A transform cache shared by the tests of a session (never the user's cache folder)."""
    return tmp_path_factory.mktemp("posekit_cache")
