"""PoseNet on cached features of a frozen backbone (``posekit train posenet --freeze-backbone --cache-features``).

With the backbone frozen (ImageNet features as they are) and no photometric augmentation, the backbone's pooled
features of a training image are the same at every epoch. They are computed once per image (real frames and
rendered views alike) and kept on disk, and only PoseNet's FC layers train on them, so a run of hundreds of epochs
takes minutes on a CPU. The model trained this way is an ordinary PoseNet (the backbone's weights are in it):
``posekit eval posenet`` and ``predict`` read it like any other.

Cache entries: ``<cache>/posenet_features/pooled-<key>.pt``, one per dataset (training set, held-out set), with
``key`` = SHA-256 of the cache version, the backbone's weights (:func:`~posekit.models.feature_cache.encoder_digest`)
and every image tensor of the dataset in order: anything that changes a feature (image size, frames, views,
weights) changes the key.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path

import torch
from torch.utils.data import DataLoader, Dataset

from posekit.data.cache import default_cache_dir
from posekit.errors import ConfigError
from posekit.fileio import atomic_save
from posekit.models.backbones import Backbone
from posekit.models.feature_cache import encoder_digest

POOLED_CACHE_VERSION = 1
CACHE_SUBDIR = "posenet_features"
BATCH = 32


class PooledFeatureDataset(Dataset):
    """Cached pooled features with their targets: items ``features (C,)``, ``pose (7,)`` (normalised, as the
    image dataset gave it), ``T_world_cam (4, 4)`` and ``index``.

    Args:
        features: ``(N, C)`` float32.
        pose: ``(N, 7)`` float32 targets.
        T_world_cam: ``(N, 4, 4)`` float32 poses.
    """

    def __init__(self, features: torch.Tensor, pose: torch.Tensor, T_world_cam: torch.Tensor):
        if not (features.shape[0] == pose.shape[0] == T_world_cam.shape[0]):
            raise ConfigError(f"cached features: {features.shape[0]} features for {pose.shape[0]} poses")
        self.features, self.pose, self.T_world_cam = features, pose, T_world_cam

    def __len__(self) -> int:
        return int(self.features.shape[0])

    def __getitem__(self, i: int) -> dict:
        return {"features": self.features[i], "pose": self.pose[i], "T_world_cam": self.T_world_cam[i], "index": i}


def _loader(dataset: Dataset) -> DataLoader:
    return DataLoader(dataset, batch_size=BATCH, shuffle=False, num_workers=0)


def _dataset_key(backbone_digest: str, dataset: Dataset) -> str:
    """SHA-256 of the cache version, the backbone digest and every image of ``dataset`` (one pass of reads)."""
    digest = hashlib.sha256(f"pooled|{POOLED_CACHE_VERSION}|{backbone_digest}|{len(dataset)}|".encode())
    for batch in _loader(dataset):
        images = batch["image"].contiguous()
        digest.update(f"{tuple(images.shape)}|{images.dtype}|".encode())
        digest.update(images.numpy().tobytes())
    return digest.hexdigest()


def _compute(backbone: Backbone, dataset: Dataset) -> dict[str, torch.Tensor]:
    was_training = backbone.training
    backbone.eval()
    features, poses, T_world_cam = [], [], []
    with torch.no_grad():
        for batch in _loader(dataset):
            if batch["image"].dim() != 4:
                raise ConfigError(f"--cache-features: mono images expected, got a batch of shape {tuple(batch['image'].shape)}")
            features.append(backbone.forward_pooled(batch["image"]).float())
            poses.append(batch["pose"].float())
            T_world_cam.append(batch["T_world_cam"].float())
    backbone.train(was_training)
    return {"features": torch.cat(features), "pose": torch.cat(poses), "T_world_cam": torch.cat(T_world_cam)}


def pooled_feature_dataset(backbone: Backbone, dataset: Dataset, cache_dir: str | Path | None = None,
                           log: Callable[[str], None] = print, name: str = "frames") -> PooledFeatureDataset:
    """The pooled features of every image of ``dataset`` (items with ``image (3, H, W)``, ``pose``,
    ``T_world_cam``), from the disk cache or computed once and cached.

    Args:
        backbone: the frozen backbone (put in eval mode while features are computed, then restored).
        dataset: an image dataset without random augmentation (its images must be the same at every read).
        cache_dir: cache root (default: :func:`~posekit.data.cache.default_cache_dir`).
        name: what the dataset is, for the log line.
    """
    if len(dataset) == 0:
        raise ConfigError(f"--cache-features: the {name} set is empty")
    folder = Path(cache_dir if cache_dir else default_cache_dir()) / CACHE_SUBDIR
    path = folder / f"pooled-{_dataset_key(encoder_digest(backbone), dataset)}.pt"
    if path.exists():
        entry = torch.load(path, map_location="cpu", weights_only=True)
        log(f"posekit: cached features of {len(dataset)} {name} images: {path}")
    else:
        entry = _compute(backbone, dataset)
        folder.mkdir(parents=True, exist_ok=True)
        atomic_save(path, lambda handle: torch.save(entry, handle))
        log(f"posekit: computed and cached features of {len(dataset)} {name} images: {path}")
    return PooledFeatureDataset(entry["features"], entry["pose"], entry["T_world_cam"])


def use_cached_features(data, backbone: Backbone, cache_dir: str | Path | None, log: Callable[[str], None] = print) -> None:
    """Replace ``data.train_set`` and ``data.val_set`` (an :class:`~posekit.training.posenet.AbsolutePoseDataModule`,
    rendered views included) by their cached pooled features."""
    data.train_set = pooled_feature_dataset(backbone, data.train_set, cache_dir, log, "training")
    data.val_set = pooled_feature_dataset(backbone, data.val_set, cache_dir, log, "validation")
