"""The ``head`` option of ``posekit train relpose``: a spatial or correlation head is trained, saved with the model
and rebuilt by ``posekit eval relpose``."""

from __future__ import annotations

import json

import pytest

from posekit.models import PoseHeadKind
from posekit.training.relpose import load_relpose
from tests.conftest import SYNTH_SIZE, TEST_FRAMES, TRAIN_FRAMES, check_ok, invoke


@pytest.mark.parametrize("head", ["spatial", "correlation"])
def test_a_spatial_head_trains_saves_and_evaluates_through_the_cli(synth_sequence, shared_cache, tmp_path, head):
    run = tmp_path / head
    check_ok(invoke("train", "relpose", *synth_sequence.options(), "--train-frames", TRAIN_FRAMES, "--test-frames",
                    TEST_FRAMES, "--image-size", SYNTH_SIZE, "--backbone", "resnet18", "--no-pretrained", "--hidden",
                    "16", "--batch-size", "4", "--max-steps", "2", "--distance", "2", "--head", head,
                    "--feature-level", "3", "--no-progress", "--cache-dir", str(shared_cache), "--out", str(run)))
    model = load_relpose(run / "model.safetensors")
    assert model.config.head is PoseHeadKind(head) and model.pose_net.map_head is not None
    result = check_ok(invoke("eval", "relpose", "--checkpoint", run / "model.safetensors", *synth_sequence.options(),
                             "--distances", "2", "--cache-dir", shared_cache, "--json"))
    summary = json.loads(result.stdout.strip().splitlines()[-1])["network"]
    assert summary["pairs"] > 0 and summary["rpe_t_median_m"] >= 0
