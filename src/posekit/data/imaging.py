"""Decoding image and depth files (Pillow), and turning them into tensors.

Images decode to ``(H, W, C)`` uint8 arrays (C = 3 for colour, 1 for grey); depth decodes from a 16-bit PNG
to ``(H, W)`` float32 metres with ``file value * depth_scale``. The values 0 and 65535 mean "unknown" in
every 16-bit depth format we read (7-Scenes and SUN3D use both, TUM RGB-D uses 0) and become 0.
Tensors follow the conventions: images ``(C, H, W)`` float32 in [0, 1], depth ``(1, H, W)`` metres.

The size an image header claims is checked against :data:`MAX_IMAGE_PIXELS` before any pixel is decoded,
so a file that claims 30000 x 30000 pixels is a :class:`~posekit.errors.FileFormatError` naming it, not
Pillow's ``DecompressionBombError`` nor gigabytes of memory.
"""

from __future__ import annotations

import struct
import zlib
from enum import Enum
from pathlib import Path

import numpy as np
import torch
from PIL import Image, UnidentifiedImageError

from posekit.errors import FileFormatError

# Raw 16-bit depth values that mean "no measurement".
DEPTH_UNKNOWN_VALUES = (0, 65535)

# Largest image accepted, in pixels: 8192 x 8192 (67 MP; the largest images of the supported datasets,
# Apolloscape's 3384 x 2710, have 9.2 MP). Below Pillow's own decompression-bomb limit (179 MP).
MAX_IMAGE_PIXELS = 8192 * 8192

# What Pillow raises on a corrupt or hostile file, besides OSError (which covers truncated files).
_PILLOW_ERRORS = (
    UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError, struct.error, zlib.error,
    Image.DecompressionBombError,
)


class ImageMode(str, Enum):
    """Channels of decoded images: as stored in the file (grey stays 1 channel), RGB, or grey."""

    AS_STORED = "as-stored"
    RGB = "rgb"
    GREY = "grey"


def image_size(path: str | Path) -> tuple[int, int]:
    """``(width, height)`` of an image file, read from its header only.

    Raises:
        FileFormatError: the file is missing or not an image Pillow can read.
    """
    try:
        with Image.open(path) as image:
            return _checked_size(image, path)
    except FileFormatError:
        raise
    except FileNotFoundError:
        raise FileFormatError(path, "file not found") from None
    except _PILLOW_ERRORS as error:
        raise FileFormatError(path, f"cannot read image header: {_pillow_message(error)}") from None


def _checked_size(image: Image.Image, path: str | Path) -> tuple[int, int]:
    """The ``(width, height)`` of an opened image, refusing sizes beyond :data:`MAX_IMAGE_PIXELS`."""
    width, height = image.size
    if width * height > MAX_IMAGE_PIXELS:
        raise FileFormatError(
            path, f"the header claims {width}x{height} pixels, more than {MAX_IMAGE_PIXELS} (the limit, 8192x8192)"
        )
    return width, height


def _pillow_message(error: Exception) -> str:
    if isinstance(error, Image.DecompressionBombError):
        return f"the header claims more than {MAX_IMAGE_PIXELS} pixels ({error})"
    return str(error) or type(error).__name__


def read_image(path: str | Path, mode: ImageMode = ImageMode.AS_STORED) -> np.ndarray:
    """Decode an image file to an ``(H, W, C)`` uint8 array (C = 1 or 3).

    Raises:
        FileFormatError: the file is missing, truncated or not an 8-bit image.
    """
    try:
        with Image.open(path) as image:
            _checked_size(image, path)
            image.load()
            target = _target_mode(image.mode, mode, path)
            array = np.array(image.convert(target) if image.mode != target else image)  # writable copy
    except FileFormatError:
        raise
    except FileNotFoundError:
        raise FileFormatError(path, "file not found") from None
    except _PILLOW_ERRORS as error:
        raise FileFormatError(path, f"cannot decode image: {_pillow_message(error)}") from None
    return array[:, :, None] if array.ndim == 2 else array


def _target_mode(stored: str, mode: ImageMode, path: str | Path) -> str:
    if stored.startswith("I") or stored == "F":
        raise FileFormatError(path, f"expected an 8-bit colour or grey image, got Pillow mode {stored}")
    if mode is ImageMode.RGB:
        return "RGB"
    if mode is ImageMode.GREY:
        return "L"
    return "L" if stored in ("L", "1", "LA") else "RGB"


def read_depth(path: str | Path, depth_scale: float) -> np.ndarray:
    """Decode a 16-bit depth PNG to ``(H, W)`` float32 metres; 0 and 65535 become 0 (unknown).

    Args:
        path: the depth file.
        depth_scale: metres per file unit (0.001 for millimetres, 1 / 5000 for TUM RGB-D).

    Raises:
        FileFormatError: the file is missing, unreadable or not a 16-bit single-channel image.
    """
    try:
        with Image.open(path) as image:
            _checked_size(image, path)
            image.load()
            if image.mode not in ("I;16", "I;16B", "I;16L", "I"):
                raise FileFormatError(path, f"expected a 16-bit depth image, got Pillow mode {image.mode}")
            raw = np.asarray(image)
    except FileFormatError:
        raise
    except FileNotFoundError:
        raise FileFormatError(path, "file not found") from None
    except _PILLOW_ERRORS as error:
        raise FileFormatError(path, f"cannot decode depth image: {_pillow_message(error)}") from None
    raw = raw.astype(np.int64, copy=False)
    unknown = np.isin(raw, DEPTH_UNKNOWN_VALUES)
    depth = raw.astype(np.float32) * np.float32(depth_scale)
    depth[unknown] = 0.0
    return depth


def image_to_tensor(array: np.ndarray) -> torch.Tensor:
    """``(H, W, C)`` uint8 array to a ``(C, H, W)`` float32 tensor in [0, 1]."""
    return torch.from_numpy(np.ascontiguousarray(array)).permute(2, 0, 1).to(torch.float32).div_(255.0)


def depth_to_tensor(array: np.ndarray) -> torch.Tensor:
    """``(H, W)`` float32 metres to a ``(1, H, W)`` tensor."""
    return torch.from_numpy(np.ascontiguousarray(array, dtype=np.float32))[None]
