"""Local correlation (cost) volume between two feature maps, as optical-flow networks (FlowNetC, PWC-Net) compare
two images: for every pixel of the target map and every displacement ``(dy, dx)`` within ``max_displacement``,
the channel mean of the product of the target feature and the source feature displaced by ``(dy, dx)``.

Example:
    >>> target, source = torch.rand(2, 16, 12, 16), torch.rand(2, 16, 12, 16)
    >>> local_correlation(target, source, max_displacement=4).shape
    torch.Size([2, 81, 12, 16])
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from posekit.errors import ConfigError, ShapeError


def correlation_displacements(max_displacement: int) -> list[tuple[int, int]]:
    """The ``(dy, dx)`` displacements of :func:`local_correlation`'s channels, in channel order (row-major,
    ``dy`` then ``dx`` from ``-max_displacement`` to ``+max_displacement``)."""
    if max_displacement < 0:
        raise ConfigError(f"max_displacement: expected >= 0, got {max_displacement}")
    r = range(-max_displacement, max_displacement + 1)
    return [(dy, dx) for dy in r for dx in r]


def local_correlation(target: torch.Tensor, source: torch.Tensor, max_displacement: int = 4) -> torch.Tensor:
    """Correlation volume ``C[b, k, y, x] = mean_c target[b, c, y, x] * source[b, c, y + dy_k, x + dx_k]``.

    Source positions outside the map count as zero features (zero correlation).

    Args:
        target: ``(B, C, H, W)`` feature map.
        source: ``(B, C, H, W)`` feature map of the other image.
        max_displacement: ``r``; the displacements are ``[-r, r]^2`` (:func:`correlation_displacements`).

    Returns:
        ``(B, (2r + 1)^2, H, W)``.
    """
    if target.dim() != 4 or target.shape != source.shape:
        raise ShapeError(f"local_correlation: target {tuple(target.shape)} and source {tuple(source.shape)} "
                         "must be equal (B, C, H, W) shapes")
    r = int(max_displacement)
    displacements = correlation_displacements(r)
    h, w = target.shape[-2:]
    padded = F.pad(source, (r, r, r, r))
    channels = target.shape[1]
    volumes = [
        (target * padded[:, :, r + dy:r + dy + h, r + dx:r + dx + w]).sum(1) / channels
        for dy, dx in displacements
    ]
    return torch.stack(volumes, dim=1)
