"""Single-image depth networks: an encoder (any backbone) and one of two decoders.

- ``BILINEAR``: the founding article's network: the last feature map (stride 32) reduced to one channel and
  upsampled 32 times bilinearly. One output scale.
- ``UNET``: a U-Net decoder with skip connections from the encoder's levels (Monodepth2's ``DepthDecoder``:
  3x3 reflection-padded convolutions with ELU, nearest-neighbour upsampling), producing outputs at scales 0-3
  (strides 1, 2, 4, 8).

Each output is a sigmoid disparity ``d`` in (0, 1), mapped to depth as Monodepth2 does:
``depth = 1 / (1 / max_depth + (1 / min_depth - 1 / max_depth) d)``, so depth lies in ``(min_depth, max_depth)``.
Input height and width must be multiples of 32.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

import torch
import torch.nn.functional as F
from torch import nn

from posekit.errors import ShapeError
from posekit.models.backbones import Backbone
from posekit.errors import ConfigError

DECODER_CHANNELS = (16, 32, 64, 128, 256)


class DecoderKind(str, Enum):
    """The depth decoder: the article's bilinear upsampling or a U-Net with skip connections."""

    BILINEAR = "bilinear"
    UNET = "unet"


def disparity_to_depth(disparity: torch.Tensor, min_depth: float, max_depth: float) -> torch.Tensor:
    """Depth of a sigmoid disparity in (0, 1): ``1 / (1/max + (1/min - 1/max) d)``. Any shape, same shape out."""
    if not 0 < min_depth < max_depth:
        raise ConfigError(f"depth range: expected 0 < min_depth < max_depth, got {min_depth}, {max_depth}")
    min_disparity, max_disparity = 1.0 / max_depth, 1.0 / min_depth
    return 1.0 / (min_disparity + (max_disparity - min_disparity) * disparity)


@dataclass
class DepthOutput:
    """Depth predictions at one or more scales.

    Attributes:
        disparities: list over scales ``s = 0, 1, ...`` of ``(B, 1, H / 2^s, W / 2^s)`` sigmoid disparities.
        depths: the same scales as depth in metres (up to the unknown scale of self-supervised training).
    """

    disparities: list[torch.Tensor]
    depths: list[torch.Tensor]

    @property
    def depth(self) -> torch.Tensor:
        """``(B, 1, H, W)`` full-resolution depth."""
        return self.depths[0]


class ConvBlock(nn.Module):
    """3x3 reflection-padded convolution followed by ELU (optional)."""

    def __init__(self, in_channels: int, out_channels: int, activation: bool = True):
        super().__init__()
        self.pad = nn.ReflectionPad2d(1)
        self.conv = nn.Conv2d(in_channels, out_channels, 3)
        self.activation = nn.ELU(inplace=True) if activation else nn.Identity()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.activation(self.conv(self.pad(x)))


class BilinearDecoder(nn.Module):
    """The article's decoder: a 1x1 convolution of the stride-32 features, upsampled 32x bilinearly, sigmoid."""

    num_scales = 1

    def __init__(self, encoder_channels: list[int]):
        super().__init__()
        self.disp_conv = nn.Conv2d(encoder_channels[-1], 1, kernel_size=1)

    def forward(self, features: list[torch.Tensor]) -> list[torch.Tensor]:
        logits = self.disp_conv(features[-1])
        return [torch.sigmoid(F.interpolate(logits, scale_factor=32, mode="bilinear", align_corners=False))]


