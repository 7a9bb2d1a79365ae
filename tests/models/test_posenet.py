"""PoseNet: output shapes and unit quaternions, dropout in training only, Kaiming init, stereo, frozen backbone."""

from __future__ import annotations

import math

import pytest
import torch

from posekit.errors import ShapeError
from posekit.geometry import check_rotation_matrix
from posekit.models import PoseNet, StereoPoseNet, create_backbone


@pytest.fixture
def posenet():
    torch.manual_seed(0)
    return PoseNet(create_backbone("resnet18"), feature_dim=256, dropout=0.5)


def test_outputs_translation_and_unit_quaternion(posenet):
    out = posenet.eval()(torch.rand(3, 3, 64, 64))
    assert out.translation.shape == (3, 3) and out.quaternion.shape == (3, 4)
    assert torch.allclose(out.quaternion.norm(dim=-1), torch.ones(3), atol=1e-6)
    T_world_cam = out.T_world_cam()
    assert T_world_cam.shape == (3, 4, 4)
    check_rotation_matrix(T_world_cam[:, :3, :3])
    assert torch.allclose(T_world_cam[:, :3, 3], out.translation)


def test_dropout_only_in_training(posenet):
    x = torch.rand(2, 3, 64, 64)
    posenet.eval()
    with torch.no_grad():
        a, b = posenet(x), posenet(x)
    assert torch.equal(a.translation, b.translation) and torch.equal(a.quaternion, b.quaternion)
    # In training mode dropout changes the features from one call to the next (BatchNorm frozen so only dropout
    # can differ).
    posenet.train()
    posenet.backbone.freeze()
    with torch.no_grad():
        c, d = posenet.embed(x), posenet.embed(x)
    assert not torch.equal(c, d)
    assert float((c == 0).float().mean()) > 0.3  # about half the units dropped (plus the ReLU's zeros)


def test_new_layers_have_kaiming_normal_init():
    torch.manual_seed(0)
    net = PoseNet(create_backbone("resnet18"), feature_dim=2048)
    for layer in (net.fc, net.fc_xyz, net.fc_quat):
        expected_std = math.sqrt(2.0 / layer.in_features)
        assert abs(float(layer.weight.detach().std()) / expected_std - 1) < 0.1
        assert torch.equal(layer.bias, torch.zeros_like(layer.bias))
    assert net.fc.out_features == 2048 and net.fc.in_features == 512


def test_freeze_backbone_trains_only_the_head():
    net = PoseNet(create_backbone("resnet18"), feature_dim=64, freeze_backbone=True).train()
    assert net.training and not net.backbone.training
    out = net(torch.rand(2, 3, 64, 64))
    (out.translation.sum() + out.quaternion.sum()).backward()
    assert all(p.grad is None for p in net.backbone.parameters())
    head = (net.fc.weight, net.fc_xyz.weight, net.fc_quat.weight)
    assert all(p.grad is not None and torch.isfinite(p.grad).all() for p in head)


def test_stereo_shares_weights_and_predicts_both_poses(posenet):
    stereo = StereoPoseNet(create_backbone("resnet18"), feature_dim=256, dropout=0.5)
    stereo.load_state_dict(posenet.state_dict(), strict=True)  # a mono checkpoint loads into the stereo net
    stereo.eval()
    posenet.eval()
    left, right = torch.rand(2, 3, 64, 64), torch.rand(2, 3, 64, 64)
    with torch.no_grad():
        out = stereo(left, right)
        expected_left, expected_right = posenet(left), posenet(right)
    assert torch.allclose(out.left.translation, expected_left.translation, atol=1e-5)
    assert torch.allclose(out.right.quaternion, expected_right.quaternion, atol=1e-5)
    with pytest.raises(ShapeError):
        stereo(left, right[:1])



def test_fits_a_few_poses_with_the_posenet_loss():
    from posekit.losses import PoseNetLoss

    torch.manual_seed(0)
    net = PoseNet(create_backbone("resnet18"), feature_dim=128, dropout=0.0, freeze_backbone=True).train()
    images = torch.rand(4, 3, 32, 32)
    target_t = torch.randn(4, 3)
    target_q = torch.nn.functional.normalize(torch.randn(4, 4), dim=-1)
    criterion = PoseNetLoss(beta=1.0, norm="l2")
    optimiser = torch.optim.Adam([p for p in net.parameters() if p.requires_grad], lr=3e-3)
    losses = []
    for _ in range(40):
        out = net(images)
        loss = criterion(out.translation, out.quaternion, target_t, target_q).total
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
        losses.append(loss.item())
    assert losses[-1] < 0.1 * losses[0]
