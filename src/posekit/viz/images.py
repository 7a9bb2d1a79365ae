"""Images and depth maps as numpy arrays ready for ``imshow`` or a video frame.

Two layouts are accepted, told apart by type: torch tensors follow posekit's layout, ``(C, H, W)`` or
``(1, C, H, W)`` float in ``[0, 1]``; numpy arrays follow imageio's and PIL's, ``(H, W)``, ``(H, W, 1)`` or
``(H, W, 3)``, uint8 in ``[0, 255]`` or float in ``[0, 1]``.
"""

from __future__ import annotations

import numpy as np
import torch

from posekit.errors import ShapeError


def _as_hwc(image: torch.Tensor | np.ndarray, name: str) -> np.ndarray:
    if isinstance(image, torch.Tensor):
        array = image.detach().cpu()
        if array.dim() == 4 and array.shape[0] == 1:
            array = array[0]
        if array.dim() == 2:
            array = array[None]
        if array.dim() != 3 or array.shape[0] not in (1, 3):
            raise ShapeError(f"{name}: expected a tensor of shape (C, H, W) or (1, C, H, W) with C in (1, 3), "
                             f"got {tuple(image.shape)}")
        return array.permute(1, 2, 0).numpy()
    if isinstance(image, np.ndarray):
        array = image[..., None] if image.ndim == 2 else image
        if array.ndim != 3 or array.shape[2] not in (1, 3, 4):
            raise ShapeError(f"{name}: expected an array of shape (H, W), (H, W, 1), (H, W, 3) or (H, W, 4), "
                             f"got {image.shape}")
        return array[..., :3]
    raise ShapeError(f"{name}: expected a torch.Tensor or numpy array, got {type(image).__name__}")


def to_rgb_float(image: torch.Tensor | np.ndarray, name: str = "image") -> np.ndarray:
    """``(H, W, 3)`` float32 RGB in ``[0, 1]``; grey images are repeated into three channels.

    Raises:
        ShapeError: the image has neither layout, or is empty.
    """
    array = _as_hwc(image, name)
    if array.shape[0] == 0 or array.shape[1] == 0:
        raise ShapeError(f"{name}: empty image of shape {tuple(image.shape)}")
    if array.dtype == np.uint8:
        array = array.astype(np.float32) / 255.0
    elif array.dtype == np.uint16:
        array = array.astype(np.float32) / 65535.0
    else:
        array = np.nan_to_num(array.astype(np.float32), nan=0.0)
    if array.shape[2] == 1:
        array = np.repeat(array, 3, axis=2)
    return np.clip(array, 0.0, 1.0)


def to_rgb_uint8(image: torch.Tensor | np.ndarray, name: str = "image") -> np.ndarray:
    """``(H, W, 3)`` uint8 RGB (see :func:`to_rgb_float` for the accepted inputs)."""
    return (to_rgb_float(image, name) * 255.0 + 0.5).astype(np.uint8)


def depth_to_array(depth: torch.Tensor | np.ndarray, name: str = "depth") -> np.ndarray:
    """``(H, W)`` float32 depth in metres with NaN where unknown (0 or non-finite in the input).

    Accepts ``(H, W)``, ``(1, H, W)`` or ``(1, 1, H, W)`` tensors or arrays.
    """
    array = depth.detach().cpu().numpy() if isinstance(depth, torch.Tensor) else np.asarray(depth)
    while array.ndim > 2 and array.shape[0] == 1:
        array = array[0]
    if array.ndim != 2:
        raise ShapeError(f"{name}: expected shape (H, W), (1, H, W) or (1, 1, H, W), got {tuple(depth.shape)}")
    array = array.astype(np.float32)
    return np.where(np.isfinite(array) & (array > 0), array, np.nan)


def depth_display_range(*depths: np.ndarray, low: float = 2.0, high: float = 98.0) -> tuple[float, float]:
    """A shared colour range ``(vmin, vmax)`` for depth maps: percentiles of their known values."""
    values = np.concatenate([d[np.isfinite(d)].ravel() for d in depths]) if depths else np.zeros(0)
    if values.size == 0:
        return 0.0, 1.0
    vmin, vmax = (float(v) for v in np.percentile(values, [low, high]))
    if vmax <= vmin:
        vmax = vmin + 1e-3
    return vmin, vmax
