"""Fine-tuning the last stages of a relative-pose network's encoder while the earlier stages stay frozen.

With ``stages = N`` and the head reading level ``L``, the encoder's stages ``L - N + 1 .. L`` train and stages
``0 .. L - N`` stay frozen, in eval mode (BatchNorm with its stored statistics). The frozen part's output, the
level ``L - N`` map of each image, never changes, so it can be cached once per frame
(:mod:`posekit.models.feature_cache`) and only the trainable stages run at each step
(:func:`run_stages`): this is exactly end-to-end training from images of the partly frozen encoder, at the cost
of the trained stages alone.

Example:
    >>> from posekit.models.backbones import create_backbone
    >>> encoder = create_backbone("resnet18")
    >>> trained = unfreeze_last_stages(encoder, feature_level=3, stages=1)
    >>> maps = encoder.features(torch.rand(1, 3, 64, 64), num_levels=3)[2]
    >>> run_stages(encoder, maps, first_level=3, last_level=3).shape
    torch.Size([1, 256, 4, 4])
"""

from __future__ import annotations

import torch
from torch import nn

from posekit.errors import ConfigError
from posekit.models.backbones import Backbone

NUM_LEVELS = 5  # every backbone has five stages (strides 2 .. 32)


def check_fine_tune_stages(feature_level: int, stages: int) -> None:
    """``stages`` must lie in ``0 .. feature_level`` (at least the stem stays frozen, so the cached maps exist);
    a negative ``feature_level`` counts from the end of the five levels."""
    feature_level = int(feature_level) % NUM_LEVELS
    if not 0 <= int(stages) <= int(feature_level):
        raise ConfigError(f"fine_tune_stages: expected 0..{feature_level} (the stages up to feature_level "
                          f"{feature_level}, the stem stays frozen), got {stages}")


def cache_level(feature_level: int, stages: int) -> int:
    """The level whose maps are cached when the last ``stages`` stages up to ``feature_level`` are trained."""
    check_fine_tune_stages(feature_level, stages)
    return int(feature_level) % NUM_LEVELS - int(stages)


def stage_parameters(backbone: Backbone, first_level: int, last_level: int,
                     image_size: tuple[int, int] = (64, 64)) -> list[nn.Parameter]:
    """The parameters that stages ``first_level .. last_level`` of ``backbone`` use, found by differentiating
    their output on a small random image with the input of ``first_level`` detached (any backbone, no table of
    module names)."""
    parameters = list(backbone.parameters())
    required = [p.requires_grad for p in parameters]
    was_training = backbone.training
    backbone.eval()  # the probe must not move BatchNorm statistics
    for p in parameters:
        p.requires_grad_(True)
    try:
        with torch.enable_grad():
            x = backbone.normalize(torch.rand(1, backbone.in_channels, *image_size))
            for level, stage in enumerate(backbone.stages()[: last_level + 1]):
                if level == first_level:
                    x = x.detach()
                x = stage(x)
            grads = torch.autograd.grad(x.sum(), parameters, allow_unused=True)
    finally:
        for p, flag in zip(parameters, required):
            p.requires_grad_(flag)
        backbone.train(was_training)
    return [p for p, g in zip(parameters, grads) if g is not None]


def unfreeze_last_stages(backbone: Backbone, feature_level: int, stages: int) -> list[nn.Parameter]:
    """Freeze ``backbone`` (eval mode, BatchNorm statistics fixed), then let the parameters of its last
    ``stages`` stages up to ``feature_level`` train; returns them (empty for ``stages = 0``)."""
    level = backbone.level_index(feature_level)
    first = cache_level(level, stages) + 1
    trained = stage_parameters(backbone, first, level) if stages > 0 else []
    backbone.freeze()
    for p in trained:
        p.requires_grad_(True)
    return trained


def run_stages(backbone: Backbone, maps: torch.Tensor, first_level: int, last_level: int) -> torch.Tensor:
    """``(B, C_{first - 1}, h, w)`` maps of level ``first_level - 1`` -> ``(B, C_last, h', w')`` maps of
    ``last_level`` through stages ``first_level .. last_level`` (identity when ``first_level > last_level``)."""
    for stage in backbone.stages()[first_level: last_level + 1]:
        maps = stage(maps)
    return maps
