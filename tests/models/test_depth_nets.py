"""Depth networks: U-Net and bilinear decoders on each backbone family, depth range, input checks, gradients."""

from __future__ import annotations

import pytest
import torch

from posekit.errors import ShapeError
from posekit.models import DecoderKind, DepthNet, create_backbone, disparity_to_depth


@pytest.mark.parametrize("backbone", ["resnet18", "efficientnet_lite0"])
def test_unet_decoder_gives_four_scales(backbone):
    net = DepthNet(create_backbone(backbone), DecoderKind.UNET, min_depth=0.1, max_depth=10.0).eval()
    with torch.no_grad():
        out = net(torch.rand(2, 3, 64, 96))
    assert [tuple(d.shape) for d in out.depths] == [(2, 1, 64 // 2**s, 96 // 2**s) for s in range(4)]
    assert [d.shape for d in out.disparities] == [d.shape for d in out.depths]
    assert all(((d > 0.1) & (d < 10.0)).all() for d in out.depths)
    assert out.depth is out.depths[0]


def test_bilinear_decoder_upsamples_the_last_feature_map():
    net = DepthNet(create_backbone("resnet18"), DecoderKind.BILINEAR).eval()
    with torch.no_grad():
        out = net(torch.rand(1, 3, 64, 128))
    assert len(out.depths) == 1 and out.depth.shape == (1, 1, 64, 128)


def test_input_size_must_be_a_multiple_of_32():
    net = DepthNet(create_backbone("resnet18"))
    with pytest.raises(ShapeError, match="multiples of 32"):
        net(torch.rand(1, 3, 60, 64))


def test_disparity_to_depth_spans_the_range():
    depth = disparity_to_depth(torch.tensor([0.0, 1.0, 0.5]), 0.1, 100.0)
    assert torch.allclose(depth, torch.tensor([100.0, 0.1, 1.0 / (0.01 + 0.5 * 9.99)]))


def test_gradients_reach_encoder_and_decoder():
    net = DepthNet(create_backbone("resnet18")).train()
    out = net(torch.rand(2, 3, 64, 64))
    sum(d.mean() for d in out.depths).backward()
    assert net.encoder.conv1.weight.grad is not None and torch.isfinite(net.encoder.conv1.weight.grad).all()
    assert all(p.grad is not None and torch.isfinite(p.grad).all() for p in net.decoder.parameters())
