"""Depth training end to end (CLI, evaluation, learning) and "depth features for pose": a frozen depth encoder
tapped at a level under trained pose heads, compared with frozen ImageNet-style features."""

from __future__ import annotations

import json

import lightning as L
import pytest
import torch

from posekit.errors import CheckpointError
from posekit.training.config import config_to_dict, resolve_config
from posekit.training.checkpoints import KIND_KEY, export_model
from posekit.training.depth import KIND as DEPTH_KIND
from posekit.training.depth import DepthModule, DepthTrainConfig, load_depth_model
from posekit.training.relpose import RelativePoseModule, RelativePoseTrainConfig, load_relpose
from tests.conftest import SYNTH_SIZE, TEST_FRAMES, TRAIN_FRAMES, check_ok, invoke

def _initial_module(config: RelativePoseTrainConfig) -> RelativePoseModule:
    """The module as ``train_relpose`` builds it before training (seeded the same way)."""
    L.seed_everything(config.seed, verbose=False)
    return RelativePoseModule(config_to_dict(config)).eval()


DEPTH_KEYS = {"abs_rel", "sq_rel", "rmse", "rmse_log", "delta1", "delta2", "delta3"}


def _depth_args(data, cache, out, *extra):
    return ["train", "depth", *data.options(), "--train-frames", TRAIN_FRAMES, "--test-frames", TEST_FRAMES,
            "--image-size", SYNTH_SIZE, "--backbone", "resnet18", "--no-pretrained", "--batch-size", "4",
            "--no-progress", "--cache-dir", str(cache), "--out", str(out), *extra]


@pytest.fixture(scope="module")
def depth_run(synth_sequence, shared_cache, tmp_path_factory):
    """A depth network trained for 2 epochs (12 steps) with the scale-invariant log loss."""
    run = tmp_path_factory.mktemp("depth_run")
    check_ok(invoke(*_depth_args(synth_sequence, shared_cache, run, "--max-epochs", "2", "--loss", "silog",
                                 "--lr", "1e-3")))
    return run


def _eval_depth(data, cache, run) -> dict:
    result = check_ok(invoke("eval", "depth", "--model", run / "model.safetensors", *data.options(),
                             "--cache-dir", cache, "--json"))
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_depth_training_writes_the_run_folder_and_evaluates(depth_run, synth_sequence, shared_cache):
    for name in ("config.yaml", "model.safetensors", "checkpoints/last.ckpt"):
        assert (depth_run / name).is_file(), name
    assert not (depth_run / "checkpoints" / "best.ckpt").exists()  # the last checkpoint only, by default
    config = resolve_config(DepthTrainConfig, depth_run / "config.yaml", {})
    assert config.loss.value == "silog" and config.test_frames == TEST_FRAMES
    summary = _eval_depth(synth_sequence, shared_cache, depth_run)
    assert DEPTH_KEYS <= set(summary) and {f"median_scaled_{k}" for k in DEPTH_KEYS} <= set(summary)
    assert summary["images"] == 16 and summary["frames"] == 16 and summary["held_out"] == f"frames {TEST_FRAMES}"
    assert summary["median_scaled_median_scaling"] is True and summary["median_scaling"] is False
    assert json.loads((depth_run / "eval" / "depth.json").read_text())["abs_rel"] == summary["abs_rel"]


def test_depth_training_learns(synth_sequence, shared_cache, tmp_path):
    """Real learning: held-out AbsRel after 6 epochs of masked L1 is well below that of the untrained network."""
    trained = tmp_path / "trained"
    check_ok(invoke(*_depth_args(synth_sequence, shared_cache, trained, "--max-epochs", "6", "--lr", "1e-3",
                                 "--decoder", "bilinear")))
    # the same network as initialised before training (--max-epochs 0 is refused: it would export it as trained)
    config = resolve_config(DepthTrainConfig, trained / "config.yaml", {})
    L.seed_everything(config.seed, workers=True, verbose=False)
    initial = DepthModule(config_to_dict(config))
    untrained = tmp_path / "untrained"
    export_model(untrained / "model.safetensors", DEPTH_KIND, initial.state_dict(),
                 {k: v for k, v in initial.hparams.items() if k != KIND_KEY})
    before = _eval_depth(synth_sequence, shared_cache, untrained)["abs_rel"]
    after = _eval_depth(synth_sequence, shared_cache, trained)["abs_rel"]
    assert after < 0.6 * before, (before, after)


