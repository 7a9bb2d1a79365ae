"""``posekit eval relpose`` on held-out blocks: one trajectory file per segment, as estimated, and the
zero-motion / constant-velocity baselines beside the method."""

from __future__ import annotations

import json

import pytest

from posekit.metrics.trajectory_files import read_tum
from tests.conftest import SYNTH_SIZE, check_ok, invoke


def test_relpose_writes_one_unaligned_trajectory_per_held_out_block(synth_sequence, shared_cache, tmp_path):  # noqa: F811
    out = tmp_path / "run"
    result = check_ok(invoke("eval", "relpose", *synth_sequence.options(), "--method", "identity", "--split", "blocks:5:4",
                             "--distances", "1", "--image-size", SYNTH_SIZE, "--cache-dir", shared_cache,
                             "--out", out, "--json"))
    summary = json.loads(next(line for line in result.output.splitlines() if line.startswith("{")))["identity"]
    assert summary["trajectory_segments"] == 2 and len(summary["trajectories"]) == 2
    assert summary["pairs"] == summary["frames"] - 2  # no pair joins the two blocks
    assert not (out / "eval" / "identity.tum").exists()  # never one file across blocks
    for segment, name in summary["trajectories"].items():
        estimate = read_tum(out / "eval" / name)
        assert ".from-" in segment and bool((estimate.positions == estimate.positions[0]).all())  # zero motion, unaligned
    assert set(summary["baselines"]) == {"zero_motion", "constant_velocity_oracle"}
    # the identity method is the zero-motion baseline (its ground truth went through a float32 batch)
    assert summary["baselines"]["zero_motion"]["rpe_t_median_m"] == pytest.approx(summary["rpe_t_median_m"], rel=1e-6)
