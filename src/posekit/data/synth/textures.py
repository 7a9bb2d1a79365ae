"""Textures for the procedural scenes: real photographs shipped with scikit-image (``skimage.data``).

Two pools: *materials* (brick, grass, gravel: grey, tinted per surface to look like walls, floors, asphalt)
and *pictures* (colour photographs and micrographs used as posters, facades' shop windows and furniture
faces). Every image is bundled in the scikit-image wheel, so no download is ever needed. Which image goes on
which surface, its tint and its scale are drawn from the scene's random generator, so scenes vary per seed.
"""

from __future__ import annotations

from enum import Enum
from functools import lru_cache

import numpy as np
from scipy.ndimage import gaussian_filter

from posekit.errors import RenderError

MAX_TEXTURE_SIDE = 512
TEXTURE_BLUR_TEXELS = 1.0  # Gaussian pre-filter: the finest texel-level detail aliases when minified


class TexturePool(Enum):
    """Which kind of surface a texture suits."""

    MATERIAL = "material"
    PICTURE = "picture"


# skimage.data loaders bundled with the wheel (checked against scikit-image 0.22-0.26).
_POOLS: dict[TexturePool, tuple[str, ...]] = {
    TexturePool.MATERIAL: ("brick", "grass", "gravel"),
    TexturePool.PICTURE: (
        "astronaut",
        "chelsea",
        "coffee",
        "rocket",
        "immunohistochemistry",
        "hubble_deep_field",
        "colorwheel",
        "retina",
        "camera",
        "moon",
        "clock",
        "coins",
    ),
}


def texture_names(pool: TexturePool) -> tuple[str, ...]:
    """Names of the ``skimage.data`` images in ``pool``."""
    return _POOLS[pool]


@lru_cache(maxsize=None)
def load_texture(name: str) -> np.ndarray:
    """The ``skimage.data`` image ``name`` as ``(H, W, 3)`` uint8 RGB, longest side at most 512 pixels.

    The returned array is shared (cached) and read-only.
    """
    import skimage.data
    from PIL import Image

    loader = getattr(skimage.data, name, None)
    if loader is None:
        raise RenderError(f"texture {name!r}: not an image of skimage.data")
    image = np.asarray(loader())
    if image.dtype == bool:
        image = image.astype(np.uint8) * 255
    if image.ndim == 2:
        image = np.repeat(image[:, :, None], 3, axis=2)
    image = np.ascontiguousarray(image[:, :, :3].astype(np.uint8))
    h, w = image.shape[:2]
    scale = MAX_TEXTURE_SIDE / max(h, w)
    if scale < 1.0:
        size = (max(1, round(w * scale)), max(1, round(h * scale)))
        image = np.asarray(Image.fromarray(image).resize(size, Image.Resampling.LANCZOS))
    image = gaussian_filter(image.astype(np.float32), (TEXTURE_BLUR_TEXELS, TEXTURE_BLUR_TEXELS, 0), mode="wrap")
    image = np.rint(np.clip(image, 0, 255)).astype(np.uint8)
    image.setflags(write=False)
    return image


def tinted(image: np.ndarray, tint: np.ndarray) -> np.ndarray:
    """``image`` (H, W, 3) uint8 multiplied channel-wise by ``tint`` (3,) in [0, 1.5], as uint8."""
    out = np.clip(image.astype(np.float32) * np.asarray(tint, np.float32)[None, None, :], 0, 255)
    return np.rint(out).astype(np.uint8)


def random_texture(rng: np.random.Generator, pool: TexturePool, tint_strength: float = 0.0) -> np.ndarray:
    """A random image of ``pool``; with ``tint_strength > 0`` it is multiplied by a random colour.

    Args:
        rng: the scene's random generator (its state advances).
        pool: the kind of surface.
        tint_strength: 0 keeps the image's colours; 1 gives strongly coloured tints.

    Returns:
        ``(H, W, 3)`` uint8.
    """
    names = texture_names(pool)
    image = load_texture(names[int(rng.integers(len(names)))])
    if tint_strength <= 0:
        return image
    tint = 1.0 - tint_strength * rng.uniform(0.0, 0.6, size=3)
    return tinted(image, tint / tint.max() * rng.uniform(0.75, 1.1))
