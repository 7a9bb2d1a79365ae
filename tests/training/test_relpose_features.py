"""Head training on cached features: the run exports an ordinary relative-pose model whose head and frozen
encoder, loaded back by ``load_relpose``, give on images what the trained head gave on the cached maps; the
pairs stay inside their frame ranges; training lowers the loss."""

from __future__ import annotations

import lightning as L
import pytest
import torch

from posekit.errors import ConfigError
from posekit.losses.pose import RelativePoseLoss
from posekit.models import PoseHeadKind
from posekit.training.frame_data import FrameRange
from posekit.training.checkpoints import load_model_file
from posekit.training.relpose import KIND, load_relpose
from posekit.training.relpose_features import (
    CachedFeaturePoseModule,
    FeaturePairsDataModule,
    FeatureTrainConfig,
    frame_pairs,
    head_input_sequence,
    sequence_frames,
    sequence_transform,
    train_on_cached_features,
)
from posekit.evaluation.relative_features import evaluate_held_out, network_estimates, held_out_pairs
from posekit.data.loader import FrameLoader


def _config(data, tmp_path, head, **overrides) -> FeatureTrainConfig:
    options = dict(dataset="frames", data=str(data), train_frames="0-49", val_frames="50-63", image_size=(64, 96),
                   backbone="resnet18", pretrained=False, feature_level=3, head=head, hidden=(32,),
                   distances=(1, 2, 3), val_distances=(2,), pairs_per_epoch=64, batch_size=16, max_epochs=2,
                   out=str(tmp_path / f"run_{head}"), cache_dir=str(tmp_path / "cache"), lr=1e-3)
    options.update(overrides)
    return FeatureTrainConfig(**options)


def test_config_rejects_overlapping_frames(tmp_path):
    with pytest.raises(ConfigError, match="overlap"):
        FeatureTrainConfig(train_frames="0-30", val_frames="30-40")


@pytest.mark.parametrize("head", [PoseHeadKind.SPATIAL, PoseHeadKind.CORRELATION])
def test_exported_model_runs_on_images_as_the_head_ran_on_cached_maps(tiny_frames, tmp_path, head):
    config = _config(tiny_frames, tmp_path, head)
    result = train_on_cached_features(config)
    model = load_relpose(result.run_dir / "model.safetensors")
    assert model.config.head is head and model.config.freeze_backbone and model.config.feature_level == 3
    sequence = result.sequence
    pairs = held_out_pairs(sequence, FrameRange(64, 78), 2)
    from_maps = network_estimates(model.pose_net, sequence, pairs)
    loader = FrameLoader(sequence_transform(sequence.frames, (64, 96)), load_depth=False)
    images = lambda positions: torch.stack([loader.load(sequence.frames[int(p)]).image for p in positions])  # noqa: E731
    with torch.no_grad():
        from_images = model.predict_T_src_tgt(images(pairs.sources), images(pairs.targets)).double()
    assert torch.allclose(from_maps, from_images, atol=1e-5)
    # the second run reads every frame's features from the cache
    again = train_on_cached_features(_config(tiny_frames, tmp_path, head, max_epochs=1, out=str(tmp_path / "again")))
    assert torch.equal(again.sequence.features, sequence.features)


def test_training_pairs_stay_in_their_frames(tiny_frames, tmp_path):
    frames = sequence_frames("frames", tiny_frames)
    from types import SimpleNamespace

    orders = torch.tensor([f.order for f in frames])
    sequence = SimpleNamespace(positions=lambda r: torch.nonzero((orders >= r.first) & (orders <= r.last)).flatten())
    pairs = frame_pairs(sequence, FrameRange(0, 49), (1, -2))
    used = orders[pairs.flatten()]
    assert int(used.max()) <= 49 and int(used.min()) >= 0
    assert ((pairs[:, 1] - pairs[:, 0]).abs() <= 2).all()


def _train_loss(pose_net, data) -> float:
    loss = RelativePoseLoss()
    batch = {k: torch.stack([data.train_set[i][k] for i in range(len(data.train_set))]) for k in ("source_map", "target_map", "T_src_tgt")}
    with torch.no_grad():
        return float(loss(pose_net.eval().forward_maps(batch["source_map"], batch["target_map"]).vector, batch["T_src_tgt"]).total)


