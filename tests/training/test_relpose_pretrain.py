"""Pre-training on rendered pairs and fine-tuning from a pre-trained model.

The learning test (issue 14 item 7): a correlation head on the frozen ImageNet EfficientNet-Lite0's cached
stride-16 maps, trained briefly on a few hundred rendered pairs, beats zero motion on pairs rendered in other
rooms, in median translation AND rotation error.
"""

from __future__ import annotations

import pytest
import torch

from posekit.data.synth.pairs import MotionBank, PairRenderConfig, render_pairs
from posekit.errors import ConfigError
from posekit.evaluation.relative_features import HeldOutPairs, network_estimates, summarize
from posekit.metrics.relative_motion import zero_motion
from posekit.models import PoseHeadKind
from posekit.training.relpose import load_relpose
from posekit.training.relpose_features import CachedFeaturePoseModule, FeatureTrainConfig
from posekit.training.relpose_pretrain import finetune_on_frames, load_initial_weights, pair_set_features, pretrain_on_pairs
from posekit.training.run_export import ExportChoice

# Bounds of the learning test, from its own settings run with seeds 0-3 (seed s: rooms 10 s.., held-out rooms
# 1000 + 10 s.., motion bank seed s; held-out medians, last epoch exported):
#   seed  zero t / r            network t / r         ratio t / r
#   0     7.22 cm / 3.31 deg    6.83 cm / 2.21 deg    0.95 / 0.67   (the seed this test runs)
#   1     7.76 cm / 3.45 deg    6.51 cm / 2.20 deg    0.84 / 0.64
#   2     7.68 cm / 2.66 deg    6.34 cm / 2.40 deg    0.83 / 0.90
#   3     7.70 cm / 2.96 deg    6.72 cm / 1.99 deg    0.87 / 0.67
# The bounds are the worst ratio of the four plus a little slack: translation is barely learned from 250 pairs
# of 64 x 96 images (4 x 6 feature cells), rotation clearly (except seed 2).
MAX_T_RATIO = 0.98
MAX_R_RATIO = 0.93


def test_correlation_head_on_rendered_pairs_beats_zero_motion(tmp_path):
    """250 training pairs (50 target views, 5 source views each, 5 rooms) and 96 held-out pairs (2 other rooms),
    64 x 96 images, motions with uniformly random directions and axes, up to 15 cm and 6 deg; training on every
    ordered pair of views sharing a target (1500 pairs), 15 epochs of 600 pairs, the last epoch exported (the
    held-out pairs choose nothing).

    Measured on seeds 0-3 (table above): the network's median translation error is 0.83-0.95x zero motion's,
    its rotation error 0.64-0.90x; asserted: below 0.98x and 0.93x (seed 0: 0.95x and 0.67x).
    """
    bank = MotionBank.isotropic(4000, t_max_m=0.15, r_max_deg=6.0, seed=0)
    render = PairRenderConfig(pairs=250, sources_per_target=5, pairs_per_room=50, width=96, height=64,
                              focal=234.0 * 96 / 256, seed=0, room_seed=0)
    train = render_pairs(render, bank, tmp_path / "pairs")
    held_out = render_pairs(PairRenderConfig(**{**render.__dict__, "pairs": 96, "pairs_per_room": 48,
                                                "room_seed": 1000, "seed": 1}), bank, tmp_path / "pairs")
    config = FeatureTrainConfig(dataset="frames", data=str(tmp_path), image_size=(64, 96), feature_level=3,
                                head=PoseHeadKind.CORRELATION, hidden=(128,), pairs_per_epoch=600, batch_size=32,
                                lr=2e-3, max_epochs=15, export=ExportChoice.LAST, cache_dir=str(tmp_path / "cache"),
                                out=str(tmp_path / "run"), seed=0)
    result = pretrain_on_pairs(config, train, held_out, expansion="all")
    network = load_relpose(result.run_dir / "model.safetensors").pose_net
    pairs = pair_set_features(held_out, result.module, config)
    truth = held_out.T_src_tgt()
    estimates = network_estimates(network, pairs.sequence, HeldOutPairs(0, held_out.pairs[:, 0], held_out.pairs[:, 1], truth))
    zero, net = summarize(truth, zero_motion(truth.shape[0])), summarize(truth, estimates)
    assert net["t_median_m"] < MAX_T_RATIO * zero["t_median_m"], (net, zero)
    assert net["r_median_deg"] < MAX_R_RATIO * zero["r_median_deg"], (net, zero)


def _real_config(data, tmp_path, head, **overrides) -> FeatureTrainConfig:
    options = dict(dataset="frames", data=str(data), train_frames="0-49", val_frames="50-63", image_size=(64, 96),
                   backbone="resnet18", pretrained=False, feature_level=3, head=head, hidden=(32,),
                   distances=(1, 2, 3), val_distances=(2,), pairs_per_epoch=32, batch_size=16, max_epochs=1,
                   out=str(tmp_path / f"run_{head}"), cache_dir=str(tmp_path / "cache"), lr=1e-3)
    options.update(overrides)
    return FeatureTrainConfig(**options)


def test_fine_tuning_starts_from_the_given_model_and_refuses_another_head(tiny_frames, tmp_path):
    first = finetune_on_frames(_real_config(tiny_frames, tmp_path, PoseHeadKind.CORRELATION), None)
    start = load_relpose(first.run_dir / "model.safetensors").pose_net.state_dict()
    # a learning rate too small to move the weights: the exported model is the initial one
    tuned = finetune_on_frames(_real_config(tiny_frames, tmp_path, PoseHeadKind.CORRELATION, lr=1e-12,
                                            weight_decay=0.0, out=str(tmp_path / "tuned")), first.run_dir / "model.safetensors")
    after = load_relpose(tuned.run_dir / "model.safetensors").pose_net.state_dict()
    assert all(torch.allclose(start[k], after[k], atol=1e-6) for k in start)
    fresh = CachedFeaturePoseModule(_real_config(tiny_frames, tmp_path, PoseHeadKind.CORRELATION)).pose_net.state_dict()
    assert not all(torch.allclose(start[k], fresh[k]) for k in start if "map_head" in k)  # the equality above means something
    spatial = CachedFeaturePoseModule(_real_config(tiny_frames, tmp_path, PoseHeadKind.SPATIAL))
    with pytest.raises(ConfigError, match="does not fit"):
        load_initial_weights(spatial, first.run_dir / "model.safetensors")
