"""Spatial pose heads: shapes and gradients, the correlation volume against a direct computation, the heads
inside RelativePoseNet (images and cached maps give the same pose), and the head kept by export and load."""

from __future__ import annotations

import pytest
import torch

from posekit.errors import ConfigError, ShapeError
from posekit.models import (
    CorrelationHead,
    FusionMode,
    PoseHeadKind,
    RelativePoseNet,
    SpatialFusionHead,
    create_backbone,
)
from posekit.models.correlation import correlation_displacements, local_correlation


def _direct_correlation(target: torch.Tensor, source: torch.Tensor, r: int) -> torch.Tensor:
    """Loop over batch, displacement and pixel: the definition, with zeros outside the source map."""
    b, c, h, w = target.shape
    out = torch.zeros(b, (2 * r + 1) ** 2, h, w, dtype=target.dtype)
    for n in range(b):
        for k, (dy, dx) in enumerate(correlation_displacements(r)):
            for y in range(h):
                for x in range(w):
                    ys, xs = y + dy, x + dx
                    if 0 <= ys < h and 0 <= xs < w:
                        out[n, k, y, x] = (target[n, :, y, x] * source[n, :, ys, xs]).sum() / c
    return out


def test_correlation_volume_matches_the_direct_computation():
    torch.manual_seed(0)
    target, source = torch.randn(2, 5, 6, 7, dtype=torch.float64), torch.randn(2, 5, 6, 7, dtype=torch.float64)
    volume = local_correlation(target, source, max_displacement=2)
    assert volume.shape == (2, 25, 6, 7)
    assert torch.allclose(volume, _direct_correlation(target, source, 2), atol=1e-12)


def test_correlation_peaks_at_the_true_shift():
    torch.manual_seed(1)
    source = torch.randn(1, 8, 10, 12)
    target = torch.roll(source, shifts=(-1, 2), dims=(2, 3))  # target(y, x) = source(y + 1, x - 2)
    volume = local_correlation(target, source, max_displacement=3)
    best = volume[0, :, 4:6, 4:8].mean((1, 2)).argmax()
    assert correlation_displacements(3)[int(best)] == (1, -2)


def test_correlation_rejects_unequal_maps():
    with pytest.raises(ShapeError, match="local_correlation"):
        local_correlation(torch.rand(1, 4, 5, 5), torch.rand(1, 4, 5, 6))


@pytest.mark.parametrize("head_class", [SpatialFusionHead, CorrelationHead,
                                        lambda *a, **k: CorrelationHead(*a, context=4, **k)])
def test_heads_give_six_outputs_and_gradients_to_every_parameter_and_input(head_class):
    torch.manual_seed(0)
    head = head_class(16, width=8, hidden=(16,))
    source = torch.randn(3, 16, 12, 16, requires_grad=True)
    target = torch.randn(3, 16, 12, 16, requires_grad=True)
    out = head(source, target)
    assert out.shape == (3, 6)
    out.square().sum().backward()
    assert source.grad.abs().sum() > 0 and target.grad.abs().sum() > 0
    for name, parameter in head.named_parameters():
        assert parameter.grad is not None and parameter.grad.abs().sum() > 0, name


@pytest.mark.parametrize("head_class", [SpatialFusionHead, CorrelationHead])
def test_heads_tell_source_from_target(head_class):
    torch.manual_seed(0)
    head = head_class(16, width=8, hidden=(16,)).eval()
    a, b = torch.randn(1, 16, 12, 16), torch.randn(1, 16, 12, 16)
    assert not torch.allclose(head(a, b), head(b, a))


@pytest.mark.parametrize("head_class", [SpatialFusionHead, CorrelationHead])
def test_heads_check_map_shapes(head_class):
    with pytest.raises(ShapeError, match="pose head"):
        head_class(16, width=8)(torch.rand(1, 8, 12, 16), torch.rand(1, 8, 12, 16))


@pytest.mark.parametrize("head", [PoseHeadKind.POOLED, PoseHeadKind.SPATIAL, PoseHeadKind.CORRELATION])
def test_relative_pose_net_heads_on_images_and_on_cached_maps_agree(head):
    torch.manual_seed(0)
    net = RelativePoseNet(create_backbone("resnet18"), hidden=(16,), feature_level=3, head=head).eval()
    source, target = torch.rand(2, 3, 64, 96), torch.rand(2, 3, 64, 96)
    with torch.no_grad():
        from_images = net(source, target).vector
        from_maps = net.forward_maps(net.feature_maps(source), net.feature_maps(target)).vector
    assert from_images.shape == (2, 6)
    assert torch.allclose(from_images, from_maps, atol=1e-6)


def test_spatial_heads_need_late_fusion():
    with pytest.raises(ConfigError, match="late fusion"):
        RelativePoseNet(create_backbone("resnet18", in_channels=6), FusionMode.EARLY, head="correlation")


def test_frozen_backbone_trains_only_the_spatial_head():
    net = RelativePoseNet(create_backbone("resnet18"), hidden=(16,), feature_level=2, head="spatial",
                          freeze_backbone=True)
    net.train()
    net(torch.rand(2, 3, 64, 64), torch.rand(2, 3, 64, 64)).vector.sum().backward()
    assert all(p.grad is None for p in net.backbone.parameters())
    assert all(p.grad is not None for p in net.map_head.parameters())
