"""Depth-and-pose warping: the "transform 3-D grid" and "pinhole projection" layers of gvnn, fused.

For each target pixel ``x_t`` with depth ``z``, its 3-D point ``z K_t^-1 x_t`` is moved into the source frame
by ``T_src_tgt`` and projected by ``K_s``. Folding the three steps into one ``3 x 3`` matrix
``M = K_s R K_t^-1`` and one vector ``b = K_s t`` gives the source pixel in homogeneous form as
``z (M x_t) + b``: one batched matrix product over a cached pixel grid, no per-pixel ``K^-1`` and no
homogeneous round trips. The source image is then sampled bilinearly (``grid_sample`` with
``align_corners=True``, matching the pixel-centre convention).

The validity mask excludes target pixels whose depth is unknown (0 or non-finite), whose point lands behind
the source camera, or whose projection falls outside the source image. Invalid pixels are computed on safe
values (never divided by zero), so every output is finite and the masked photometric error of a perfect warp
is zero.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F

from posekit.geometry.camera import PinholeIntrinsics, batch_intrinsics, homogeneous_pixel_grid, intrinsics_to_matrix
from posekit.geometry.checks import check_floating, check_shape

MIN_DEPTH = 1e-6


@dataclass
class TargetProjection:
    """Where the target pixels land in the source camera.

    Attributes:
        source_pixels: ``(B, 2, H, W)`` source pixel coordinates ``(u, v)`` of each target pixel.
        source_depth: ``(B, 1, H, W)`` z-depth of each target pixel's point in the source frame.
        valid: ``(B, 1, H, W)`` bool: depth known, in front of the source camera, inside the source image.
    """

    source_pixels: torch.Tensor
    source_depth: torch.Tensor
    valid: torch.Tensor

    @property
    def flow(self) -> torch.Tensor:
        """``(B, 2, H, W)`` optical flow from target to source in pixels: ``source_pixels - (u, v)``."""
        b, _, h, w = self.source_pixels.shape
        grid = homogeneous_pixel_grid(h, w, self.source_pixels.dtype, self.source_pixels.device)[:2]
        return self.source_pixels - grid.reshape(1, 2, h, w)


@dataclass
class WarpResult:
    """Output of :func:`warp_source_to_target`.

    Attributes:
        warped: ``(B, C, H, W)`` the source image seen from the target view (0 where not valid).
        flow: ``(B, 2, H, W)`` target-to-source flow in pixels.
        valid: ``(B, 1, H, W)`` bool validity mask.
        source_pixels: ``(B, 2, H, W)`` sampling positions in the source image.
        source_depth: ``(B, 1, H, W)`` z-depth of the target points in the source frame.
    """

    warped: torch.Tensor
    flow: torch.Tensor
    valid: torch.Tensor
    source_pixels: torch.Tensor
    source_depth: torch.Tensor


def project_target_to_source(
    target_depth: torch.Tensor,
    T_src_tgt: torch.Tensor,
    intrinsics: torch.Tensor | PinholeIntrinsics,
    source_intrinsics: torch.Tensor | PinholeIntrinsics | None = None,
    source_size: tuple[int, int] | None = None,
) -> TargetProjection:
    """Project every target pixel, lifted by its depth and moved by ``T_src_tgt``, into the source camera.

    Args:
        target_depth: ``(B, 1, H, W)`` target z-depth in metres, 0 or non-finite = unknown.
        T_src_tgt: ``(B, 4, 4)`` or ``(4, 4)`` pose mapping target-frame points into the source frame.
        intrinsics: target intrinsics, ``(B, 4)``/``(4,)`` tensor or :class:`PinholeIntrinsics`.
        source_intrinsics: source intrinsics if they differ from the target's.
        source_size: ``(height, width)`` of the source image (default: the target's).

    Returns:
        A :class:`TargetProjection`.
    """
    check_shape("target_depth", target_depth, (None, 1, None, None))
    check_floating("target_depth", target_depth)
    b, _, h, w = target_depth.shape
    if T_src_tgt.shape == (4, 4):
        T_src_tgt = T_src_tgt.expand(b, 4, 4)
    check_shape("T_src_tgt", T_src_tgt, (b, 4, 4))
    dtype = torch.promote_types(target_depth.dtype, T_src_tgt.dtype)
    depth = target_depth.to(dtype)
    pose = T_src_tgt.to(dtype)
    k_tgt = intrinsics_to_matrix(batch_intrinsics(intrinsics, b, depth))
    k_src = k_tgt if source_intrinsics is None else intrinsics_to_matrix(batch_intrinsics(source_intrinsics, b, depth))
    src_h, src_w = (h, w) if source_size is None else source_size

    m = k_src @ pose[:, :3, :3] @ torch.linalg.inv(k_tgt)  # (B, 3, 3)
    offset = (k_src @ pose[:, :3, 3:4])  # (B, 3, 1)
    depth_flat = depth.reshape(b, 1, h * w)
    depth_known = torch.isfinite(depth_flat) & (depth_flat > 0)
    depth_safe = torch.where(depth_known, depth_flat, torch.ones_like(depth_flat))
    pix = homogeneous_pixel_grid(h, w, dtype, depth.device)
    projected = depth_safe * (m @ pix) + offset  # (B, 3, H*W), homogeneous source pixels times source z
    z = projected[:, 2:3]
    in_front = z > MIN_DEPTH
    z_safe = torch.where(in_front, z, torch.ones_like(z))
    uv = projected[:, :2] / z_safe
    inside = (uv[:, 0:1] >= 0) & (uv[:, 0:1] <= src_w - 1) & (uv[:, 1:2] >= 0) & (uv[:, 1:2] <= src_h - 1)
    valid = depth_known & in_front & inside
    return TargetProjection(uv.reshape(b, 2, h, w), z.reshape(b, 1, h, w), valid.reshape(b, 1, h, w))


def sample_at_pixels(image: torch.Tensor, pixels: torch.Tensor, mode: str = "bilinear") -> torch.Tensor:
    """Sample ``image`` at pixel coordinates (pixel-centre convention), zeros outside.

    Args:
        image: ``(B, C, Hs, Ws)``.
        pixels: ``(B, 2, H, W)`` coordinates ``(u, v)`` in ``image``'s pixels.
        mode: ``"bilinear"`` or ``"nearest"``.

    Returns:
        ``(B, C, H, W)``.
    """
    check_shape("image", image, (pixels.shape[0], None, None, None))
    h_s, w_s = image.shape[-2:]
    scale = pixels.new_tensor([2.0 / max(w_s - 1, 1), 2.0 / max(h_s - 1, 1)]).reshape(1, 2, 1, 1)
    grid = (pixels * scale - 1.0).permute(0, 2, 3, 1)
    return F.grid_sample(image, grid.to(image.dtype), mode=mode, padding_mode="zeros", align_corners=True)


def warp_source_to_target(
    source_image: torch.Tensor,
    target_depth: torch.Tensor,
    T_src_tgt: torch.Tensor,
    intrinsics: torch.Tensor | PinholeIntrinsics,
    source_intrinsics: torch.Tensor | PinholeIntrinsics | None = None,
) -> WarpResult:
    """Warp the source image into the target view using the target depth and the relative pose.

    Differentiable with respect to the source image, the target depth and ``T_src_tgt``.

    Args:
        source_image: ``(B, C, Hs, Ws)`` float image.
        target_depth: ``(B, 1, H, W)`` target z-depth in metres (0 or non-finite = unknown).
        T_src_tgt: ``(B, 4, 4)`` or ``(4, 4)``: maps target-frame points into the source frame.
        intrinsics: target intrinsics, ``(B, 4)``/``(4,)`` tensor or :class:`PinholeIntrinsics`.
        source_intrinsics: source intrinsics if they differ from the target's.

    Returns:
        A :class:`WarpResult`; ``warped`` is zero wherever ``valid`` is False.

    Example:
        >>> img = torch.rand(1, 3, 48, 64); depth = torch.full((1, 1, 48, 64), 2.0)
        >>> k = PinholeIntrinsics(60.0, 60.0, 31.5, 23.5, 64, 48)
        >>> out = warp_source_to_target(img, depth, torch.eye(4), k)
        >>> bool(torch.allclose(out.warped, img, atol=1e-5))
        True
    """
    check_shape("source_image", source_image, (target_depth.shape[0], None, None, None))
    check_floating("source_image", source_image)
    projection = project_target_to_source(
        target_depth, T_src_tgt, intrinsics, source_intrinsics, source_size=tuple(source_image.shape[-2:])
    )
    sampled = sample_at_pixels(source_image, projection.source_pixels)
    warped = sampled * projection.valid.to(sampled.dtype)
    return WarpResult(warped, projection.flow, projection.valid, projection.source_pixels, projection.source_depth)
