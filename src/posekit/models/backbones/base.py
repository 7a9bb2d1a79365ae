"""The interface every image encoder implements: multi-scale features, pooled features, input normalisation,
freezing, BatchNorm statistics handling and input-channel expansion for early fusion.

A backbone takes images as the project stores them (``(B, C, H, W)`` floats in [0, 1], RGB) and applies its own
normalisation (ImageNet mean and std for torchvision's ResNets, ``(x - 127) / 128`` on 8-bit values for the
TensorFlow EfficientNet-Lite weights), so a caller never normalises twice or forgets to.

Features come in five levels at strides 2, 4, 8, 16 and 32 (the skip connections of a U-Net depth decoder and
the layers one can "tap" for pose), and :attr:`Backbone.out_channels` gives their channel counts.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Sequence
from enum import Enum

import torch
import torch.nn.functional as F
from torch import nn

from posekit.geometry.checks import check_shape
from posekit.errors import ConfigError

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)

FEATURE_STRIDES = (2, 4, 8, 16, 32)


class BatchNormMode(str, Enum):
    """How the BatchNorm layers of a backbone use and update their statistics.

    - ``TRACK``: PyTorch's default; batch statistics in training (running averages updated), running averages
      in evaluation.
    - ``BATCH``: ``track_running_stats=False`` (the PoseNet article's option): batch statistics in training *and*
      evaluation, no running averages kept (they are dropped from the state dict). Predictions then depend on the
      other images of the batch.
    - ``FROZEN``: the stored running statistics (ImageNet's, for pretrained weights) in training and evaluation,
      never updated; the usual choice when fine-tuning with small batches.
    """

    TRACK = "track"
    BATCH = "batch"
    FROZEN = "frozen"


def expand_input_channels(weight: torch.Tensor, in_channels: int) -> torch.Tensor:
    """First-convolution weights for ``in_channels`` inputs made from weights for 3 (RGB) inputs.

    For ``in_channels = 3k`` (early fusion of k images) the RGB filters are repeated k times and divided by k, so
    that k identical images give exactly the response of the 3-channel network to one of them. For
    ``in_channels = 1`` (grey) the RGB filters are summed, so a grey image gives the response to its RGB copy.

    Args:
        weight: ``(O, 3, kh, kw)``.
        in_channels: 1 or a multiple of 3.

    Returns:
        ``(O, in_channels, kh, kw)``.
    """
    check_shape("first convolution weight", weight, (None, 3, None, None))
    if in_channels == 1:
        return weight.sum(dim=1, keepdim=True)
    if in_channels <= 0 or in_channels % 3 != 0:
        raise ConfigError(f"in_channels: expected 1 or a multiple of 3, got {in_channels}")
    copies = in_channels // 3
    return weight.repeat(1, copies, 1, 1) / copies


def _expand_statistic(values: Sequence[float], in_channels: int) -> torch.Tensor:
    """Per-channel normalisation constants for ``in_channels`` inputs from the RGB ones."""
    rgb = torch.tensor(values, dtype=torch.float32)
    if in_channels == 1:
        return rgb.mean().reshape(1, 1, 1, 1)
    return rgb.repeat(in_channels // 3).reshape(1, in_channels, 1, 1)


class Backbone(nn.Module):
    """Base class of the image encoders.

    Subclasses build their layers with the parameter names of the published weights (so those load with
    ``strict=True``), set :attr:`first_conv_name`, :attr:`classifier_name` and :attr:`out_channels`, and implement
    :meth:`stages`: five callables, one per feature level.

    Attributes:
        name: registry name (``"resnet18"``, ``"efficientnet_lite0"``, ...).
        out_channels: channels of the five feature levels.
        strides: their strides with respect to the input, ``(2, 4, 8, 16, 32)``.
        in_channels: input channels (3, or 6 for early fusion of two images).
        frozen: whether :meth:`freeze` was called.
        batchnorm_mode: a :class:`BatchNormMode`.
    """

    name: str = "backbone"
    first_conv_name: str = ""
    classifier_name: str = ""
    strides: tuple[int, ...] = FEATURE_STRIDES

    def __init__(self, out_channels: Sequence[int], mean: Sequence[float], std: Sequence[float]):
        super().__init__()
        if len(out_channels) != len(FEATURE_STRIDES):
            raise ConfigError(f"out_channels: expected {len(FEATURE_STRIDES)} levels, got {list(out_channels)}")
        self.out_channels = list(out_channels)
        self._rgb_mean = tuple(mean)
        self._rgb_std = tuple(std)
        self.in_channels = 3
        self.frozen = False
        self.batchnorm_mode = BatchNormMode.TRACK
        self._training_requested = True
        self.register_buffer("input_mean", _expand_statistic(mean, 3), persistent=False)
        self.register_buffer("input_std", _expand_statistic(std, 3), persistent=False)

    # ----------------------------------------------------------------------------------------------- subclasses
    def stages(self) -> list[Callable[[torch.Tensor], torch.Tensor]]:
        """Five callables; stage ``i`` maps level ``i - 1`` (the normalised input for ``i = 0``) to level ``i``."""
        raise NotImplementedError

    # ------------------------------------------------------------------------------------------------- features
    @property
    def num_features(self) -> int:
        """Channels of the last level, the length of :meth:`forward_pooled`'s vectors."""
        return self.out_channels[-1]

    def normalize(self, images: torch.Tensor) -> torch.Tensor:
        """``(B, C, H, W)`` images in [0, 1] to the input distribution of the weights."""
        return (images - self.input_mean) / self.input_std

    def features(self, images: torch.Tensor, num_levels: int | None = None) -> list[torch.Tensor]:
        """Feature maps at strides 2, 4, 8, 16, 32.

        Args:
            images: ``(B, in_channels, H, W)`` in [0, 1].
            num_levels: compute only the first ``num_levels`` levels (to tap a layer without running the rest).

        Returns:
            list of ``(B, out_channels[i], ~H / strides[i], ~W / strides[i])`` (exact when H, W divide by 32).
        """
        check_shape("images", images, (None, self.in_channels, None, None))
        stages = self.stages()
        count = len(stages) if num_levels is None else num_levels
        if not 1 <= count <= len(stages):
            raise ConfigError(f"num_levels: expected 1..{len(stages)}, got {num_levels}")
        x = self.normalize(images)
        levels = []
        for stage in stages[:count]:
            x = stage(x)
            levels.append(x)
        return levels

    def forward(self, images: torch.Tensor) -> list[torch.Tensor]:
        """Same as :meth:`features`."""
        return self.features(images)

    def level_index(self, level: int) -> int:
        """Non-negative index of a feature level given as ``0..4`` or ``-5..-1``."""
        n = len(self.out_channels)
        if not -n <= level < n:
            raise ConfigError(f"feature level: expected -{n}..{n - 1}, got {level}")
        return level % n

    def forward_pooled(self, images: torch.Tensor, level: int = -1) -> torch.Tensor:
        """Global-average-pooled features of one level. ``(B, C, H, W) -> (B, out_channels[level])``."""
        index = self.level_index(level)
        return global_average_pool(self.features(images, num_levels=index + 1)[index])

    def classify(self, images: torch.Tensor) -> torch.Tensor:
        """ImageNet logits ``(B, 1000)`` (needs the classifier: ``create_backbone(..., include_classifier=True)``)."""
        classifier = getattr(self, self.classifier_name, None)
        if classifier is None:
            raise ConfigError(f"{self.name}: the classifier was removed; build with include_classifier=True")
        return classifier(self.forward_pooled(images))

    # ------------------------------------------------------------------------------------------ classifier, input
    @property
    def has_classifier(self) -> bool:
        return getattr(self, self.classifier_name, None) is not None

    def remove_classifier(self) -> None:
        """Drop the ImageNet classification layer (unused for features; an unused layer upsets DDP)."""
        setattr(self, self.classifier_name, None)

    @property
    def first_conv(self) -> nn.Conv2d:
        return getattr(self, self.first_conv_name)

    def set_in_channels(self, in_channels: int) -> None:
        """Rebuild the first convolution for ``in_channels`` inputs from its current 3-channel weights.

        See :func:`expand_input_channels`; the normalisation constants are repeated likewise. Call it after
        loading 3-channel weights (``create_backbone`` does).
        """
        if in_channels == self.in_channels:
            return
        if self.in_channels != 3:
            raise ConfigError(f"{self.name}: in_channels can only be changed from 3, it is {self.in_channels}")
        old = self.first_conv
        new = copy.deepcopy(old)
        new.weight = nn.Parameter(expand_input_channels(old.weight.detach(), in_channels).clone())
        new.in_channels = in_channels
        setattr(self, self.first_conv_name, new)
        self.in_channels = in_channels
        device = self.input_mean.device
        self.input_mean = _expand_statistic(self._rgb_mean, in_channels).to(device)
        self.input_std = _expand_statistic(self._rgb_std, in_channels).to(device)

    # ----------------------------------------------------------------------------------- batchnorm and freezing
    def batchnorm_layers(self) -> list[nn.modules.batchnorm._BatchNorm]:
        return [m for m in self.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]

    def set_batchnorm_mode(self, mode: BatchNormMode | str) -> None:
        """Choose how BatchNorm statistics are used (see :class:`BatchNormMode`).

        ``BATCH`` discards the running statistics, so load pretrained weights first.
        """
        mode = BatchNormMode(mode)
        if self.batchnorm_mode is BatchNormMode.BATCH and mode is not BatchNormMode.BATCH:
            raise ConfigError(f"{self.name}: running statistics were discarded (BATCH mode); "
                                   f"cannot switch to {mode.value}")
        if mode is BatchNormMode.BATCH:
            for bn in self.batchnorm_layers():
                bn.track_running_stats = False
                bn.running_mean = None
                bn.running_var = None
                bn.num_batches_tracked = None
        self.batchnorm_mode = mode
        self.train(self._training_requested)

    def freeze(self) -> None:
        """Stop training the backbone: no gradients for its parameters, and it stays in eval mode (BatchNorm and
        dropout as at inference) even when the model around it is put in training mode."""
        for parameter in self.parameters():
            parameter.requires_grad_(False)
        self.frozen = True
        self.train(self._training_requested)

    def unfreeze(self) -> None:
        """Undo :meth:`freeze`."""
        for parameter in self.parameters():
            parameter.requires_grad_(True)
        self.frozen = False
        self.train(self._training_requested)

    def train(self, mode: bool = True) -> Backbone:
        """Set training mode, keeping a frozen backbone (and FROZEN BatchNorm layers) in eval mode."""
        self._training_requested = mode
        super().train(mode)
        if self.frozen:
            for module in self.modules():
                module.training = False
        elif self.batchnorm_mode is BatchNormMode.FROZEN:
            for bn in self.batchnorm_layers():
                bn.training = False
        return self


def global_average_pool(feature_map: torch.Tensor) -> torch.Tensor:
    """``(B, C, H, W) -> (B, C)`` mean over the spatial dimensions."""
    check_shape("feature map", feature_map, (None, None, None, None))
    return F.adaptive_avg_pool2d(feature_map, 1).flatten(1)
