"""The self-supervised objectives of relative-pose training: the photometric error of warping source images into
the target view, with known target depth (training mode 2) or with predicted depth from monocular video (mode 3).

- :func:`known_depth_photometric_loss`: the founding article's experiment. The source is warped with the
  sensor depth of the target and the predicted ``T_src_tgt``; the per-pixel error (L1, optionally
  ``a (1 - SSIM)/2 + (1 - a) L1``, optionally edge-weighted) is averaged over the warp's validity mask (depth
  known, in front of the source camera, inside the source image), so the error at the true pose has no floor
  from out-of-frame pixels; optionally averaged over an image pyramid (``levels``) to widen its basin.
- :func:`monocular_photometric_loss`: Monodepth2's objective. For every output scale of the depth network the
  disparity is upsampled to the input size and each source is warped into the target; the per-pixel
  **minimum over the sources** handles occlusions, and **auto-masking** drops the pixels where an unwarped
  source already matches the target better than every warped one (a static camera, or objects moving with
  it). Pixels a source cannot see (outside its image) do not take part in its minimum. An edge-aware
  smoothness term on the mean-normalised disparity, weighted by ``1 / 2^s`` at scale ``s``, is added.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from posekit.geometry.pyramid import image_pyramid
from posekit.geometry import warp_source_to_target
from posekit.geometry.checks import check_shape
from posekit.losses.photometric import masked_mean, photometric_error_map
from posekit.losses.smoothness import edge_aware_smoothness
from posekit.models.depth import disparity_to_depth

# Added to the identity (unwarped) errors before the per-pixel minimum, to break ties on textureless pixels
# as Monodepth2 does (its random 1e-5 noise, made deterministic here).
IDENTITY_TIE_BREAK = 1e-5


@dataclass
class PhotometricTerms:
    """A self-supervised loss and what to log about it.

    Attributes:
        total: the scalar to minimise.
        photometric: the photometric part (scalar, detached for logging).
        smoothness: the smoothness part (scalar; 0 without depth prediction).
        valid_fraction: share of target pixels that took part (scalar, detached).
        automask_fraction: share of pixels auto-masked as static (scalar; 0 when not used).
    """

    total: torch.Tensor
    photometric: torch.Tensor
    smoothness: torch.Tensor
    valid_fraction: torch.Tensor
    automask_fraction: torch.Tensor


def known_depth_photometric_error(
    source_image: torch.Tensor,
    target_image: torch.Tensor,
    target_depth: torch.Tensor,
    T_src_tgt: torch.Tensor,
    intrinsics: torch.Tensor,
    ssim_weight: float = 0.0,
    edge_weight: float = 0.0,
    levels: int = 1,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-pair masked photometric error of the warp with sensor depth.

    Args:
        source_image, target_image: ``(B, C, H, W)`` in [0, 1].
        target_depth: ``(B, 1, H, W)`` metres, 0 = unknown.
        T_src_tgt: ``(B, 4, 4)`` (differentiable: the predicted pose).
        intrinsics: ``(B, 4)`` or ``(4,)`` ``(fx, fy, cx, cy)`` of both images.
        ssim_weight: weight of the SSIM term (0.85 as Monodepth2; 0 for plain L1).
        edge_weight: edge weighting of the error (0: off).
        levels: average the error over this many pyramid levels (:func:`~posekit.geometry.pyramid.image_pyramid`); coarse levels see a
            pose error of many full-resolution pixels as a few pixels, so their gradient still points the right
            way (the direct alignment's coarse-to-fine idea). 1: full resolution only.

    Returns:
        ``(errors, valid_fraction)``: two ``(B,)`` tensors (the valid fraction of the full-resolution warp).
    """
    check_shape("target_image", target_image, tuple(source_image.shape))
    errors, valid_fraction = [], None
    for source, target, depth, k in image_pyramid(source_image, target_image, target_depth, intrinsics, levels):
        warp = warp_source_to_target(source, depth, T_src_tgt, k)
        error = photometric_error_map(target, warp.warped, ssim_weight=ssim_weight, edge_weight=edge_weight)
        errors.append(masked_mean(error, warp.valid))
        if valid_fraction is None:
            valid_fraction = warp.valid.float().mean(dim=(1, 2, 3))
    return torch.stack(errors).mean(0), valid_fraction


