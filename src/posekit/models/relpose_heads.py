"""Pose heads that keep *where* things are: they read the two images' feature maps (stride 8-16) instead of
pooled vectors, because motion is the displacement between the two images.

- :class:`SpatialFusionHead` (late fusion on feature maps): the source and target maps concatenated
  channel-wise, a few convolutions, average pooling to a small grid (the founding article's AlexNet kept a 6x6
  map in its FC input), then FC layers to the 6 raw outputs.
- :class:`CorrelationHead`: a local correlation volume between the two maps
  (:func:`posekit.models.correlation.local_correlation`, on channel-normalised features), optionally beside a
  projection of the target map (``context`` channels, off by default: on 7-Scenes frames 700-799 the head
  without it generalised better, validation loss 0.140 vs 0.186, since appearance lets a head memorise the
  training trajectory), then the same convolutions, grid pooling and FC layers.

The pooled baseline (global average pooling of each map, concatenated, FC) stays in
:class:`posekit.models.relpose.RelativePoseNet`.

Every head maps ``(B, C, h, w)`` source and target maps to ``(B, 6)`` raw outputs ``(t, omega)`` (before the
network's output scale).
"""

from __future__ import annotations

from collections.abc import Sequence
from enum import Enum

import torch
import torch.nn.functional as F
from torch import nn

from posekit.errors import ConfigError, ShapeError
from posekit.models.correlation import correlation_displacements, local_correlation
from posekit.models.layers import kaiming_init, mlp

DEFAULT_GRID = (3, 4)


class PoseHeadKind(str, Enum):
    """Which head reads the backbone's features: pooled vectors (the baseline), concatenated feature maps
    (``spatial``) or a correlation volume of the maps (``correlation``)."""

    POOLED = "pooled"
    SPATIAL = "spatial"
    CORRELATION = "correlation"


def _check_maps(source: torch.Tensor, target: torch.Tensor, channels: int) -> None:
    if source.dim() != 4 or source.shape != target.shape or source.shape[1] != channels:
        raise ShapeError(f"pose head: expected equal (B, {channels}, h, w) source and target maps, got "
                         f"{tuple(source.shape)} and {tuple(target.shape)}")


def _conv_block(in_channels: int, width: int) -> nn.Sequential:
    """3x3 conv, a stride-2 3x3 conv, each followed by ReLU."""
    return nn.Sequential(
        nn.Conv2d(in_channels, width, 3, padding=1), nn.ReLU(),
        nn.Conv2d(width, width, 3, stride=2, padding=1), nn.ReLU(),
    )


class _GridPoolFC(nn.Module):
    """``(B, width, h, w)`` -> average pooled to ``grid`` -> flattened -> FC -> ``(B, 6)``."""

    def __init__(self, width: int, grid: tuple[int, int], hidden: Sequence[int], dropout: float):
        super().__init__()
        self.grid = tuple(int(g) for g in grid)
        self.fc = mlp(width * self.grid[0] * self.grid[1], hidden, 6, dropout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(F.adaptive_avg_pool2d(x, self.grid).flatten(1))


class SpatialFusionHead(nn.Module):
    """Late fusion on feature maps: ``[source, target]`` maps concatenated channel-wise, a 1x1 reduction, a 3x3
    and a stride-2 3x3 convolution, average pooling to ``grid``, FC layers to 6 outputs.

    Args:
        channels: ``C`` of each map.
        width: channels of the convolutions.
        grid: ``(rows, cols)`` of the pooled map fed to the FC layers.
        hidden: FC widths.
        dropout: dropout after each hidden FC layer.

    Example:
        >>> head = SpatialFusionHead(16, width=8, hidden=(16,))
        >>> head(torch.rand(2, 16, 12, 16), torch.rand(2, 16, 12, 16)).shape
        torch.Size([2, 6])
    """

    def __init__(self, channels: int, width: int = 64, grid: tuple[int, int] = DEFAULT_GRID,
                 hidden: Sequence[int] = (256,), dropout: float = 0.0):
        super().__init__()
        self.channels = channels
        self.reduce = nn.Sequential(nn.Conv2d(2 * channels, width, 1), nn.ReLU())
        self.convs = _conv_block(width, width)
        self.out = _GridPoolFC(width, grid, hidden, dropout)
        kaiming_init(self)

    def forward(self, source: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        """``(B, C, h, w)`` maps -> ``(B, 6)`` raw outputs."""
        _check_maps(source, target, self.channels)
        return self.out(self.convs(self.reduce(torch.cat((source, target), dim=1))))


class CorrelationHead(nn.Module):
    """Local correlation volume of the channel-normalised maps (``(2r + 1)^2`` channels) and a 1x1 projection of
    the target map (``context`` channels), concatenated, then the convolutions, grid pooling and FC layers of
    :class:`SpatialFusionHead`.

    Args:
        channels: ``C`` of each map.
        max_displacement: ``r`` of the correlation, in feature-map cells.
        context: channels of the target-map projection (0: none, the default).
        width, grid, hidden, dropout: as :class:`SpatialFusionHead`.

    Example:
        >>> head = CorrelationHead(16, max_displacement=2, width=8, hidden=(16,))
        >>> head(torch.rand(2, 16, 12, 16), torch.rand(2, 16, 12, 16)).shape
        torch.Size([2, 6])
    """

    def __init__(self, channels: int, max_displacement: int = 4, context: int = 0, width: int = 64,
                 grid: tuple[int, int] = DEFAULT_GRID, hidden: Sequence[int] = (256,), dropout: float = 0.0):
        super().__init__()
        self.channels = channels
        self.max_displacement = int(max_displacement)
        volume_channels = len(correlation_displacements(self.max_displacement))
        self.context = nn.Sequential(nn.Conv2d(channels, context, 1), nn.ReLU()) if context > 0 else None
        self.convs = _conv_block(volume_channels + max(context, 0), width)
        self.out = _GridPoolFC(width, grid, hidden, dropout)
        kaiming_init(self)

    def volume(self, source: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        """``(B, (2r + 1)^2, h, w)`` correlation of the L2-normalised (over channels) maps, scaled by ``C`` so that
        a perfect match gives 1."""
        _check_maps(source, target, self.channels)
        return self.channels * local_correlation(F.normalize(target, dim=1), F.normalize(source, dim=1),
                                                 self.max_displacement)

    def forward(self, source: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        """``(B, C, h, w)`` maps -> ``(B, 6)`` raw outputs."""
        x = self.volume(source, target)
        if self.context is not None:
            x = torch.cat((x, self.context(target)), dim=1)
        return self.out(self.convs(x))


def build_map_head(kind: PoseHeadKind | str, channels: int, hidden: Sequence[int] = (256,),
                   dropout: float = 0.0) -> nn.Module:
    """The spatial head of ``kind`` (``spatial`` or ``correlation``) on ``channels``-channel maps; ``hidden``:
    FC widths after the grid pooling."""
    kind = PoseHeadKind(kind)
    if kind is PoseHeadKind.POOLED:
        raise ConfigError("head: the pooled head is RelativePoseNet's own FC stack, not a map head")
    if kind is PoseHeadKind.SPATIAL:
        return SpatialFusionHead(channels, hidden=hidden, dropout=dropout)
    return CorrelationHead(channels, hidden=hidden, dropout=dropout)
