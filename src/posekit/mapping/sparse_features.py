"""SIFT features of sparse maps and of their queries, extracted by COLMAP's CPU SIFT (pycolmap).

The same extractor (and settings) serves the map's training images and the queries, so their descriptors match.
Keypoint pixels are returned in posekit's convention (pixel centres at integers); COLMAP puts the top-left
pixel's centre at (0.5, 0.5), so ``pixels = colmap_xy - 0.5`` (:data:`COLMAP_PIXEL_OFFSET`).

pycolmap is imported lazily (inside functions) so ``import posekit.mapping`` stays light.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from posekit.baselines.feature_matching import to_grey_uint8
from posekit.errors import PosekitError

COLMAP_PIXEL_OFFSET = 0.5
SIFT_DIM = 128


@dataclass(frozen=True)
class SiftConfig:
    """Settings of :func:`extract_sift` (COLMAP's ``SiftExtractionOptions``).

    Attributes:
        max_features: keep at most this many keypoints per image (the strongest).
        peak_threshold: COLMAP's DoG peak threshold (lower: more, weaker keypoints).
    """

    max_features: int = 2000
    peak_threshold: float = 0.0066667

    def to_dict(self) -> dict:
        return {"type": "sift", "library": "pycolmap", "max_features": self.max_features,
                "peak_threshold": self.peak_threshold, "normalization": "L1_ROOT", "descriptor": "uint8 x 128"}


@dataclass
class SiftFeatures:
    """SIFT features of one image.

    Attributes:
        pixels: ``(M, 2)`` float64 keypoint positions (posekit pixel convention).
        shapes: ``(M, 6)`` float32 COLMAP keypoints ``(x, y, a11, a12, a21, a22)`` (COLMAP pixel convention).
        descriptors: ``(M, 128)`` uint8 descriptors (COLMAP's RootSIFT, scaled to bytes).
    """

    pixels: np.ndarray
    shapes: np.ndarray
    descriptors: np.ndarray


def _pycolmap():
    try:
        import pycolmap
    except ImportError as error:  # pragma: no cover - depends on the environment
        raise PosekitError("sparse maps need pycolmap: pip install pycolmap") from error
    # COLMAP's per-step INFO lines would drown posekit's own summary lines; warnings and errors still show
    pycolmap.logging.minloglevel = max(int(pycolmap.logging.minloglevel), 1)
    return pycolmap


class SiftExtractor:
    """``(1, C, H, W)`` or ``(C, H, W)`` image in [0, 1] -> :class:`SiftFeatures` (COLMAP SIFT on one CPU thread)."""

    def __init__(self, config: SiftConfig = SiftConfig()):
        if config.max_features < 8:
            raise PosekitError(f"SIFT: max_features must be >= 8, got {config.max_features}")
        pycolmap = _pycolmap()
        options = pycolmap.FeatureExtractionOptions()
        options.num_threads = 1
        options.use_gpu = False
        options.sift.max_num_features = config.max_features
        options.sift.peak_threshold = config.peak_threshold
        self.config = config
        self._extractor = pycolmap.FeatureExtractor.create(options, pycolmap.Device.cpu)

    def __call__(self, image: torch.Tensor | np.ndarray) -> SiftFeatures:
        grey = np.ascontiguousarray(to_grey_uint8(image))
        keypoints, descriptors = self._extractor.extract_from_uint8_array(grey)
        shapes = np.array([[k.x, k.y, k.a11, k.a12, k.a21, k.a22] for k in keypoints], dtype=np.float32).reshape(-1, 6)
        data = np.asarray(descriptors.data, dtype=np.uint8).reshape(-1, SIFT_DIM)
        pixels = shapes[:, :2].astype(np.float64) - COLMAP_PIXEL_OFFSET
        return SiftFeatures(pixels, shapes, data)
