"""Supervised depth losses against sensor depth, ignoring pixels of unknown depth (0, or not finite).

- masked L1: mean ``|d_hat - d|`` over the valid pixels of the batch (metres);
- scale-invariant log loss (Eigen et al. 2014): per image, with ``g = log d_hat - log d`` over its ``n`` valid
  pixels, ``mean(g^2) - lambda mean(g)^2``; averaged over the images that have valid pixels. ``lambda = 1`` makes
  it fully scale invariant, 0.5 is Eigen's choice.

Predictions at a coarser scale than the target are upsampled bilinearly to it (never the sensor depth
downsampled, which would mix holes into valid pixels) by :class:`SupervisedDepthLoss`.
"""

from __future__ import annotations

from collections.abc import Sequence
from enum import Enum

import torch
import torch.nn.functional as F
from torch import nn

from posekit.geometry.checks import check_shape


class DepthLossKind(str, Enum):
    """The supervised depth loss: masked ``L1`` or the scale-invariant log loss ``SILOG``."""

    L1 = "l1"
    SILOG = "silog"


def valid_depth_mask(depth: torch.Tensor) -> torch.Tensor:
    """``(B, 1, H, W)`` bool: depth known (> 0 and finite)."""
    return (depth > 0) & torch.isfinite(depth)


def _check_pair(prediction: torch.Tensor, target: torch.Tensor) -> None:
    check_shape("target depth", target, (None, 1, None, None))
    check_shape("predicted depth", prediction, tuple(target.shape))


def masked_l1_depth_loss(prediction: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Mean absolute depth error over valid target pixels (0 when there is none).

    Args:
        prediction: ``(B, 1, H, W)`` predicted depth.
        target: ``(B, 1, H, W)`` sensor depth, 0 = unknown.

    Returns:
        scalar.
    """
    _check_pair(prediction, target)
    valid = valid_depth_mask(target)
    # the inner where keeps NaN or inf targets out of the graph, so their gradient is 0, not NaN
    difference = prediction - torch.where(valid, target, prediction.detach())
    error = torch.where(valid, difference.abs(), torch.zeros_like(prediction))
    return error.sum() / valid.sum().clamp_min(1)


def scale_invariant_log_loss(prediction: torch.Tensor, target: torch.Tensor, lam: float = 0.5,
                             eps: float = 1e-6) -> torch.Tensor:
    """Eigen et al.'s scale-invariant log loss ``mean(g^2) - lam mean(g)^2``, ``g = log(pred) - log(target)``.

    Args:
        prediction: ``(B, 1, H, W)`` predicted depth (clamped to ``eps`` before the log).
        target: ``(B, 1, H, W)`` sensor depth, 0 = unknown.
        lam: ``lambda`` in [0, 1].

    Returns:
        scalar: the mean over the images with at least one valid pixel (0 if none has).
    """
    _check_pair(prediction, target)
    valid = valid_depth_mask(target)
    safe_target = torch.where(valid, target, torch.ones_like(target))
    g = torch.where(valid, torch.log(prediction.clamp_min(eps)) - torch.log(safe_target), torch.zeros_like(target))
    count = valid.flatten(1).sum(1)
    n = count.clamp_min(1).to(g.dtype)
    mean_sq = (g * g).flatten(1).sum(1) / n
    mean = g.flatten(1).sum(1) / n
    per_image = mean_sq - lam * mean * mean
    has_pixels = count > 0
    return torch.where(has_pixels, per_image, torch.zeros_like(per_image)).sum() / has_pixels.sum().clamp_min(1)


class SupervisedDepthLoss(nn.Module):
    """A depth loss over the scales of a depth network, each prediction upsampled to the target's size.

    Args:
        kind: :class:`DepthLossKind`.
        lam: ``lambda`` of the scale-invariant log loss.
    """

    def __init__(self, kind: DepthLossKind | str = DepthLossKind.L1, lam: float = 0.5):
        super().__init__()
        self.kind = DepthLossKind(kind)
        self.lam = float(lam)

    def forward(self, predictions: torch.Tensor | Sequence[torch.Tensor], target: torch.Tensor) -> torch.Tensor:
        """Mean over scales of the loss.

        Args:
            predictions: a ``(B, 1, h, w)`` depth or a list of them (one per scale).
            target: ``(B, 1, H, W)`` sensor depth, 0 = unknown.
        """
        if isinstance(predictions, torch.Tensor):
            predictions = [predictions]
        losses = []
        for prediction in predictions:
            if prediction.shape[-2:] != target.shape[-2:]:
                prediction = F.interpolate(prediction, size=target.shape[-2:], mode="bilinear", align_corners=False)
            if self.kind is DepthLossKind.L1:
                losses.append(masked_l1_depth_loss(prediction, target))
            else:
                losses.append(scale_invariant_log_loss(prediction, target, self.lam))
        return torch.stack(losses).mean()
