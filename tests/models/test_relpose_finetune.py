"""Fine-tuning the last encoder stages: the right parameters train, the gradient reaches them and nothing else,
and the cached frozen prefix + the trained stages give what the whole encoder gives on images."""

from __future__ import annotations

import pytest
import torch

from posekit.errors import ConfigError
from posekit.models import PoseHeadKind, RelativePoseNet
from posekit.models.backbones import create_backbone
from posekit.models.relpose_finetune import cache_level, run_stages, stage_parameters, unfreeze_last_stages


@pytest.mark.parametrize("name", ["resnet18", "efficientnet_lite0"])
def test_stage_parameters_are_the_stage_modules_own(name):
    encoder = create_backbone(name)
    level3 = {id(p) for p in stage_parameters(encoder, 3, 3)}
    level23 = {id(p) for p in stage_parameters(encoder, 2, 3)}
    everything = {id(p) for p in stage_parameters(encoder, 0, 4)}
    assert level3 and level3 < level23 < everything
    assert everything <= {id(p) for p in encoder.parameters()}
    if name == "resnet18":
        assert level3 == {id(p) for p in encoder.layer3.parameters()}
    else:  # blocks 5..10 of EfficientNet-Lite0 make level 3 (80 and 112 channels)
        assert level3 == {id(p) for b in encoder._blocks[5:11] for p in b.parameters()}


def test_probing_the_stages_leaves_the_batchnorm_statistics_alone():
    encoder = create_backbone("resnet18").train()
    before = {k: v.clone() for k, v in encoder.state_dict().items()}
    stage_parameters(encoder, 3, 3)
    assert all(torch.equal(before[k], v) for k, v in encoder.state_dict().items())
    assert encoder.training


def test_gradients_flow_into_the_unfrozen_stage_only():
    net = RelativePoseNet(create_backbone("resnet18"), feature_level=3, head=PoseHeadKind.CORRELATION, hidden=(16,))
    trained = unfreeze_last_stages(net.backbone, feature_level=3, stages=1)
    net.train()
    assert not net.backbone.training  # the encoder (BatchNorm included) stays in eval mode
    images = torch.rand(4, 3, 64, 96)
    net(images[:2], images[2:]).vector.square().sum().backward()
    trained_ids = {id(p) for p in trained}
    for name, p in net.backbone.named_parameters():
        if id(p) in trained_ids:
            assert p.requires_grad and p.grad is not None and p.grad.abs().sum() > 0, name
        else:
            assert not p.requires_grad and p.grad is None, name
    assert all(p.grad is not None for p in net.map_head.parameters())


def test_cached_prefix_plus_trained_stages_equals_the_encoder_on_images():
    encoder = create_backbone("efficientnet_lite0").eval()
    images = torch.rand(2, 3, 64, 96)
    with torch.no_grad():
        levels = encoder.features(images, num_levels=4)
        assert torch.allclose(run_stages(encoder, levels[1], 2, 3), levels[3], atol=1e-5)
        assert torch.equal(run_stages(encoder, levels[3], 4, 3), levels[3])


def test_stage_count_is_checked():
    assert cache_level(3, 0) == 3 and cache_level(3, 2) == 1 and cache_level(-2, 1) == 2
    with pytest.raises(ConfigError, match="fine_tune_stages"):
        cache_level(3, 4)
    with pytest.raises(ConfigError, match="fine_tune_stages"):
        cache_level(3, -1)
