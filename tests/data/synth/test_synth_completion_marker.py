"""The synth writers' completion marker: an interrupted output is detected by ``data check``, a finished one
passes, and a re-run over a finished folder is incomplete until it ends."""

from __future__ import annotations

import numpy as np
import pytest

from posekit.data.formats import scan_dataset
from posekit.data.synth.writers import SyntheticFrame, write_7scenes, write_tum_rgbd
from posekit.data.verify import SYNTH_COMPLETE_MARKER, SYNTH_INCOMPLETE_MARKER
from posekit.geometry import PinholeIntrinsics

K = PinholeIntrinsics(30.5, 31.0, 9.5, 7.25, 20, 15)


def _frames(n: int, fail_at: int | None = None):
    rng = np.random.default_rng(0)
    for k in range(n):
        if k == fail_at:
            raise KeyboardInterrupt  # the user pressed ^C (or the renderer died) mid-sequence
        pose = np.eye(4)
        pose[:3, 3] = (0.1 * k, 0.0, 0.0)
        depth = np.full((15, 20), 2.0, np.float32)
        yield SyntheticFrame(k, round(1.0 + k / 30, 6), rng.integers(0, 256, (15, 20, 3), dtype=np.uint8), depth, pose)


@pytest.mark.parametrize(("writer", "fmt"), [(write_7scenes, "7scenes"), (write_tum_rgbd, "tum")])
def test_interrupted_output_is_detected_and_a_finished_one_passes(tmp_path, writer, fmt):
    kwargs = {"test_sequences": (1,)} if fmt == "7scenes" else {}
    sequences = [_frames(4), _frames(3)] if fmt == "7scenes" else [_frames(4)]
    assert writer(tmp_path, sequences, K, workers=2, **kwargs) == ([4, 3] if fmt == "7scenes" else [4])
    assert (tmp_path / SYNTH_COMPLETE_MARKER).is_file() and not (tmp_path / SYNTH_INCOMPLETE_MARKER).exists()
    frames, problems = scan_dataset(fmt, tmp_path)
    assert not problems, [str(p) for p in problems]

    interrupted = [_frames(4, fail_at=2), _frames(3)] if fmt == "7scenes" else [_frames(4, fail_at=2)]
    with pytest.raises(KeyboardInterrupt):
        writer(tmp_path, interrupted, K, workers=2, **kwargs)
    assert not (tmp_path / SYNTH_COMPLETE_MARKER).exists()
    _, problems = scan_dataset(fmt, tmp_path)
    assert any("interrupted `posekit synth` output" in str(p) for p in problems)