def test_depth_features_for_pose(depth_run, synth_sequence, shared_cache, tmp_path):
    """Pose heads on the frozen depth encoder tapped at level 3: the encoder stays exactly the depth model's."""
    run = tmp_path / "pose_on_depth"
    check_ok(invoke("train", "relpose", *synth_sequence.options(), "--train-frames", TRAIN_FRAMES, "--test-frames",
                    TEST_FRAMES, "--image-size", SYNTH_SIZE, "--depth-encoder", depth_run / "model.safetensors",
                    "--feature-level", "3", "--hidden", "32", "--batch-size", "4", "--max-steps", "4", "--distance", "2",
                    "--lr", "1e-2", "--no-progress", "--cache-dir", shared_cache, "--out", run))
    config = resolve_config(RelativePoseTrainConfig, run / "config.yaml", {})
    assert config.backbone.value == "resnet18"  # taken from the depth model
    pose = load_relpose(run / "model.safetensors")
    depth = load_depth_model(depth_run / "model.safetensors")
    assert pose.pose_net.feature_level == 3 and pose.pose_net.backbone.frozen
    depth_state = depth.model.encoder.state_dict()
    for name, value in pose.pose_net.backbone.state_dict().items():
        torch.testing.assert_close(value, depth_state[name], rtol=0, atol=0, msg=name)
    # the heads did train: their weights moved away from the initial ones (same seed, same construction)
    initial = _initial_module(config)
    moved = [not torch.equal(a, b) for a, b in zip(pose.pose_net.pose_head.parameters(), initial.pose_net.pose_head.parameters())]
    assert all(moved)


def test_frozen_backbone_comparison_keeps_the_backbone(synth_sequence, shared_cache, tmp_path):
    """The comparison run: the same heads on a frozen backbone of the configured kind (ImageNet by default)."""
    run = tmp_path / "frozen"
    check_ok(invoke("train", "relpose", *synth_sequence.options(), "--train-frames", TRAIN_FRAMES, "--test-frames",
                    TEST_FRAMES, "--image-size", SYNTH_SIZE, "--backbone", "resnet18", "--no-pretrained",
                    "--freeze-backbone", "--feature-level", "3", "--hidden", "32", "--batch-size", "4", "--max-steps", "3",
                    "--distance", "2", "--lr", "1e-2", "--no-progress", "--cache-dir", shared_cache, "--out", run))
    trained = load_relpose(run / "model.safetensors")
    initial = _initial_module(resolve_config(RelativePoseTrainConfig, run / "config.yaml", {}))
    assert trained.pose_net.backbone.frozen and trained.pose_net.feature_level == 3
    start = initial.pose_net.backbone.state_dict()
    for name, value in trained.pose_net.backbone.state_dict().items():  # weights and BatchNorm statistics
        torch.testing.assert_close(value, start[name], rtol=0, atol=0, msg=name)
    assert not torch.equal(trained.pose_net.pose_head[0].weight, initial.pose_net.pose_head[0].weight)


def test_depth_model_refuses_a_relpose_checkpoint(synth_sequence, shared_cache, tmp_path):
    run = tmp_path / "relpose"
    check_ok(invoke("train", "relpose", *synth_sequence.options(), "--train-frames", TRAIN_FRAMES, "--test-frames",
                    TEST_FRAMES, "--image-size", SYNTH_SIZE, "--backbone", "resnet18", "--no-pretrained", "--hidden", "8",
                    "--max-steps", "1", "--no-progress", "--cache-dir", shared_cache, "--out", run))
    with pytest.raises(CheckpointError, match="expected a 'depth' model, found a 'relpose' model"):
        load_depth_model(run / "model.safetensors")
    result = invoke("eval", "depth", "--model", run / "model.safetensors", *synth_sequence.options())
    assert result.exit_code == 2 and "expected a 'depth' model" in result.output
