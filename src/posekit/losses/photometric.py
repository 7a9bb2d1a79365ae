"""Photometric errors between a target image and a source image warped into the target view.

The error is averaged over the validity mask only (depth known, point in front of the source camera, projection
inside the source image), so a perfect warp has zero error: there is no loss floor from out-of-frame pixels.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from posekit.geometry.checks import check_shape
from posekit.geometry.image_gradients import image_gradient_magnitude


def masked_mean(values: torch.Tensor, mask: torch.Tensor, eps: float = 1e-12) -> torch.Tensor:
    """Mean of ``values`` over the pixels where ``mask`` is set, per batch element.

    Args:
        values: ``(B, C, H, W)``.
        mask: ``(B, 1, H, W)`` bool or float weights.

    Returns:
        ``(B,)`` means (0 where the mask is empty).
    """
    check_shape("mask", mask, (values.shape[0], 1) + tuple(values.shape[2:]))
    weights = mask.to(values.dtype)
    total = (values * weights).sum(dim=(1, 2, 3))
    count = weights.sum(dim=(1, 2, 3)) * values.shape[1]
    return total / count.clamp_min(eps)


def masked_l1_error(target: torch.Tensor, warped: torch.Tensor, valid: torch.Tensor) -> torch.Tensor:
    """Mean absolute difference over valid pixels and channels.

    Args:
        target: ``(B, C, H, W)`` target image.
        warped: ``(B, C, H, W)`` source image warped into the target view.
        valid: ``(B, 1, H, W)`` validity mask of the warp.

    Returns:
        ``(B,)`` errors, in the images' units.
    """
    check_shape("warped", warped, tuple(target.shape))
    return masked_mean((target - warped).abs(), valid)


def ssim_dissimilarity(x: torch.Tensor, y: torch.Tensor, window: int = 3) -> torch.Tensor:
    """Per-pixel ``(1 - SSIM) / 2`` over a ``window x window`` box (Monodepth2's form), in [0, 1].

    Args:
        x, y: ``(B, C, H, W)`` images in [0, 1].

    Returns:
        ``(B, C, H, W)``.
    """
    check_shape("y", y, tuple(x.shape))
    c1, c2 = 0.01**2, 0.03**2
    pad = window // 2
    xp = F.pad(x, (pad,) * 4, mode="reflect")
    yp = F.pad(y, (pad,) * 4, mode="reflect")
    mu_x = F.avg_pool2d(xp, window, 1)
    mu_y = F.avg_pool2d(yp, window, 1)
    sigma_x = F.avg_pool2d(xp * xp, window, 1) - mu_x**2
    sigma_y = F.avg_pool2d(yp * yp, window, 1) - mu_y**2
    sigma_xy = F.avg_pool2d(xp * yp, window, 1) - mu_x * mu_y
    ssim = ((2 * mu_x * mu_y + c1) * (2 * sigma_xy + c2)) / ((mu_x**2 + mu_y**2 + c1) * (sigma_x + sigma_y + c2))
    return torch.clamp((1 - ssim) / 2, 0, 1)


def photometric_error_map(
    target: torch.Tensor, warped: torch.Tensor, ssim_weight: float = 0.0, edge_weight: float = 0.0
) -> torch.Tensor:
    """Per-pixel photometric error ``a * (1 - SSIM)/2 + (1 - a) * |t - w|`` averaged over channels.

    Args:
        target, warped: ``(B, C, H, W)`` images in [0, 1].
        ssim_weight: ``a``; 0.85 is Monodepth2's choice, 0 gives plain L1.
        edge_weight: if > 0, weight each pixel by ``1 + edge_weight * |grad target|`` (normalised to mean 1 over
            the image), the founding article's proposal to weigh edges more.

    Returns:
        ``(B, 1, H, W)`` error map.
    """
    check_shape("warped", warped, tuple(target.shape))
    error = (target - warped).abs().mean(1, keepdim=True)
    if ssim_weight > 0:
        error = ssim_weight * ssim_dissimilarity(target, warped).mean(1, keepdim=True) + (1 - ssim_weight) * error
    if edge_weight > 0:
        weights = 1 + edge_weight * image_gradient_magnitude(target)
        error = error * weights / weights.mean(dim=(2, 3), keepdim=True)
    return error
