"""The pinhole camera: intrinsics, their change under resize and crop, back-projection and projection.

Intrinsics are ``(fx, fy, cx, cy)`` in pixels with pixel ``(u, v) = (0, 0)`` at the *centre* of the top-left
pixel. Resizing by ``(sx, sy)`` maps ``fx -> sx fx`` and ``cx -> sx (cx + 0.5) - 0.5`` (likewise for y);
cropping shifts ``cx, cy``. Camera axes are OpenCV's: x right, y down, z forward. Depth is z-depth.

Batched functions take intrinsics as a ``(B, 4)`` tensor; :class:`PinholeIntrinsics` is the per-camera value
object that produces it.
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass
from functools import lru_cache

import torch

from posekit.errors import ShapeError
from posekit.geometry.checks import check_floating, check_shape, check_trailing_shape


@dataclass(frozen=True)
class PinholeIntrinsics:
    """Intrinsics of one pinhole camera for images of ``width x height`` pixels.

    Example:
        >>> k = PinholeIntrinsics(585.0, 585.0, 320.0, 240.0, 640, 480)
        >>> k.resized(320, 240)
        PinholeIntrinsics(fx=292.5, fy=292.5, cx=159.75, cy=119.75, width=320, height=240)
    """

    fx: float
    fy: float
    cx: float
    cy: float
    width: int
    height: int

    def __post_init__(self) -> None:
        for name in ("fx", "fy", "cx", "cy"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value):
                raise ShapeError(f"intrinsics: {name} must be a finite number, got {value!r}")
        if not (self.fx > 0 and self.fy > 0):
            raise ShapeError(f"intrinsics: focal lengths must be positive, got fx={self.fx}, fy={self.fy}")
        for name in ("width", "height"):
            value = getattr(self, name)
            integral = isinstance(value, numbers.Integral) or (
                isinstance(value, numbers.Real) and math.isfinite(value) and float(value).is_integer()
            )
            if isinstance(value, bool) or not integral:
                raise ShapeError(f"intrinsics: {name} must be a whole number of pixels, got {value!r}")
            object.__setattr__(self, name, int(value))
        if not (self.width > 0 and self.height > 0):
            raise ShapeError(f"intrinsics: image size must be positive, got {self.width}x{self.height}")

    @classmethod
    def from_matrix(cls, matrix, width: int, height: int) -> PinholeIntrinsics:
        """From a 3x3 camera matrix ``K`` (any array-like) and the image size it belongs to."""
        k = torch.as_tensor(matrix, dtype=torch.float64)
        check_shape("camera matrix", k, (3, 3))
        if abs(float(k[0, 1])) > 1e-9 or abs(float(k[2, 2]) - 1.0) > 1e-9:
            raise ShapeError(f"camera matrix: expected [[fx,0,cx],[0,fy,cy],[0,0,1]], got {k.tolist()}")
        return cls(float(k[0, 0]), float(k[1, 1]), float(k[0, 2]), float(k[1, 2]), int(width), int(height))

    def scaled(self, sx: float, sy: float) -> PinholeIntrinsics:
        """Intrinsics after scaling the image by ``sx`` horizontally and ``sy`` vertically."""
        return PinholeIntrinsics(
            self.fx * sx,
            self.fy * sy,
            sx * (self.cx + 0.5) - 0.5,
            sy * (self.cy + 0.5) - 0.5,
            max(1, round(self.width * sx)),
            max(1, round(self.height * sy)),
        )

    def resized(self, width: int, height: int) -> PinholeIntrinsics:
        """Intrinsics after resizing the whole image to ``width x height``."""
        k = self.scaled(width / self.width, height / self.height)
        return PinholeIntrinsics(k.fx, k.fy, k.cx, k.cy, int(width), int(height))

    def cropped(self, left: int, top: int, width: int, height: int) -> PinholeIntrinsics:
        """Intrinsics of the ``width x height`` window whose top-left pixel is ``(left, top)``."""
        return PinholeIntrinsics(self.fx, self.fy, self.cx - left, self.cy - top, int(width), int(height))

    def as_tensor(self, dtype: torch.dtype = torch.float32, device: torch.device | str | None = None) -> torch.Tensor:
        """``(4,)`` tensor ``(fx, fy, cx, cy)``."""
        return torch.tensor([self.fx, self.fy, self.cx, self.cy], dtype=dtype, device=device)

    def matrix(self, dtype: torch.dtype = torch.float64) -> torch.Tensor:
        """``(3, 3)`` camera matrix ``K``."""
        return intrinsics_to_matrix(self.as_tensor(dtype))


def intrinsics_to_matrix(intrinsics: torch.Tensor) -> torch.Tensor:
    """``(..., 4)`` intrinsics ``(fx, fy, cx, cy)`` to ``(..., 3, 3)`` camera matrices."""
    check_trailing_shape("intrinsics", intrinsics, (4,))
    fx, fy, cx, cy = intrinsics.unbind(-1)
    zero, one = torch.zeros_like(fx), torch.ones_like(fx)
    return torch.stack((fx, zero, cx, zero, fy, cy, zero, zero, one), -1).reshape(intrinsics.shape[:-1] + (3, 3))


def batch_intrinsics(intrinsics: torch.Tensor | PinholeIntrinsics, batch: int, like: torch.Tensor) -> torch.Tensor:
    """Intrinsics as a ``(batch, 4)`` tensor in the dtype and device of ``like``.

    Accepts a :class:`PinholeIntrinsics`, a ``(4,)`` tensor (shared by the batch) or a ``(batch, 4)`` tensor.
    """
    if isinstance(intrinsics, PinholeIntrinsics):
        intrinsics = intrinsics.as_tensor(like.dtype, like.device)
    if not isinstance(intrinsics, torch.Tensor):
        raise ShapeError(f"intrinsics: expected a PinholeIntrinsics or a tensor, got {type(intrinsics).__name__}")
    intrinsics = intrinsics.to(dtype=like.dtype, device=like.device)
    if intrinsics.shape == (4,):
        return intrinsics.expand(batch, 4)
    check_shape("intrinsics", intrinsics, (batch, 4))
    return intrinsics


@lru_cache(maxsize=32)
def homogeneous_pixel_grid(height: int, width: int, dtype: torch.dtype, device: torch.device) -> torch.Tensor:
    """``(3, H*W)`` homogeneous pixel coordinates ``(u, v, 1)``, row-major; cached per shape, dtype, device.

    The returned tensor is shared: do not modify it in place.
    """
    v, u = torch.meshgrid(
        torch.arange(height, dtype=dtype, device=device),
        torch.arange(width, dtype=dtype, device=device),
        indexing="ij",
    )
    return torch.stack((u.reshape(-1), v.reshape(-1), torch.ones(height * width, dtype=dtype, device=device)))


def backproject_depth(depth: torch.Tensor, intrinsics: torch.Tensor | PinholeIntrinsics) -> torch.Tensor:
    """3-D points in the camera frame of every pixel: ``X = (u - cx) z / fx``, ``Y = (v - cy) z / fy``, ``Z = z``.

    Args:
        depth: ``(B, 1, H, W)`` z-depth in metres (0 = unknown gives the point at the camera centre).
        intrinsics: ``(B, 4)`` or ``(4,)`` tensor, or :class:`PinholeIntrinsics`.

    Returns:
        ``(B, 3, H, W)`` points.
    """
    check_shape("depth", depth, (None, 1, None, None))
    check_floating("depth", depth)
    b, _, h, w = depth.shape
    k = batch_intrinsics(intrinsics, b, depth)
    pix = homogeneous_pixel_grid(h, w, depth.dtype, depth.device)
    fx, fy, cx, cy = (k[:, i, None] for i in range(4))
    x = (pix[0] - cx) / fx
    y = (pix[1] - cy) / fy
    rays = torch.stack((x, y, torch.ones_like(x)), dim=1)  # (B, 3, H*W)
    return (rays * depth.reshape(b, 1, h * w)).reshape(b, 3, h, w)


def project_points(
    points: torch.Tensor, intrinsics: torch.Tensor | PinholeIntrinsics, min_depth: float = 1e-6
) -> tuple[torch.Tensor, torch.Tensor]:
    """Project camera-frame points to pixels; points at or behind ``min_depth`` are flagged, never divided by.

    Args:
        points: ``(B, 3, ...)`` points in the camera frame (any trailing dimensions).
        intrinsics: ``(B, 4)`` or ``(4,)`` tensor, or :class:`PinholeIntrinsics`.
        min_depth: points with ``Z <= min_depth`` are "behind the camera".

    Returns:
        ``pixels``: ``(B, 2, ...)`` pixel coordinates ``(u, v)`` (arbitrary but finite where not in front),
        ``in_front``: ``(B, 1, ...)`` boolean mask of points with ``Z > min_depth``.
    """
    if points.dim() < 2 or points.shape[1] != 3:
        raise ShapeError(f"points: expected shape (B, 3, ...), got {tuple(points.shape)}")
    check_floating("points", points)
    b = points.shape[0]
    k = batch_intrinsics(intrinsics, b, points).reshape((b, 4) + (1,) * (points.dim() - 2))
    z = points[:, 2:3]
    in_front = z > min_depth
    z_safe = torch.where(in_front, z, torch.ones_like(z))
    u = k[:, 0:1] * points[:, 0:1] / z_safe + k[:, 2:3]
    v = k[:, 1:2] * points[:, 1:2] / z_safe + k[:, 3:4]
    return torch.cat((u, v), dim=1), in_front
