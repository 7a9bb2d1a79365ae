"""Depth-and-pose warping: the "transform 3-D grid" and "pinhole projection" layers of gvnn, fused.

For each target pixel ``x_t`` with depth ``z``, its 3-D point ``z K_t^-1 x_t`` is moved into the source frame
by ``T_src_tgt`` and projected by ``K_s``. Folding the three steps, and the normalisation ``A`` of source
pixels to ``grid_sample``'s coordinates, into one ``3 x 3`` matrix ``M = A K_s R K_t^-1`` and one vector
``b = A K_s t`` gives the sampling position in homogeneous form as ``z (M x_t) + b``: no per-pixel ``K^-1``,
no homogeneous round trips, no separate normalisation pass. The source image is then sampled bilinearly
(``grid_sample`` with ``align_corners=True``, matching the pixel-centre convention). The projection has a
hand-written backward (see :class:`_ProjectToSource`); ``benchmarks/bench_warp.py`` times it against kornia.

The validity mask excludes target pixels whose depth is unknown (0 or non-finite), whose point lands behind
the source camera, or whose projection falls outside the source image. Invalid pixels are computed on safe
values (never divided by zero), so every output is finite and the masked photometric error of a perfect warp
is zero.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import torch
import torch.nn.functional as F
from torch.autograd.function import once_differentiable

from posekit.geometry.camera import PinholeIntrinsics, batch_intrinsics, homogeneous_pixel_grid, intrinsics_to_matrix
from posekit.geometry.checks import check_floating, check_image, check_shape

MIN_DEPTH = 1e-6
# The normalised sampling coordinate given to pixels that are not valid. With ``align_corners=True`` it lies
# 3.5 (size - 1) pixels before the first pixel centre, so ``grid_sample`` with zero padding returns exactly 0
# there, bilinear or nearest, for every image side of 2 pixels or more.
_OUTSIDE = -8.0
# Tolerance of the inside-the-image test, in units of the dtype's epsilon on the normalised coordinate.
_BORDER_ULPS = 8


@dataclass
class TargetProjection:
    """Where the target pixels land in the source camera.

    Attributes:
        source_pixels: ``(B, 2, H, W)`` source pixel coordinates ``(u, v)`` of each target pixel (a constant
            where the point is not in front of the source camera).
        source_depth: ``(B, 1, H, W)`` z-depth of each target pixel's point in the source frame.
        valid: ``(B, 1, H, W)`` bool: depth known, in front of the source camera, inside the source image.
        sampling_grid: ``(B, H, W, 2)`` the same positions normalised for ``grid_sample`` with
            ``align_corners=True``, replaced by a point far outside the image where not valid (so sampling
            gives 0 there, for source images of at least 2x2 pixels); ``None`` when the projection was
            assembled by hand.
    """

    source_pixels: torch.Tensor
    source_depth: torch.Tensor
    valid: torch.Tensor
    sampling_grid: torch.Tensor | None = None

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


@lru_cache(maxsize=32)
def _pixel_axes(height: int, width: int, dtype: torch.dtype, device: torch.device) -> tuple[torch.Tensor, torch.Tensor]:
    """``u`` as ``(1, W)`` and ``v`` as ``(H, 1)`` pixel coordinates; cached, do not modify in place."""
    u = torch.arange(width, dtype=dtype, device=device).reshape(1, width)
    v = torch.arange(height, dtype=dtype, device=device).reshape(height, 1)
    return u, v


def _apply_to_pixels(matrix: torch.Tensor, u: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
    """``matrix @ (u, v, 1)`` for every pixel: ``(B, R, 3)`` -> ``(B, R, H*W)``.

    The pixel grid is affine in ``u`` and ``v``, so this is one broadcast sum of a row term and a column term,
    several times cheaper on CPU than a batched matrix product with an inner dimension of 3.
    """
    b, r, _ = matrix.shape
    column = matrix[..., 0, None, None] * u  # (B, R, 1, W)
    row = torch.addcmul(matrix[..., 2, None, None], matrix[..., 1, None, None], v)  # (B, R, H, 1)
    return (column + row).reshape(b, r, v.shape[-2] * u.shape[-1])


def _half_sizes(height: int, width: int) -> tuple[float, float]:
    """Pixels per unit of ``grid_sample``'s normalised coordinates (``align_corners=True``), x then y."""
    return max(width - 1, 1) / 2.0, max(height - 1, 1) / 2.0


