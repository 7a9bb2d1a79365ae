"""Fixtures of the relative-pose and depth training tests: a small synthetic RGB-D sequence with exact ground
truth (rendered once per session), a transform cache in a temporary folder, and the CLI runner helper.

Import the fixtures into a test module explicitly (``from tests.training.relpose_fixtures import synth_sequence,
shared_cache``); the transform cache is session-wide and passed with ``--cache-dir``, never the user's.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from posekit.cli import cli
from posekit.errors import RenderError
from tests.conftest import require_real_data

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


def invoke(*args: str) -> Result:
    """Run ``posekit ARGS`` in-process; the exception (if any) stays attached to the result."""
    return CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=True)


def check_ok(result: Result) -> Result:
    """Assert that a CLI call succeeded, showing its output and exception otherwise."""
    assert result.exit_code == 0, (result.output, repr(result.exception))
    return result
