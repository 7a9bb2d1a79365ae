"""The deterministic frame transform (decode, resize, centre crop) and the random photometric augmentation.

:class:`FrameTransform` is the part of the pipeline that always gives the same output for the same file, so
its output can be cached on disk (:mod:`posekit.data.cache`); its :meth:`FrameTransform.config` is the full
description that the cache key is built from. It changes the intrinsics exactly as it changes the pixels
(pixel-centre convention, :meth:`PinholeIntrinsics.resized` / :meth:`PinholeIntrinsics.cropped`).

Images are resized with Pillow's bilinear filter (antialiased when shrinking) on uint8 data, so a cached and
a freshly decoded frame are bit-identical. Depth is resized with nearest-neighbour sampling, so unknown (0)
pixels never blend into valid ones.

Random augmentation (:class:`ColorJitter`) runs after the cache, on ``(C, H, W)`` float tensors; it changes
no geometry, so the intrinsics stay valid.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from PIL import Image

from posekit.errors import ShapeError
from posekit.geometry import PinholeIntrinsics
from posekit.data.imaging import ImageMode


@dataclass(frozen=True)
class FrameTransform:
    """Resize then centre-crop, applied identically to image, depth and intrinsics.

    Attributes:
        resize: ``(height, width)`` to resize to, or an int: the length of the shorter side (aspect kept,
            the longer side rounded), or ``None`` to keep the stored size.
        crop: ``(height, width)`` of a centre crop taken after resizing, or ``None``.
        image_mode: channels of the output image (:class:`ImageMode`).

    Example:
        >>> t = FrameTransform(resize=(240, 320))
        >>> t.apply_intrinsics(PinholeIntrinsics(585.0, 585.0, 320.0, 240.0, 640, 480))
        PinholeIntrinsics(fx=292.5, fy=292.5, cx=159.75, cy=119.75, width=320, height=240)
    """

    resize: tuple[int, int] | int | None = None
    crop: tuple[int, int] | None = None
    image_mode: ImageMode = ImageMode.AS_STORED

    def __post_init__(self) -> None:
        if isinstance(self.resize, (tuple, list)):
            object.__setattr__(self, "resize", tuple(int(v) for v in self.resize))
            _check_size("resize", self.resize)
        elif self.resize is not None and int(self.resize) <= 0:
            raise ShapeError(f"resize: the shorter side must be positive, got {self.resize}")
        if self.crop is not None:
            object.__setattr__(self, "crop", tuple(int(v) for v in self.crop))
            _check_size("crop", self.crop)
        object.__setattr__(self, "image_mode", ImageMode(self.image_mode))

    def config(self) -> dict:
        """JSON-serialisable description of every setting (the cache key is built from it)."""
        resize = list(self.resize) if isinstance(self.resize, tuple) else self.resize
        return {
            "resize": resize,
            "crop": None if self.crop is None else list(self.crop),
            "image_mode": self.image_mode.value,
            "image_filter": "pillow-bilinear",
            "depth_filter": "nearest",
        }

    def resized_size(self, width: int, height: int) -> tuple[int, int]:
        """``(width, height)`` after the resize step for a ``width x height`` input."""
        if self.resize is None:
            return width, height
        if isinstance(self.resize, tuple):
            return self.resize[1], self.resize[0]
        short = int(self.resize)
        if width <= height:
            return short, max(1, round(height * short / width))
        return max(1, round(width * short / height)), short

    def crop_box(self, width: int, height: int) -> tuple[int, int, int, int] | None:
        """``(left, top, width, height)`` of the centre crop in a ``width x height`` resized image."""
        if self.crop is None:
            return None
        crop_h, crop_w = self.crop
        if crop_w > width or crop_h > height:
            raise ShapeError(f"crop {crop_h}x{crop_w} (HxW) is larger than the resized image {height}x{width}")
        return (width - crop_w) // 2, (height - crop_h) // 2, crop_w, crop_h

    def apply_intrinsics(self, intrinsics: PinholeIntrinsics) -> PinholeIntrinsics:
        """Intrinsics of the transformed image."""
        width, height = self.resized_size(intrinsics.width, intrinsics.height)
        out = intrinsics if (width, height) == (intrinsics.width, intrinsics.height) else intrinsics.resized(width, height)
        box = self.crop_box(width, height)
        return out if box is None else out.cropped(*box)

    def apply_image(self, array: np.ndarray) -> np.ndarray:
        """Resize and crop an ``(H, W, C)`` uint8 image (C = 1 or 3)."""
        return self._apply(array, Image.BILINEAR)

    def apply_depth(self, array: np.ndarray) -> np.ndarray:
        """Resize (nearest) and crop an ``(H, W)`` float32 depth map."""
        return self._apply(array, Image.NEAREST)

    def _apply(self, array: np.ndarray, resample: int) -> np.ndarray:
        height, width = array.shape[:2]
        new_w, new_h = self.resized_size(width, height)
        if (new_w, new_h) != (width, height):
            array = _resize(array, new_w, new_h, resample)
        box = self.crop_box(new_w, new_h)
        if box is not None:
            left, top, crop_w, crop_h = box
            array = array[top : top + crop_h, left : left + crop_w]
        return np.ascontiguousarray(array)


def _check_size(name: str, size: tuple[int, ...]) -> None:
    if len(size) != 2 or min(size) <= 0:
        raise ShapeError(f"{name}: expected a positive (height, width), got {size}")


def _resize(array: np.ndarray, width: int, height: int, resample: int) -> np.ndarray:
    if array.ndim == 3 and array.shape[2] == 1:
        return _resize(array[:, :, 0], width, height, resample)[:, :, None]
    return np.array(Image.fromarray(array).resize((width, height), resample))


class ColorJitter:
    """Random brightness, contrast and saturation changes of images in [0, 1].

    Takes ``(..., C, H, W)``: one set of factors is drawn per call and applied to every image of the call,
    so a source/target pair jittered together keeps its photometric consistency. Each factor is uniform in
    ``[1 - s, 1 + s]``, drawn with the torch global generator (DataLoader workers seed it per worker);
    contrast pivots around each image's mean grey level; saturation applies to 3-channel images only.

    Example:
        >>> jitter = ColorJitter(brightness=0.2, contrast=0.2, saturation=0.2)
        >>> jitter(torch.rand(2, 3, 8, 8)).shape
        torch.Size([2, 3, 8, 8])
    """

    def __init__(self, brightness: float = 0.0, contrast: float = 0.0, saturation: float = 0.0):
        for name, value in (("brightness", brightness), ("contrast", contrast), ("saturation", saturation)):
            if not 0.0 <= value < 1.0:
                raise ShapeError(f"ColorJitter: {name} must be in [0, 1), got {value}")
        self.brightness, self.contrast, self.saturation = brightness, contrast, saturation

    def __call__(self, images: torch.Tensor) -> torch.Tensor:
        if images.dim() < 3:
            raise ShapeError(f"ColorJitter: expected (..., C, H, W) images, got {tuple(images.shape)}")
        out = images * self._factor(self.brightness)
        if self.contrast:
            mean = _grey(out).mean(dim=(-3, -2, -1), keepdim=True)
            out = (out - mean) * self._factor(self.contrast) + mean
        if self.saturation and out.shape[-3] == 3:
            grey = _grey(out)
            out = (out - grey) * self._factor(self.saturation) + grey
        return out.clamp_(0.0, 1.0)

    @staticmethod
    def _factor(strength: float) -> float:
        return 1.0 + strength * (2.0 * float(torch.rand(())) - 1.0) if strength else 1.0

    def __repr__(self) -> str:
        return f"ColorJitter(brightness={self.brightness}, contrast={self.contrast}, saturation={self.saturation})"


def _grey(images: torch.Tensor) -> torch.Tensor:
    """``(..., 1, H, W)`` luma of ``(..., C, H, W)`` images (ITU-R 601 weights for RGB)."""
    if images.shape[-3] == 1:
        return images
    weights = images.new_tensor([0.299, 0.587, 0.114]).reshape(3, 1, 1)
    return (images * weights).sum(-3, keepdim=True)
