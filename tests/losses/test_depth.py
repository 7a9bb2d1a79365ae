"""Supervised depth losses and edge-aware smoothness on hand-computed cases."""

from __future__ import annotations

import math

import pytest
import torch

from posekit.errors import ShapeError
from posekit.losses import (
    DepthLossKind,
    SupervisedDepthLoss,
    edge_aware_smoothness,
    masked_l1_depth_loss,
    scale_invariant_log_loss,
)


def _map(values) -> torch.Tensor:
    return torch.tensor(values, dtype=torch.float32)[None, None]


def test_masked_l1_ignores_unknown_depth():
    prediction = _map([[1.0, 2.0], [3.0, 4.0]])
    target = _map([[0.0, 2.5], [3.0, 0.0]])
    assert masked_l1_depth_loss(prediction, target).item() == pytest.approx(0.25)
    assert masked_l1_depth_loss(prediction, torch.zeros_like(target)).item() == 0.0
    with pytest.raises(ShapeError):
        masked_l1_depth_loss(prediction, target[..., :1])


def test_masked_l1_gradient_finite_with_nan_holes():
    prediction = _map([[1.0, 2.0]]).requires_grad_(True)
    target = _map([[float("nan"), 1.0]])
    loss = masked_l1_depth_loss(prediction, target)
    loss.backward()
    assert loss.item() == pytest.approx(1.0)
    assert torch.equal(prediction.grad, _map([[0.0, 1.0]]))


def test_scale_invariant_log_loss():
    target = _map([[1.0, 2.0], [0.0, 4.0]])
    prediction = 2.0 * target + _map([[0.0, 0.0], [7.0, 0.0]])  # the hole's prediction is ignored
    # g = log 2 on every valid pixel: mean(g^2) - lam mean(g)^2 = (1 - lam) log(2)^2
    expected = 0.5 * math.log(2) ** 2
    assert scale_invariant_log_loss(prediction, target, lam=0.5).item() == pytest.approx(expected, rel=1e-5)
    assert scale_invariant_log_loss(prediction, target, lam=1.0).item() == pytest.approx(0.0, abs=1e-6)
    # g = (log 2, 0): mean(g^2) = log(2)^2 / 2, mean(g) = log(2) / 2
    two = scale_invariant_log_loss(_map([[2.0, 1.0]]), _map([[1.0, 1.0]]), lam=0.5)
    assert two.item() == pytest.approx(math.log(2) ** 2 / 2 - 0.5 * math.log(2) ** 2 / 4, rel=1e-5)


def test_scale_invariant_log_loss_skips_images_without_depth():
    target = torch.cat((_map([[1.0, 1.0]]), torch.zeros(1, 1, 1, 2)))
    prediction = torch.cat((_map([[2.0, 1.0]]), torch.ones(1, 1, 1, 2))).requires_grad_(True)
    loss = scale_invariant_log_loss(prediction, target, lam=0.0)
    assert loss.item() == pytest.approx(math.log(2) ** 2 / 2, rel=1e-5)  # the empty image is not averaged in
    loss.backward()
    assert torch.isfinite(prediction.grad).all() and not prediction.grad[1].any()


@pytest.mark.parametrize("kind", list(DepthLossKind))
def test_supervised_loss_upsamples_coarse_predictions(kind):
    target = torch.full((1, 1, 8, 8), 3.0)
    target[..., 0, 0] = 0.0
    predictions = [torch.full((1, 1, 8, 8), 3.0), torch.full((1, 1, 4, 4), 3.0), torch.full((1, 1, 2, 2), 3.0)]
    assert float(SupervisedDepthLoss(kind)(predictions, target)) == pytest.approx(0.0, abs=1e-6)
    assert float(SupervisedDepthLoss(DepthLossKind.L1)(torch.full((1, 1, 4, 4), 4.0), target)) == pytest.approx(1.0)


def test_edge_aware_smoothness_hand_computed():
    disparity = _map([[1.0, 2.0, 3.0], [1.0, 2.0, 3.0]])
    flat = torch.zeros(1, 3, 2, 3)
    # normalised by the mean (2): x-gradients 0.5, y-gradients 0
    assert edge_aware_smoothness(disparity, flat).item() == pytest.approx(0.5)
    assert edge_aware_smoothness(disparity, flat, normalize=False).item() == pytest.approx(1.0)
    # an image whose x-gradient is 1 in every channel weights the disparity gradients by exp(-1)
    stripes = torch.tensor([0.0, 1.0, 0.0]).expand(1, 3, 2, 3)
    assert edge_aware_smoothness(disparity, stripes).item() == pytest.approx(0.5 * math.exp(-1.0), rel=1e-6)
    assert float(edge_aware_smoothness(torch.full((1, 1, 2, 3), 0.7), flat)) == 0.0
    with pytest.raises(ShapeError):
        edge_aware_smoothness(disparity, torch.zeros(1, 3, 4, 6))


def test_edge_aware_smoothness_gradient_finite():
    disparity = torch.rand(2, 1, 8, 8, requires_grad=True)
    edge_aware_smoothness(disparity, torch.rand(2, 3, 8, 8)).backward()
    assert torch.isfinite(disparity.grad).all()
