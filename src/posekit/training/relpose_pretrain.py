"""Pre-training relative-pose heads on rendered pairs (:mod:`posekit.data.synth.pairs`), then fine-tuning them
on the pairs of real frames (issue 14, item 3b).

Both stages train the head of :class:`~posekit.training.relpose_features.CachedFeaturePoseModule` on feature
maps of the frozen encoder cached per image (:class:`~posekit.models.feature_cache.FeatureCache`, whose key
holds the encoder's weights, the level, the transform and the image file's identity; a pair set's images live
in a folder named by the digest of everything that rendered them, so a changed pair set is a new folder and
new cache entries).

- :func:`pretrain_on_pairs`: train on a rendered pair set (``pairs_per_epoch`` drawn an epoch), validate and
  select the exported epoch on another pair set rendered in other rooms: no real frame is seen, so the
  exported model is the "pre-trained only" (zero-shot) network.
- :func:`finetune_on_frames`: the real-frame training of
  :func:`~posekit.training.relpose_features.train_on_cached_features` (pairs of ``train_frames``, model
  selection on ``val_frames``), starting from a pre-trained model's weights.

Both write ordinary run folders whose ``model.safetensors`` :func:`~posekit.training.relpose.load_relpose` reads.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path

import lightning as L
from torch.utils.data import DataLoader, RandomSampler

from posekit.data.records import FrameRecord
from posekit.data.synth.pairs import PairExpansion, PairSet
from posekit.errors import ConfigError
from posekit.fileio import atomic_write_text
from posekit.training.relpose import KIND, load_relpose
from posekit.training.relpose_features import (
    CachedFeaturePoseModule,
    FeaturePairs,
    FeaturePairsDataModule,
    FeatureTrainConfig,
    FeatureTrainingResult,
    load_feature_sequence,
    sequence_frames,
)
from posekit.training.run_export import fit_and_export

PRETRAIN_FILE = "pretrain.json"


class PairSetDataModule(L.LightningDataModule):
    """Random training pairs (``pairs_per_epoch`` an epoch, with replacement) and all validation pairs."""

    def __init__(self, train: FeaturePairs, val: FeaturePairs, pairs_per_epoch: int, batch_size: int):
        super().__init__()
        self.train_set, self.val_set = train, val
        self.pairs_per_epoch, self.batch_size = int(pairs_per_epoch), int(batch_size)

    def train_dataloader(self) -> DataLoader:
        sampler = RandomSampler(self.train_set, replacement=True, num_samples=self.pairs_per_epoch)
        return DataLoader(self.train_set, batch_size=self.batch_size, sampler=sampler)

    def val_dataloader(self) -> DataLoader:
        return DataLoader(self.val_set, batch_size=256, shuffle=False)


def pair_set_features(pair_set: PairSet, module: CachedFeaturePoseModule, config: FeatureTrainConfig,
                      expansion: PairExpansion | str = PairExpansion.GIVEN) -> FeaturePairs:
    """The pairs of ``pair_set`` (:meth:`~posekit.data.synth.pairs.PairSet.group_pairs` of ``expansion``) on the
    cached maps of ``module``'s frozen encoder (``config``'s image size and cache folder)."""
    sequence = load_feature_sequence(pair_set.frames, module.pose_net, tuple(config.image_size), config.cache_dir)
    return FeaturePairs(sequence, pair_set.group_pairs(expansion))


@dataclass
class PretrainResult:
    """A finished pre-training: its folder, module, and the feature and fit times (s)."""

    run_dir: Path
    module: CachedFeaturePoseModule
    feature_seconds: float
    fit_seconds: float


def pretrain_on_pairs(config: FeatureTrainConfig, train: PairSet, val: PairSet,
                      expansion: PairExpansion | str = PairExpansion.BOTH) -> PretrainResult:
    """Train ``config``'s head on the rendered pairs of ``train`` (expanded by ``expansion``: by default each
    pair in both directions, as the real training); validate and select on ``val``'s rendered pairs.

    ``config.train_frames`` / ``val_frames`` are not used (no real frame is read); ``config.data`` names the
    real dataset only in the exported model's configuration. ``run_dir/pretrain.json`` records the pair sets.
    """
    L.seed_everything(config.seed, workers=True, verbose=False)
    module = CachedFeaturePoseModule(config)
    start = time.perf_counter()
    train_pairs = pair_set_features(train, module, config, expansion)
    val_pairs = pair_set_features(val, module, config)
    feature_seconds = time.perf_counter() - start
    data = PairSetDataModule(train_pairs, val_pairs, config.pairs_per_epoch, config.batch_size)
    start = time.perf_counter()
    run_dir = fit_and_export(config, KIND, module, data, monitor="val/loss")
    fit_seconds = time.perf_counter() - start
    record = {"train_pairs": str(train.root), "train_count": int(train.pairs.shape[0]), "val_pairs": str(val.root),
              "val_count": int(val.pairs.shape[0]), "expansion": PairExpansion(expansion).value,
              "feature_seconds": feature_seconds, "fit_seconds": fit_seconds}
    atomic_write_text(run_dir / PRETRAIN_FILE, json.dumps(record, indent=1))
    return PretrainResult(run_dir, module, feature_seconds, fit_seconds)


def load_initial_weights(module: CachedFeaturePoseModule, model_path: str | Path) -> None:
    """Copy the network of ``model_path`` (a relative-pose ``model.safetensors``) into ``module``.

    Raises:
        ConfigError: the saved network is not of ``module``'s configuration (another head, width or encoder).
    """
    source = load_relpose(model_path).pose_net.state_dict()
    try:
        module.pose_net.load_state_dict(source, strict=True)
    except RuntimeError as error:
        first = str(error).strip().splitlines()[0]
        raise ConfigError(f"{model_path}: its network does not fit this configuration ({first})") from None


def finetune_on_frames(config: FeatureTrainConfig, init_model: str | Path | None,
                       frames: list[FrameRecord] | None = None) -> FeatureTrainingResult:
    """Train on the real pairs of ``config`` (as :func:`~posekit.training.relpose_features.train_on_cached_features`)
    starting from ``init_model``'s weights (``None``: from scratch).

    Args:
        config: the real-frame training (frames, distances, epochs, learning rate, output folder).
        init_model: a pre-trained ``model.safetensors`` of the same head, or ``None``.
        frames: the sequence's frames (default: the whole sequence of ``config.data``).
    """
    L.seed_everything(config.seed, workers=True, verbose=False)
    frames = frames if frames is not None else sequence_frames(config.dataset, config.data, config.records)
    module = CachedFeaturePoseModule(config)
    if init_model is not None:
        load_initial_weights(module, init_model)
    sequence = load_feature_sequence(frames, module.pose_net, tuple(config.image_size), config.cache_dir)
    data = FeaturePairsDataModule(config, sequence)
    start = time.perf_counter()
    run_dir = fit_and_export(config, KIND, module, data, monitor="val/loss")
    return FeatureTrainingResult(run_dir, module, sequence, sequence.seconds, time.perf_counter() - start)