def known_depth_photometric_loss(
    source_image: torch.Tensor,
    target_image: torch.Tensor,
    target_depth: torch.Tensor,
    T_src_tgt: torch.Tensor,
    intrinsics: torch.Tensor,
    ssim_weight: float = 0.0,
    edge_weight: float = 0.0,
    levels: int = 1,
) -> PhotometricTerms:
    """Mean over the batch of :func:`known_depth_photometric_error` (training mode 2)."""
    errors, valid_fraction = known_depth_photometric_error(
        source_image, target_image, target_depth, T_src_tgt, intrinsics, ssim_weight, edge_weight, levels
    )
    total = errors.mean()
    zero = total.new_zeros(())
    return PhotometricTerms(total, total.detach(), zero, valid_fraction.mean().detach(), zero)


def _upsample(disparity: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    if tuple(disparity.shape[-2:]) == tuple(size):
        return disparity
    return F.interpolate(disparity, size=size, mode="bilinear", align_corners=False)


def monocular_photometric_loss(
    target_image: torch.Tensor,
    source_images: torch.Tensor,
    disparities: Sequence[torch.Tensor],
    T_src_tgt: torch.Tensor,
    intrinsics: torch.Tensor,
    *,
    min_depth: float,
    max_depth: float,
    ssim_weight: float = 0.85,
    edge_weight: float = 0.0,
    automask: bool = True,
    smoothness_weight: float = 1e-3,
) -> PhotometricTerms:
    """Monodepth2's multi-scale loss (see the module docstring), averaged over scales.

    Args:
        target_image: ``(B, C, H, W)`` in [0, 1].
        source_images: ``(B, S, C, H, W)`` the other frames of each snippet.
        disparities: per scale ``s``, ``(B, 1, H / 2^s, W / 2^s)`` sigmoid disparities of the target.
        T_src_tgt: ``(B, S, 4, 4)`` predicted poses of the target in each source frame.
        intrinsics: ``(B, 4)`` intrinsics at ``H x W``.
        min_depth, max_depth: the depth network's range (disparity to depth).
        ssim_weight, edge_weight: the photometric error (see :func:`photometric_error_map`).
        automask: Monodepth2's auto-masking of static pixels.
        smoothness_weight: weight of the edge-aware smoothness at scale 0 (halved per scale).

    Returns:
        :class:`PhotometricTerms`.
    """
    b, c, h, w = target_image.shape
    check_shape("source_images", source_images, (b, None, c, h, w))
    s = source_images.shape[1]
    check_shape("T_src_tgt", T_src_tgt, (b, s, 4, 4))
    sources = source_images.reshape(b * s, c, h, w)
    targets = target_image[:, None].expand(b, s, c, h, w).reshape(b * s, c, h, w)
    poses = T_src_tgt.reshape(b * s, 4, 4)
    k = intrinsics.reshape(-1, 4).expand(b, 4)[:, None].expand(b, s, 4).reshape(b * s, 4)

    identity = None
    if automask:  # error of the unwarped sources; it does not depend on the prediction
        identity = photometric_error_map(targets, sources, ssim_weight, edge_weight).reshape(b, s, h, w)
        identity = identity + IDENTITY_TIE_BREAK
    photometric_terms, smoothness_terms, valid_fractions, masked_fractions = [], [], [], []
    for scale, disparity in enumerate(disparities):
        depth = disparity_to_depth(_upsample(disparity, (h, w)), min_depth, max_depth)
        depth = depth[:, None].expand(b, s, 1, h, w).reshape(b * s, 1, h, w)
        warp = warp_source_to_target(sources, depth, poses, k)
        error = photometric_error_map(targets, warp.warped, ssim_weight, edge_weight).reshape(b, s, h, w)
        error = torch.where(warp.valid.reshape(b, s, h, w), error, torch.full_like(error, float("inf")))
        candidates = error if identity is None else torch.cat((identity, error), dim=1)
        best, winner = candidates.min(dim=1)
        used = torch.isfinite(best)
        if identity is not None:
            static = winner < s
            masked_fractions.append(static.float().mean().detach())
            used = used & ~static
        photometric_terms.append(masked_mean(torch.where(used, best, 0.0)[:, None], used[:, None]).mean())
        valid_fractions.append(used.float().mean().detach())
        image_at_scale = target_image if disparity.shape[-2:] == (h, w) else F.interpolate(
            target_image, size=disparity.shape[-2:], mode="bilinear", align_corners=False)
        smoothness_terms.append(edge_aware_smoothness(disparity, image_at_scale) / (2**scale))
    photometric = torch.stack(photometric_terms).mean()
    smoothness = torch.stack(smoothness_terms).mean()
    total = photometric + smoothness_weight * smoothness
    zero = total.new_zeros(())
    automask_fraction = torch.stack(masked_fractions).mean() if masked_fractions else zero
    return PhotometricTerms(total, photometric.detach(), smoothness.detach(), torch.stack(valid_fractions).mean(), automask_fraction)