class UNetDecoder(nn.Module):
    """Monodepth2-style decoder: for level ``i = 4 .. 0``: conv, upsample x2, concatenate the encoder's level
    ``i - 1``, conv; a sigmoid disparity head at scales ``0 .. num_scales - 1``."""

    def __init__(self, encoder_channels: list[int], num_scales: int = 4):
        super().__init__()
        if not 1 <= num_scales <= len(DECODER_CHANNELS):
            raise ConfigError(f"num_scales: expected 1..{len(DECODER_CHANNELS)}, got {num_scales}")
        self.num_scales = num_scales
        levels = len(DECODER_CHANNELS)
        self.upconv_in = nn.ModuleList()
        self.upconv_out = nn.ModuleList()
        for i in range(levels):
            below = encoder_channels[-1] if i == levels - 1 else DECODER_CHANNELS[i + 1]
            skip = encoder_channels[i - 1] if i > 0 else 0
            self.upconv_in.append(ConvBlock(below, DECODER_CHANNELS[i]))
            self.upconv_out.append(ConvBlock(DECODER_CHANNELS[i] + skip, DECODER_CHANNELS[i]))
        self.disp_convs = nn.ModuleList(ConvBlock(DECODER_CHANNELS[s], 1, activation=False) for s in range(num_scales))

    def forward(self, features: list[torch.Tensor]) -> list[torch.Tensor]:
        disparities: list[torch.Tensor | None] = [None] * self.num_scales
        x = features[-1]
        for i in reversed(range(len(DECODER_CHANNELS))):
            x = F.interpolate(self.upconv_in[i](x), scale_factor=2, mode="nearest")
            if i > 0:
                x = torch.cat((x, features[i - 1]), dim=1)
            x = self.upconv_out[i](x)
            if i < self.num_scales:
                disparities[i] = torch.sigmoid(self.disp_convs[i](x))
        return disparities  # type: ignore[return-value]


class DepthNet(nn.Module):
    """Encoder-decoder depth network.

    Args:
        encoder: a 3-channel :class:`~posekit.models.backbones.Backbone`.
        decoder: :class:`DecoderKind`.
        min_depth, max_depth: the depth range of the sigmoid output (metres).
        num_scales: output scales of the U-Net decoder (the bilinear decoder has one).
        freeze_encoder: freeze the encoder.

    Example:
        >>> from posekit.models.backbones import create_backbone
        >>> net = DepthNet(create_backbone("resnet18")).eval()
        >>> [d.shape[-2:] for d in net(torch.rand(1, 3, 64, 96)).depths]
        [torch.Size([64, 96]), torch.Size([32, 48]), torch.Size([16, 24]), torch.Size([8, 12])]
    """

    def __init__(
        self,
        encoder: Backbone,
        decoder: DecoderKind | str = DecoderKind.UNET,
        min_depth: float = 0.1,
        max_depth: float = 100.0,
        num_scales: int = 4,
        freeze_encoder: bool = False,
    ):
        super().__init__()
        disparity_to_depth(torch.zeros(()), min_depth, max_depth)  # validates the range
        if encoder.in_channels != 3:
            raise ConfigError(f"depth encoder: expected in_channels=3, got {encoder.in_channels}")
        self.encoder = encoder
        self.decoder_kind = DecoderKind(decoder)
        self.min_depth = float(min_depth)
        self.max_depth = float(max_depth)
        if self.decoder_kind is DecoderKind.BILINEAR:
            self.decoder: nn.Module = BilinearDecoder(encoder.out_channels)
        else:
            self.decoder = UNetDecoder(encoder.out_channels, num_scales)
        if freeze_encoder:
            encoder.freeze()

    @property
    def num_scales(self) -> int:
        return self.decoder.num_scales

    def forward(self, images: torch.Tensor) -> DepthOutput:
        """``(B, 3, H, W)`` images in [0, 1], H and W multiples of 32 -> :class:`DepthOutput`."""
        if images.dim() != 4 or images.shape[-2] % 32 or images.shape[-1] % 32:
            raise ShapeError(
                f"images: expected shape (B, 3, H, W) with H and W multiples of 32, got {tuple(images.shape)}"
            )
        disparities = self.decoder(self.encoder.features(images))
        depths = [disparity_to_depth(d, self.min_depth, self.max_depth) for d in disparities]
        return DepthOutput(disparities=disparities, depths=depths)
