"""A small, fast PNG encoder for 8-bit RGB and 16-bit grey images.

Writing the frames must not dominate rendering. Pillow's encoder (adaptive row filters) takes about 10 ms for
a 320x240 colour and depth pair on the reference 2-core machine; this one (every row with the PNG "up"
filter, computed in one numpy subtraction, then zlib at level 1) takes about 4 ms for files of the same size
(measured in benchmarks/bench_synth.py's development). The output is a plain, standard PNG that any reader
loads, and it is byte-for-byte deterministic (no timestamps, fixed filter and compression level).
"""

from __future__ import annotations

import struct
import zlib

import numpy as np

from posekit.errors import ShapeError

_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_FILTER_UP = 2
_COLOR_TYPES = {1: 0, 3: 2}  # channels -> PNG colour type (grey, RGB)
COMPRESSION_LEVEL = 1


def _chunk(tag: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data) & 0xFFFFFFFF)


def encode_png(image: np.ndarray, level: int = COMPRESSION_LEVEL) -> bytes:
    """PNG bytes of ``image``: ``(H, W, 3)`` uint8 RGB, ``(H, W)`` uint8 grey or ``(H, W)`` uint16 grey.

    Example:
        >>> data = encode_png(np.zeros((2, 3), np.uint16))
        >>> data[:8] == b"\\x89PNG\\r\\n\\x1a\\n"
        True
    """
    image = np.asarray(image)
    channels = 1 if image.ndim == 2 else image.shape[2] if image.ndim == 3 else 0
    if channels not in _COLOR_TYPES or image.dtype not in (np.uint8, np.uint16) or image.size == 0:
        raise ShapeError(
            f"encode_png: expected (H, W, 3) uint8 or (H, W) uint8/uint16, got {image.shape} {image.dtype}"
        )
    if channels == 3 and image.dtype != np.uint8:
        raise ShapeError(f"encode_png: RGB images must be uint8, got {image.dtype}")
    height, width = image.shape[:2]
    bit_depth = 8 * image.dtype.itemsize
    rows = np.ascontiguousarray(image.astype(image.dtype.newbyteorder(">"), copy=False)).view(np.uint8)
    rows = rows.reshape(height, -1)
    filtered = np.empty((height, rows.shape[1] + 1), np.uint8)
    filtered[:, 0] = _FILTER_UP
    filtered[0, 1:] = rows[0]
    np.subtract(rows[1:], rows[:-1], out=filtered[1:, 1:])  # uint8 arithmetic wraps modulo 256, as PNG wants
    header = struct.pack(">IIBBBBB", width, height, bit_depth, _COLOR_TYPES[channels], 0, 0, 0)
    return b"".join(
        (_SIGNATURE, _chunk(b"IHDR", header), _chunk(b"IDAT", zlib.compress(filtered.tobytes(), level)),
         _chunk(b"IEND", b""))
    )
