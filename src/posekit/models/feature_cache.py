"""Frozen-encoder feature maps computed once per frame and cached on disk, so that pose heads on a frozen
ImageNet encoder train for many epochs in minutes on a CPU.

One entry per frame, in the user cache folder (``default_cache_dir() / "features"``, the
:class:`~posekit.data.cache.TransformCache` machinery: SHA-256 keys, atomic writes, a corrupt entry is a miss).
The key holds everything that changes the features: the encoder's name, input channels and a digest of all
its weights and buffers (:func:`encoder_digest`), the feature level, the input normalisation, the frame
transform (image size, crop, image mode) and the image file's identity (absolute path, size, ``mtime_ns``).
The encoder always runs in eval mode (BatchNorm running statistics), without gradients. A missing entry whose
frame has a lower level of the same encoder cached is computed from that map through the remaining stages
(:func:`~posekit.models.relpose_finetune.run_stages`; the same values up to float rounding), not from the image.

Example:
    >>> cache = FeatureCache(create_backbone("efficientnet_lite0", pretrained=True), level=3)  # doctest: +SKIP
    >>> maps = cache.feature_maps(frames, FrameLoader(FrameTransform(resize=(192, 256))))  # doctest: +SKIP
    >>> maps.shape  # doctest: +SKIP
    torch.Size([1000, 112, 12, 16])
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from pathlib import Path

import torch

from posekit.data.cache import TransformCache, default_cache_dir
from posekit.data.loader import FrameLoader
from posekit.data.records import FrameRecord
from posekit.errors import FileFormatError
from posekit.models.backbones import Backbone
from posekit.models.relpose_finetune import run_stages

# Bump when the content or layout of feature entries changes.
FEATURE_CACHE_VERSION = 1


def encoder_digest(encoder: Backbone) -> str:
    """SHA-256 of every tensor of ``encoder.state_dict()`` (names, dtypes, shapes and values, in name order)."""
    digest = hashlib.sha256()
    for name, tensor in sorted(encoder.state_dict().items()):
        value = tensor.detach().cpu().contiguous().reshape(-1)
        digest.update(f"{name}|{value.dtype}|{tuple(tensor.shape)}|".encode())
        digest.update(value.view(torch.uint8).numpy().tobytes() if value.numel() else b"")
    return digest.hexdigest()


class FeatureCache:
    """Cached ``(C, h, w)`` feature maps of one encoder level, one entry per frame.

    Args:
        encoder: the (frozen) backbone; it is put in eval mode when features are computed.
        level: feature level ``0..4`` (strides 2..32) or ``-5..-1``.
        root: cache folder; default ``default_cache_dir() / "features"``.
        batch_size: frames per encoder call on a miss.

    Attributes:
        hits, misses: entries found / computed since construction.
    """

    def __init__(self, encoder: Backbone, level: int, root: str | Path | None = None, batch_size: int = 16):
        self.encoder = encoder
        self.level = encoder.level_index(level)
        self.store = TransformCache(Path(root) if root is not None else default_cache_dir() / "features")
        self.batch_size = int(batch_size)
        self.digest = encoder_digest(encoder)
        self.hits = 0
        self.misses = 0

    def key(self, frame: FrameRecord, loader: FrameLoader, level: int | None = None) -> str:
        """The cache key of ``frame``'s features (at ``level``, default the cache's) when loaded by ``loader``."""
        config = {
            "kind": "feature_maps",
            "version": FEATURE_CACHE_VERSION,
            "encoder": self.encoder.name,
            "in_channels": self.encoder.in_channels,
            "weights_sha256": self.digest,
            "level": self.level if level is None else int(level),
            "normalisation": [self.encoder.input_mean.flatten().tolist(), self.encoder.input_std.flatten().tolist()],
            "transform": loader.transform.config(),
        }
        try:
            return self.store.key(config, [frame.image_path])
        except FileNotFoundError as error:
            raise FileFormatError(error.filename, "file not found (it was there when the dataset was built)") from None

    @torch.no_grad()
    def _compute(self, frames: Sequence[FrameRecord], loader: FrameLoader) -> list[torch.Tensor]:
        images = torch.stack([loader.load(frame).image for frame in frames])
        was_training = self.encoder.training
        self.encoder.eval()
        try:
            maps = self.encoder.features(images, num_levels=self.level + 1)[self.level]
        finally:
            self.encoder.train(was_training)
        return [m.clone().contiguous() for m in maps]

    @torch.no_grad()
    def _from_lower_levels(self, frames, loader, keys, maps, missing: list[int]) -> list[int]:
        """Fill (and store) the missing maps whose frame has a lower level cached; returns those still missing."""
        was_training = self.encoder.training
        self.encoder.eval()
        try:
            for lower in range(self.level - 1, -1, -1):
                found = []
                for i in missing:
                    entry = self.store.load(self.key(frames[i], loader, lower))
                    if entry is not None:
                        found.append((i, entry["features"]))
                for start in range(0, len(found), self.batch_size):
                    chunk = found[start:start + self.batch_size]
                    out = run_stages(self.encoder, torch.stack([m for _, m in chunk]), lower + 1, self.level)
                    for (i, _), features in zip(chunk, out):
                        maps[i] = features.clone().contiguous()
                        self.store.store(keys[i], {"features": maps[i]})
                done = {i for i, _ in found}
                missing = [i for i in missing if i not in done]
        finally:
            self.encoder.train(was_training)
        return missing

    def feature_maps(self, frames: Sequence[FrameRecord], loader: FrameLoader) -> torch.Tensor:
        """``(N, C, h, w)`` float32 feature maps of ``frames`` in order, read from the cache or computed (and
        stored) for the frames not there yet.

        Args:
            frames: the frames.
            loader: how images are loaded (its transform is part of the key; depth is not used).
        """
        keys = [self.key(frame, loader) for frame in frames]
        maps: list[torch.Tensor | None] = []
        missing = []
        for i, key in enumerate(keys):
            entry = self.store.load(key)
            maps.append(None if entry is None else entry["features"])
            if entry is None:
                missing.append(i)
        self.hits += len(frames) - len(missing)
        self.misses += len(missing)
        missing = self._from_lower_levels(frames, loader, keys, maps, missing)
        for start in range(0, len(missing), self.batch_size):
            chunk = missing[start:start + self.batch_size]
            for i, features in zip(chunk, self._compute([frames[i] for i in chunk], loader)):
                self.store.store(keys[i], {"features": features})
                maps[i] = features
        return torch.stack(maps)