class _ProjectToSource(torch.autograd.Function):
    """Target depth to source sampling grid, source pixels and source depth, with a hand-written backward.

    Inputs: ``depth`` ``(B, N)`` raw target depth (``N = H*W``); ``matrix`` ``(B, 3, 3)`` = ``A K_s R K_t^-1``
    and ``offset`` ``(B, 3)`` = ``A K_s t``, where ``A`` maps source pixels to ``grid_sample``'s normalised
    coordinates; ``u``, ``v`` the target pixel axes; ``half`` ``(2,)`` pixels per normalised unit; ``upper``
    the normalised ``(x, y)`` of the last source pixel centre (floats).

    Outputs: the ``(B, N, 2)`` sampling grid (the constant ``_OUTSIDE`` where not valid), the ``(B, 2, N)``
    source pixels, the ``(B, N)`` source z-depth and the ``(B, N)`` validity mask.

    With ``p = d (matrix x) + offset`` the normalised source position is ``g = p_xy / p_z``. Everything is
    computed on contiguous ``(B, N)`` planes (PyTorch's CPU kernels are several times slower on a trailing
    dimension of 2 or 3, and ``torch.where`` is slower than arithmetic masks), and the backward needs no
    autograd graph: with ``h = dL/dp``, ``dL/dd = -(h . offset) / d`` (``h . p = 0`` because ``g`` does not
    change when ``p`` is scaled), ``dL/dmatrix`` is a sum over pixels of ``d h (u, v, 1)^T`` (row and column
    sums, as the pixel grid is affine) and ``dL/doffset`` a sum of ``h``. Points not in front of the source
    camera get constant outputs (zero gradient), unknown depths a zero gradient. First-order only
    (``once_differentiable``); the tests check it with ``torch.autograd.gradcheck``.
    """

    @staticmethod
    def forward(ctx, depth, matrix, offset, u, v, half, upper):
        known = (depth > 0) & (depth < float("inf"))  # False for 0, negative, NaN and inf
        depth_safe = torch.where(known, depth, 1.0)
        points = torch.addcmul(offset[..., None], depth_safe[:, None], _apply_to_pixels(matrix, u, v))  # (B, 3, N)
        z = points[:, 2]
        in_front = z > MIN_DEPTH
        inv_z = torch.where(in_front, z, float("inf")).reciprocal_()  # 0 where not in front
        grid = points[:, :2] * inv_z[:, None]  # (B, 2, N), 0 where not in front
        # Rounding can put the border pixels of an identity warp a few ulps outside the image: accept that much
        # (they then blend in a few ulps' worth of the zero padding, like any sampler would).
        tol = _BORDER_ULPS * torch.finfo(grid.dtype).eps
        gx, gy = grid.unbind(1)
        if upper == (1.0, 1.0):
            inside = grid.abs().amax(1) <= 1.0 + tol
        else:  # a source image one pixel wide or high
            inside = (torch.minimum(gx, gy) >= -1.0 - tol) & (gx <= upper[0] + tol) & (gy <= upper[1] + tol)
        valid = known & in_front & inside
        valid_f = valid.to(grid.dtype)
        # Interleave into grid_sample's (B, N, 2) layout one plane at a time (cheaper than a transposing copy),
        # replacing invalid pixels by the constant _OUTSIDE on the way: g valid + _OUTSIDE (1 - valid).
        outside = (1.0 - valid_f) * _OUTSIDE
        sampling_grid = grid.new_empty(grid.shape[0], grid.shape[2], 2)
        for axis, plane in enumerate((gx, gy)):
            torch.addcmul(outside, plane, valid_f, out=sampling_grid[..., axis])
        pixels = (grid + 1.0).mul_(half[:, None])
        ctx.save_for_backward(grid, inv_z * valid_f, inv_z, depth_safe, known, matrix, offset, u, v, half)
        ctx.mark_non_differentiable(valid)
        ctx.set_materialize_grads(False)
        return sampling_grid, pixels, z.contiguous(), valid

    @staticmethod
    @once_differentiable
    def backward(ctx, grad_sampling_grid, grad_pixels, grad_z, _grad_valid):
        grid, inv_z_valid, inv_z, depth_safe, known, matrix, offset, u, v, half = ctx.saved_tensors
        b, _, n = grid.shape
        # h = dL/dp, (B, 3, N); the sampling grid is a constant where not valid, the pixels where not in front.
        h = grid.new_empty(b, 3, n)
        h_xy = h[:, :2]
        if grad_sampling_grid is not None:
            torch.mul(grad_sampling_grid.transpose(1, 2), inv_z_valid[:, None], out=h_xy)
        else:
            h_xy.zero_()
        if grad_pixels is not None:
            h_xy.addcmul_(grad_pixels, half[:, None] * inv_z[:, None])
        dot = h[:, 2]  # dL/dg . g / z, then negated: dL/dp_z
        torch.addcmul(h_xy[:, 0] * grid[:, 0], h_xy[:, 1], grid[:, 1], out=dot)
        dot.neg_()
        # dL/dd = dL/dp . (matrix x) = -(dL/dp . offset) / d on in-front points, as p = d (matrix x) + offset
        # and dL/dp . p = 0 there (g is homogeneous of degree 0 in p). The source depth adds its own term.
        grad_depth = torch.bmm(-offset[:, None, :], h)[:, 0].div_(depth_safe)
        if grad_z is not None:
            h[:, 2] += grad_z
            grad_depth += grad_z * _apply_to_pixels(matrix[:, 2:], u, v)[:, 0]
        if grad_pixels is not None or grad_z is not None:  # else h (and so grad_depth) is 0 where depth unknown
            grad_depth = torch.where(known, grad_depth, 0.0)
        h_depth = h * depth_safe[:, None]
        grad_matrix = torch.stack(
            (
                h_depth.reshape(b, 3, -1, u.shape[-1]).sum(2) @ u[0],
                h_depth.reshape(b, 3, v.shape[0], -1).sum(3) @ v[:, 0],
                h_depth.sum(-1),
            ),
            dim=-1,
        )  # sum over pixels of dL/dp d (u, v, 1)^T
        grad_offset = h.sum(-1)
        return grad_depth, grad_matrix, grad_offset, None, None, None, None