def test_training_lowers_the_training_loss_and_the_evaluation_has_every_row(tiny_frames, tmp_path):
    config = _config(tiny_frames, tmp_path, PoseHeadKind.POOLED, max_epochs=6, pairs_per_epoch=128, export="last")
    L.seed_everything(config.seed, workers=True, verbose=False)
    initial = CachedFeaturePoseModule(config)
    result = train_on_cached_features(config)
    data = FeaturePairsDataModule(config, result.sequence)
    model = load_relpose(result.run_dir / "model.safetensors")
    before, after = _train_loss(initial.pose_net, data), _train_loss(model.pose_net, data)
    assert after < 0.7 * before
    evaluation = evaluate_held_out(result.sequence, FrameRange(64, 78), (2,), {"pooled": model.pose_net},
                                   refine_network="pooled", refine_stride=0)
    assert set(evaluation.rows) == {"zero", "constant_velocity", "pooled"}
    assert evaluation.rows["zero"][2]["pairs"] == 6  # orders 64, 66, ..., 78: 8 frames, pairs 2 positions apart
    # translations shrunk to nothing: the translation errors are zero motion's, the rotations unchanged
    shrunk = evaluate_held_out(result.sequence, FrameRange(64, 78), (2,), {"pooled": model.pose_net}, refine_stride=0,
                               translation_factor=0.0)
    assert shrunk.rows["pooled"][2]["t_median_m"] == pytest.approx(evaluation.rows["zero"][2]["t_median_m"], abs=1e-9)
    assert shrunk.rows["pooled"][2]["r_median_deg"] == pytest.approx(evaluation.rows["pooled"][2]["r_median_deg"])


def test_fine_tuning_trains_the_last_stage_from_the_frozen_run_and_exports_a_loadable_model(tiny_frames, tmp_path):
    frozen = train_on_cached_features(_config(tiny_frames, tmp_path, PoseHeadKind.CORRELATION, max_epochs=1))
    start = load_relpose(frozen.run_dir / "model.safetensors").pose_net.state_dict()
    config = _config(tiny_frames, tmp_path, PoseHeadKind.CORRELATION, max_epochs=1, fine_tune_stages=1,
                     init_from=str(frozen.run_dir / "model.safetensors"), export="last", out=str(tmp_path / "tuned"))
    result = train_on_cached_features(config)
    assert result.sequence.features.shape[1] == 128  # resnet18 level 2 is cached, level 3 runs at each step
    metadata = load_model_file(result.run_dir / "model.safetensors", KIND).metadata
    assert metadata["feature_training"]["fine_tune_stages"] == 1 and not metadata["config"]["freeze_backbone"]
    model = load_relpose(result.run_dir / "model.safetensors")
    tuned = model.pose_net.state_dict()
    changed = {k for k in start if not torch.equal(start[k], tuned[k])}
    assert changed and all(k.startswith(("backbone.layer3.", "map_head.")) for k in changed)
    assert any(k.startswith("backbone.layer3.") and k.endswith("weight") for k in changed)
    assert not any(k.startswith("backbone.layer3.") and "running" in k for k in changed)  # BatchNorm stays fixed
    # the exported model on images gives what the head gave on the cached prefix + trained stage
    sequence = head_input_sequence(result.sequence, result.module)
    assert sequence.features.shape[1] == 256
    pairs = held_out_pairs(sequence, FrameRange(64, 78), 2)
    from_maps = network_estimates(model.pose_net, sequence, pairs)
    loader = FrameLoader(sequence_transform(sequence.frames, (64, 96)), load_depth=False)
    images = lambda positions: torch.stack([loader.load(sequence.frames[int(p)]).image for p in positions])  # noqa: E731
    with torch.no_grad():
        from_images = model.predict_T_src_tgt(images(pairs.sources), images(pairs.targets)).double()
    assert torch.allclose(from_maps, from_images, atol=1e-5)


def test_fine_tune_stages_is_checked():
    with pytest.raises(ConfigError, match="fine_tune_stages"):
        FeatureTrainConfig(feature_level=3, fine_tune_stages=4)
