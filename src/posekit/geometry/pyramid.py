"""Image pyramids for coarse-to-fine photometric methods: images by 2x2 means, depth by the mean of its known
values, intrinsics by the pixel-centre scaling rule of :meth:`PinholeIntrinsics.scaled`, batched.

Used by the direct alignment baseline (:mod:`posekit.baselines.direct_alignment`) and the photometric training
loss (:mod:`posekit.losses.selfsup`), so both see the same levels.
"""

from __future__ import annotations

from collections.abc import Iterator

import torch
import torch.nn.functional as F

from posekit.geometry.checks import check_trailing_shape


def scale_intrinsics(intrinsics: torch.Tensor, sx: float, sy: float) -> torch.Tensor:
    """Intrinsics of images scaled by ``sx`` horizontally and ``sy`` vertically, batched.

    Pixel centres are at integers, so a pixel ``u`` maps to ``sx (u + 0.5) - 0.5``: ``fx' = sx fx``,
    ``cx' = sx (cx + 0.5) - 0.5`` (the rule of :meth:`posekit.geometry.camera.PinholeIntrinsics.scaled`).

    Args:
        intrinsics: ``(..., 4)`` ``(fx, fy, cx, cy)``.

    Returns:
        ``(..., 4)``.
    """
    check_trailing_shape("intrinsics", intrinsics, (4,))
    fx, fy, cx, cy = intrinsics.unbind(-1)
    return torch.stack((fx * sx, fy * sy, sx * (cx + 0.5) - 0.5, sy * (cy + 0.5) - 0.5), dim=-1)


def downsample_depth(depth: torch.Tensor) -> torch.Tensor:
    """Halve a depth map: the mean of the known depths of each 2x2 block, 0 where none is known.

    Args:
        depth: ``(B, 1, H, W)``, 0 or non-finite = unknown.

    Returns:
        ``(B, 1, H // 2, W // 2)``.
    """
    known = (torch.isfinite(depth) & (depth > 0)).to(depth.dtype)
    total = F.avg_pool2d(torch.nan_to_num(depth, nan=0.0, posinf=0.0, neginf=0.0) * known, 2)
    count = F.avg_pool2d(known, 2)
    return torch.where(count > 0, total / count.clamp_min(1e-12), torch.zeros_like(total))


def image_pyramid(source_image: torch.Tensor, target_image: torch.Tensor, target_depth: torch.Tensor,
                  intrinsics: torch.Tensor, levels: int, min_size: int = 8) -> Iterator[tuple[torch.Tensor, ...]]:
    """``(source, target, depth, intrinsics)`` at full resolution, then halved ``levels - 1`` times, finest first.

    Images by 2x2 means, depth by :func:`downsample_depth`, intrinsics by :func:`scale_intrinsics` with scale
    1/2 (``f / 2`` and ``(c - 0.5) / 2``: 2x2 average pooling maps ``u -> (u - 0.5) / 2``); stops before a side
    would be smaller than ``min_size``.

    Args:
        source_image, target_image: ``(B, C, H, W)``.
        target_depth: ``(B, 1, H, W)``.
        intrinsics: ``(B, 4)`` or ``(4,)`` ``(fx, fy, cx, cy)``.

    Yields:
        ``(B, C, h, w)`` images, ``(B, 1, h, w)`` depth and ``(B, 4)`` intrinsics of each level.
    """
    k = intrinsics.reshape(-1, 4).expand(source_image.shape[0], 4)
    for level in range(levels):
        if level > 0:
            if min(source_image.shape[-2:]) // 2 < min_size:
                return
            source_image, target_image = F.avg_pool2d(source_image, 2), F.avg_pool2d(target_image, 2)
            target_depth = downsample_depth(target_depth)
            k = scale_intrinsics(k, 0.5, 0.5)
        yield source_image, target_image, target_depth, k