def _inverse_intrinsics_matrix(intrinsics: torch.Tensor) -> torch.Tensor:
    """``(B, 3, 3)`` ``K^-1`` of ``(B, 4)`` intrinsics ``(fx, fy, cx, cy)``, in closed form."""
    fx, fy, cx, cy = intrinsics.unbind(-1)
    zero, one = torch.zeros_like(fx), torch.ones_like(fx)
    rows = (1 / fx, zero, -cx / fx, zero, 1 / fy, -cy / fy, zero, zero, one)
    return torch.stack(rows, -1).reshape(intrinsics.shape[:-1] + (3, 3))


def project_target_to_source(
    target_depth: torch.Tensor,
    T_src_tgt: torch.Tensor,
    intrinsics: torch.Tensor | PinholeIntrinsics,
    source_intrinsics: torch.Tensor | PinholeIntrinsics | None = None,
    source_size: tuple[int, int] | None = None,
) -> TargetProjection:
    """Project every target pixel, lifted by its depth and moved by ``T_src_tgt``, into the source camera.

    Differentiable with respect to the depth, the pose and the intrinsics.

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
    if isinstance(T_src_tgt, torch.Tensor) and T_src_tgt.shape == (4, 4):
        T_src_tgt = T_src_tgt.expand(b, 4, 4)
    check_shape("T_src_tgt", T_src_tgt, (b, 4, 4))
    check_floating("T_src_tgt", T_src_tgt)
    dtype = torch.promote_types(target_depth.dtype, T_src_tgt.dtype)
    depth = target_depth.to(dtype)
    k_tgt = batch_intrinsics(intrinsics, b, depth)
    k_src = k_tgt if source_intrinsics is None else batch_intrinsics(source_intrinsics, b, depth)
    src_h, src_w = (h, w) if source_size is None else source_size
    half_x, half_y = _half_sizes(src_h, src_w)

    # A K_s maps source-frame points to grid_sample's normalised coordinates (times z). The 3x3 products
    # are formed in float64: they are tiny, and it keeps float32 warps as exact as the per-pixel maths allows.
    to_grid = torch.tensor([[1 / half_x, 0.0, -1.0], [0.0, 1 / half_y, -1.0], [0.0, 0.0, 1.0]], dtype=torch.float64)
    a_k_src = to_grid.to(depth.device) @ intrinsics_to_matrix(k_src.double())
    pose = T_src_tgt.double()
    matrix = (a_k_src @ pose[:, :3, :3] @ _inverse_intrinsics_matrix(k_tgt.double())).to(dtype)
    offset = (a_k_src @ pose[:, :3, 3:4])[..., 0].to(dtype)
    half = torch.tensor([half_x, half_y], dtype=dtype, device=depth.device)
    upper = ((src_w - 1) / half_x - 1.0, (src_h - 1) / half_y - 1.0)

    u, v = _pixel_axes(h, w, dtype, depth.device)
    sampling_grid, pixels, z, valid = _ProjectToSource.apply(depth.reshape(b, h * w), matrix, offset, u, v, half, upper)
    return TargetProjection(
        pixels.reshape(b, 2, h, w),
        z.reshape(b, 1, h, w),
        valid.reshape(b, 1, h, w),
        sampling_grid.reshape(b, h, w, 2),
    )


def sample_at_pixels(image: torch.Tensor, pixels: torch.Tensor, mode: str = "bilinear") -> torch.Tensor:
    """Sample ``image`` at pixel coordinates (pixel-centre convention), zeros outside.

    Args:
        image: ``(B, C, Hs, Ws)``.
        pixels: ``(B, 2, H, W)`` coordinates ``(u, v)`` in ``image``'s pixels.
        mode: ``"bilinear"`` or ``"nearest"``.

    Returns:
        ``(B, C, H, W)``.
    """
    check_shape("pixels", pixels, (None, 2, None, None))
    check_floating("pixels", pixels)
    check_image("image", image, pixels.shape[0])
    half_x, half_y = _half_sizes(*image.shape[-2:])
    scale = pixels.new_tensor([1.0 / half_x, 1.0 / half_y]).reshape(1, 2, 1, 1)
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
    check_image("source_image", source_image, target_depth.shape[0])
    projection = project_target_to_source(
        target_depth, T_src_tgt, intrinsics, source_intrinsics, source_size=tuple(source_image.shape[-2:])
    )
    grid = projection.sampling_grid.to(source_image.dtype)
    warped = F.grid_sample(source_image, grid, mode="bilinear", padding_mode="zeros", align_corners=True)
    if min(source_image.shape[-2:]) < 2:  # a one-pixel side: every normalised coordinate lands on it
        warped = warped * projection.valid.to(warped.dtype)
    return WarpResult(warped, projection.flow, projection.valid, projection.source_pixels, projection.source_depth)
