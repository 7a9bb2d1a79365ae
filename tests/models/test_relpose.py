"""Relative pose networks: late and early fusion, separate heads, output scale, tapped frozen encoders."""

from __future__ import annotations

import pytest
import torch

from posekit.geometry import check_rotation_matrix, translation_axis_angle_to_matrix
from posekit.models import (
    DepthNet,
    FusionMode,
    ConfigError,
    RelativePoseNet,
    create_backbone,
    relative_pose_net_on_encoder,
)


def _images(b=2, h=64, w=64):
    return torch.rand(b, 3, h, w), torch.rand(b, 3, h, w)


@pytest.mark.parametrize("fusion, channels", [(FusionMode.LATE, 3), (FusionMode.EARLY, 6)])
def test_fusion_modes_give_poses(fusion, channels):
    net = RelativePoseNet(create_backbone("resnet18", in_channels=channels), fusion, hidden=(64, 64)).eval()
    out = net(*_images())
    assert out.vector.shape == (2, 6)
    T_src_tgt = out.T_src_tgt()
    assert T_src_tgt.shape == (2, 4, 4)
    check_rotation_matrix(T_src_tgt[:, :3, :3])
    assert torch.allclose(T_src_tgt, translation_axis_angle_to_matrix(out.vector))
    expected_in = 2 * 512 if fusion is FusionMode.LATE else 512
    assert net.pose_head[0].in_features == expected_in


def test_fusion_mode_must_fit_the_backbone():
    with pytest.raises(ConfigError, match="in_channels=6"):
        RelativePoseNet(create_backbone("resnet18"), FusionMode.EARLY)
    with pytest.raises(ConfigError, match="in_channels=3"):
        RelativePoseNet(create_backbone("resnet18", in_channels=6), FusionMode.LATE)


def test_late_fusion_concatenates_source_then_target():
    net = RelativePoseNet(create_backbone("resnet18"), hidden=(8,)).eval()
    source, target = _images()
    with torch.no_grad():
        fused = net.encode(source, target)
        expected = torch.cat((net.backbone.forward_pooled(source), net.backbone.forward_pooled(target)), dim=1)
    assert torch.allclose(fused, expected, atol=1e-5)


def test_output_scale_multiplies_the_raw_outputs():
    torch.manual_seed(0)
    net = RelativePoseNet(create_backbone("resnet18"), hidden=(16,), output_scale=0.01).eval()
    images = _images()
    with torch.no_grad():
        small = net(*images).vector
        net.output_scale = 1.0
        raw = net(*images).vector
    assert torch.allclose(small, 0.01 * raw)
    assert float(small.abs().max()) < 0.1  # starts near the identity


def test_separate_heads_decouple_rotation_and_translation():
    net = RelativePoseNet(create_backbone("resnet18"), hidden=(16,), separate_heads=True).eval()
    assert net.pose_head is None
    out = net(*_images())
    out.axis_angle.sum().backward()
    assert all(p.grad is None or not p.grad.any() for p in net.translation_head.parameters())
    assert all(p.grad is not None and p.grad.any() for p in net.rotation_head.parameters())


def test_pose_heads_on_a_tapped_frozen_depth_encoder():
    depth_net = DepthNet(create_backbone("resnet18"))
    net = relative_pose_net_on_encoder(depth_net.encoder, feature_level=3, hidden=(32,)).train()
    assert net.pose_head[0].in_features == 2 * 256  # layer3 of ResNet-18
    out = net(*_images())
    out.vector.sum().backward()
    assert all(p.grad is None for p in net.backbone.parameters())
    assert all(torch.isfinite(p.grad).all() for p in net.pose_head.parameters())
    # the depth network's own encoder is untouched (the pose net froze a copy)
    assert all(p.requires_grad for p in depth_net.encoder.parameters()) and not depth_net.encoder.frozen
