"""Training relative-pose heads on cached features of a frozen encoder, with PyTorch Lightning.

The frozen encoder (ImageNet EfficientNet-Lite0 by default; random weights for the ablation) turns every frame
into a feature map once (:class:`~posekit.models.feature_cache.FeatureCache`, on disk); a head
(``pooled``, ``spatial`` or ``correlation``, :mod:`posekit.models.relpose_heads`) then trains on pairs of
cached maps for many epochs in minutes on a CPU.

Fine-tuning (``fine_tune_stages: N``): the encoder's last N stages up to ``feature_level`` train with the head
(:mod:`posekit.models.relpose_finetune`); the frozen stages' output (level ``feature_level - N``) is what is
cached, and the N stages run at each step, so this is end-to-end training from images of the partly frozen
encoder. ``init_from`` starts from another run's model (the frozen-trained head), ``depth_encoder`` puts a
trained depth network's encoder in place of the ImageNet one.

Pairs: frames of one sequence (one record and camera), target ``i`` and source ``i + d`` for every ``d`` of
``distances`` (and ``-d`` with ``both_directions``), both frames inside ``train_frames``; each epoch draws
``pairs_per_epoch`` of them at random. Validation (and the exported model's selection with ``export: best``)
uses the pairs of ``val_frames`` at ``val_distances``: never the test frames.

The run folder is the usual one (``config.yaml`` of this training, ``logs/``, ``checkpoints/``) and
``model.safetensors`` is an ordinary relative-pose model (kind ``relpose``: the frozen encoder's weights and
the head, with a :class:`~posekit.training.relpose.RelativePoseTrainConfig` holding ``head``, ``feature_level``,
``freeze_backbone``), so :func:`~posekit.training.relpose.load_relpose` and ``posekit eval relpose`` read it
and run it on images.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace

import lightning as L
import torch
from torch.utils.data import DataLoader, Dataset, RandomSampler

from posekit.data import load_index
from posekit.data.loader import FrameLoader
from posekit.data.records import FrameRecord
from posekit.data.transforms import FrameTransform
from posekit.errors import ConfigError, DatasetError
from posekit.losses.pose import RelativePoseLoss
from posekit.metrics.relative_motion import pair_indices
from posekit.models import BackboneName, PoseHeadKind, RelativePoseNet
from posekit.models.feature_cache import FeatureCache
from posekit.models.relpose_finetune import cache_level, check_fine_tune_stages, run_stages, unfreeze_last_stages
from posekit.geometry import relative_pose
from posekit.metrics.pair_errors import pair_errors
from posekit.training.checkpoints import KIND_KEY
from posekit.training.common import (OptimizerKind, ScheduleKind, configure_optimization, cover_and_crop, make_optimizer,
                                     make_schedule)
from posekit.training.config import config_to_dict, resolve_config
from posekit.training.frame_data import FrameRange
from posekit.training.options import TrainerOptions, option
from posekit.training.relpose import KIND, RelativePoseTrainConfig, build_pose_net, load_relpose
from posekit.training.run_export import ExportChoice, fit_and_export


@dataclass
class FeatureTrainConfig(TrainerOptions):
    """Options of head training on cached frozen-encoder features (the shared ones: :class:`TrainerOptions`;
    the encoder is frozen, so ``weights`` and ``augment`` do not apply and are refused when set)."""

    dataset: str = option("frames", "dataset format")
    data: str = option("", "dataset folder")
    records: str | None = option(None, "the record to use (default: the only one)")
    train_frames: str = option("0-699", "training frames FIRST-LAST")
    val_frames: str = option("700-799", "held-out frames for validation and model selection")
    image_size: tuple[int, ...] = option((192, 256), "encoder input size HxW")
    cache_dir: str | None = option(None, "feature cache folder (default: the user cache folder)")
    feature_level: int = option(3, "feature level (2: stride 8, 3: stride 16)")
    head: PoseHeadKind = option(PoseHeadKind.CORRELATION, "pooled, spatial or correlation")
    hidden: tuple[int, ...] = option((256,), "FC widths of the head")
    output_scale: float = option(0.01, "factor on the raw 6 outputs")
    dropout: float = option(0.0, "dropout after each hidden FC layer")
    distances: tuple[int, ...] = option((1, 2, 3, 4, 5, 6, 8, 10, 12, 14, 16, 18, 20, 23, 26), "training frame distances")
    both_directions: bool = option(True, "also train on (i, i - d)")
    val_distances: tuple[int, ...] = option((5, 10, 20), "validation frame distances")
    pairs_per_epoch: int = option(4096, "training pairs drawn per epoch")
    batch_size: int = option(64, "pairs per batch")
    beta: float = option(1.0, "weight of the rotation term of the L1 (t, omega) loss")
    fine_tune_stages: int = option(0, "train the encoder's last N stages up to feature_level too (0: frozen); "
                                      "level feature_level - N is cached and the N stages run at each step")
    fine_tune_lr_factor: float = option(0.1, "learning rate of the fine-tuned encoder stages, as a factor on lr")
    init_from: str | None = option(None, "a relative-pose model file (same head and encoder) whose weights start "
                                         "the network, e.g. the frozen-encoder run's model.safetensors")
    depth_encoder: str | None = option(None, "a trained depth model: its encoder's features instead of ImageNet's")
    # Shared options with another default here.
    optimizer: OptimizerKind = option(OptimizerKind.ADAMW)
    lr: float = option(1e-3)
    weight_decay: float = option(1e-4)
    lr_schedule: ScheduleKind = option(ScheduleKind.COSINE)
    max_epochs: int = option(30)
    export: ExportChoice = option(ExportChoice.BEST)
    out: str = option("runs/relpose_features")
    accelerator: str = option("cpu")
    progress: bool = option(False)

    def __post_init__(self) -> None:
        if self.weights is not None or self.augment:
            raise ConfigError("weights, augment: do not apply to a frozen encoder's cached features")
        if len(self.image_size) != 2 or min(int(v) for v in self.image_size) <= 0:
            raise ConfigError(f"image_size: expected HxW, got {self.image_size}")
        train, val = FrameRange.parse(self.train_frames), FrameRange.parse(self.val_frames)
        if train.first <= val.last and val.first <= train.last:
            raise ConfigError(f"train_frames {train} and val_frames {val} overlap")
        check_fine_tune_stages(self.feature_level, self.fine_tune_stages)
        if self.fine_tune_lr_factor <= 0:
            raise ConfigError(f"fine_tune_lr_factor: expected > 0, got {self.fine_tune_lr_factor}")
        if not self.distances or 0 in self.distances or not self.val_distances or min(self.val_distances) <= 0:
            raise ConfigError(f"distances: expected non-zero training and positive validation distances, got "
                              f"{self.distances} and {self.val_distances}")

    def relpose_config(self) -> RelativePoseTrainConfig:
        """The relative-pose model configuration of the exported network (frozen encoder + head)."""
        return RelativePoseTrainConfig(
            dataset=self.dataset, data=self.data, records=self.records, train_frames=self.train_frames,
            test_frames=self.val_frames, image_size=tuple(self.image_size), backbone=self.backbone,
            pretrained=self.pretrained, head=self.head, hidden=tuple(self.hidden), output_scale=self.output_scale,
            dropout=self.dropout, freeze_backbone=self.fine_tune_stages == 0, feature_level=self.feature_level,
            depth_encoder=self.depth_encoder,
            distance=max(self.val_distances), beta=self.beta, seed=self.seed, out=self.out, progress=self.progress,
        )


# ----------------------------------------------------------------------------------------------------------
# Sequence, features, pairs


@dataclass
class FeatureSequence:
    """The frames of one sequence in order, their poses and cached feature maps.

    Attributes:
        frames: ``N`` frames sorted by ``order``.
        T_world_cam: ``(N, 4, 4)`` float64.
        features: ``(N, C, h, w)`` float32 maps of the frozen encoder.
        seconds: time spent reading or computing the features.
    """

    frames: list[FrameRecord]
    T_world_cam: torch.Tensor
    features: torch.Tensor
    seconds: float

    def positions(self, frames: FrameRange) -> torch.Tensor:
        """``(M,)`` positions (indices into :attr:`frames`) of the frames whose order lies in ``frames``."""
        orders = torch.tensor([f.order for f in self.frames])
        return torch.nonzero((orders >= frames.first) & (orders <= frames.last)).flatten()


def sequence_frames(dataset: str, data: str | Path, records: str | None = None) -> list[FrameRecord]:
    """The frames of the one record and camera of ``data`` (or of ``records``), sorted by order.

    Raises:
        DatasetError: several sequences and none chosen.
    """
    index = load_index(dataset, data)
    if records is not None:
        index = index.select(records)
    sequences = {(f.record_id, f.camera_id) for f in index.frames}
    if len(sequences) != 1:
        raise DatasetError(f"{data}: expected one sequence (record and camera), found {sorted(sequences)}; choose one with records")
    return sorted(index.frames, key=lambda f: f.order)


def load_feature_sequence(frames: list[FrameRecord], pose_net: RelativePoseNet, image_size: tuple[int, int],
                          cache_dir: str | Path | None, level: int | None = None) -> FeatureSequence:
    """Feature maps of ``frames`` at ``pose_net``'s level (or at ``level``: the frozen part's output when the
    last stages are fine-tuned), through the feature cache (``cache_dir/features``)."""
    start = time.perf_counter()
    transform = sequence_transform(frames, image_size)
    cache = FeatureCache(pose_net.backbone, pose_net.feature_level if level is None else level,
                         None if cache_dir is None else Path(cache_dir) / "features")
    features = cache.feature_maps(frames, FrameLoader(transform, load_depth=False))
    poses = torch.stack([f.T_world_cam for f in frames]).double()
    return FeatureSequence(list(frames), poses, features, time.perf_counter() - start)


def sequence_transform(frames: list[FrameRecord], image_size: tuple[int, int]) -> FrameTransform:
    """Resize to cover ``image_size`` and centre-crop (:func:`~posekit.training.common.cover_and_crop`, which
    reads the stored size of the first frame)."""
    return cover_and_crop(SimpleNamespace(frames=frames), *image_size)


def frame_pairs(sequence: FeatureSequence, frames: FrameRange, distances: tuple[int, ...]) -> torch.Tensor:
    """``(M, 2)`` ``(target, source)`` positions of the pairs at ``distances`` with both frames in ``frames``."""
    positions = sequence.positions(frames)
    if positions.numel() == 0:
        raise ConfigError(f"frames {frames}: no frame of the sequence in this range")
    first, count = int(positions[0]), int(positions.numel())
    pairs = []
    for d in distances:
        targets, sources = pair_indices(count, int(d))
        pairs.append(torch.stack((targets + first, sources + first), dim=1))
    out = torch.cat(pairs)
    if out.numel() == 0:
        raise ConfigError(f"frames {frames}: no pair at distances {distances}")
    return out


class FeaturePairs(Dataset):
    """Pairs of cached maps: items ``source_map``, ``target_map`` ``(C, h, w)`` and ``T_src_tgt`` ``(4, 4)``."""

    def __init__(self, sequence: FeatureSequence, pairs: torch.Tensor):
        self.sequence = sequence
        self.pairs = pairs

    def __len__(self) -> int:
        return self.pairs.shape[0]

    def __getitem__(self, i: int) -> dict:
        target, source = (int(v) for v in self.pairs[i])
        poses = self.sequence.T_world_cam
        return {"source_map": self.sequence.features[source], "target_map": self.sequence.features[target],
                "T_src_tgt": relative_pose(poses[source], poses[target]).float()}


# ----------------------------------------------------------------------------------------------------------
# Lightning


class CachedFeaturePoseModule(L.LightningModule):
    """The relative-pose network (frozen encoder + head) trained from cached maps.

    Its state dict has the same names as :class:`~posekit.training.relpose.RelativePoseModule`'s (``pose_net.*``)
    and its hyper-parameters hold the kind and the relative-pose configuration, so the exported file is an
    ordinary relative-pose model.

    Args:
        config: the :class:`FeatureTrainConfig`.
        pretrained: load the encoder's ImageNet weights (if ``config.pretrained``).
    """

    def __init__(self, config: FeatureTrainConfig, pretrained: bool = True):
        super().__init__()
        self.train_config = config
        relpose = config.relpose_config()
        self.save_hyperparameters({KIND_KEY: KIND, "config": config_to_dict(relpose),
                                   "feature_training": config_to_dict(config)})
        self.pose_net = build_pose_net(relpose, pretrained)
        if config.init_from is not None:
            self.pose_net.load_state_dict(load_relpose(config.init_from).pose_net.state_dict())
        self.input_level = cache_level(self.pose_net.feature_level, config.fine_tune_stages)
        self.encoder_parameters = unfreeze_last_stages(self.pose_net.backbone, self.pose_net.feature_level,
                                                       config.fine_tune_stages)
        self.loss = RelativePoseLoss(beta=config.beta)

    def head_maps(self, maps: torch.Tensor) -> torch.Tensor:
        """``(B, C, h, w)`` cached maps (level :attr:`input_level`) -> the head's input maps (level
        ``feature_level``) through the fine-tuned stages; the maps themselves without fine-tuning."""
        return run_stages(self.pose_net.backbone, maps, self.input_level + 1, self.pose_net.feature_level)

    def _terms(self, batch: dict):
        source, target = self.head_maps(torch.cat((batch["source_map"], batch["target_map"]))).chunk(2)
        out = self.pose_net.forward_maps(source, target)
        return out, self.loss(out.vector, batch["T_src_tgt"])

    def training_step(self, batch: dict, batch_idx: int) -> torch.Tensor:
        _, terms = self._terms(batch)
        size = batch["T_src_tgt"].shape[0]
        self.log("train/loss", terms.total, batch_size=size)
        self.log("train/loss_t", terms.translation.detach(), batch_size=size)
        self.log("train/loss_r", terms.rotation.detach(), batch_size=size)
        return terms.total

    def validation_step(self, batch: dict, batch_idx: int) -> None:
        out, terms = self._terms(batch)
        errors = pair_errors(batch["T_src_tgt"], out.T_src_tgt())
        size = batch["T_src_tgt"].shape[0]
        self.log("val/loss", terms.total, batch_size=size)
        self.log("val/t_err_m", errors.translation.mean().float(), batch_size=size)
        self.log("val/r_err_deg", errors.rotation_deg.mean().float(), batch_size=size)

    def configure_optimizers(self):
        config = self.train_config
        encoder = {id(p) for p in self.encoder_parameters}
        head = [p for p in self.pose_net.parameters() if p.requires_grad and id(p) not in encoder]
        if not self.encoder_parameters:
            return configure_optimization(head, config)
        optimizer = make_optimizer(head, config.optimizer, config.lr, config.weight_decay)
        optimizer.add_param_group({"params": self.encoder_parameters, "lr": config.lr * config.fine_tune_lr_factor})
        schedule = make_schedule(optimizer, config.lr_schedule, config.max_epochs)
        return optimizer if schedule is None else {"optimizer": optimizer, "lr_scheduler": schedule}


class FeaturePairsDataModule(L.LightningDataModule):
    """Random training pairs of ``train_frames`` (``pairs_per_epoch`` an epoch) and the validation pairs."""

    def __init__(self, config: FeatureTrainConfig, sequence: FeatureSequence):
        super().__init__()
        self.config = config
        distances = tuple(config.distances) + (tuple(-d for d in config.distances) if config.both_directions else ())
        self.train_set = FeaturePairs(sequence, frame_pairs(sequence, FrameRange.parse(config.train_frames), distances))
        self.val_set = FeaturePairs(sequence, frame_pairs(sequence, FrameRange.parse(config.val_frames),
                                                          tuple(config.val_distances)))

    def train_dataloader(self) -> DataLoader:
        sampler = RandomSampler(self.train_set, replacement=True, num_samples=self.config.pairs_per_epoch)
        return DataLoader(self.train_set, batch_size=self.config.batch_size, sampler=sampler)

    def val_dataloader(self) -> DataLoader:
        return DataLoader(self.val_set, batch_size=256, shuffle=False)


@dataclass
class FeatureTrainingResult:
    """A finished run: its folder, the sequence (with every frame's features) and the timings (s)."""

    run_dir: Path
    module: CachedFeaturePoseModule
    sequence: FeatureSequence
    feature_seconds: float
    fit_seconds: float


def train_on_cached_features(config: FeatureTrainConfig, frames: list[FrameRecord] | None = None) -> FeatureTrainingResult:
    """Cache the features of ``frames`` (default: the whole sequence of ``config.data``), train the head, export.

    Returns:
        the :class:`FeatureTrainingResult`; ``run_dir/model.safetensors`` is loadable by
        :func:`posekit.training.relpose.load_relpose`.
    """
    L.seed_everything(config.seed, workers=True, verbose=False)
    frames = frames if frames is not None else sequence_frames(config.dataset, config.data, config.records)
    module = CachedFeaturePoseModule(config)
    sequence = load_feature_sequence(frames, module.pose_net, tuple(config.image_size), config.cache_dir,
                                     level=module.input_level)
    data = FeaturePairsDataModule(config, sequence)
    start = time.perf_counter()
    run_dir = fit_and_export(config, KIND, module, data, monitor="val/loss")
    return FeatureTrainingResult(run_dir, module, sequence, sequence.seconds, time.perf_counter() - start)


@torch.no_grad()
def head_input_sequence(sequence: FeatureSequence, module: CachedFeaturePoseModule, batch_size: int = 64) -> FeatureSequence:
    """``sequence`` with its cached maps run through ``module``'s fine-tuned stages (in eval mode): the maps its
    head reads, for :func:`posekit.evaluation.relative_features.evaluate_held_out`; ``sequence`` itself without
    fine-tuning."""
    return sequence_through_stages(sequence, module.pose_net, module.input_level, batch_size)


@torch.no_grad()
def sequence_through_stages(sequence: FeatureSequence, pose_net: RelativePoseNet, input_level: int,
                            batch_size: int = 64) -> FeatureSequence:
    """``sequence`` (maps of level ``input_level``) with its maps run through ``pose_net``'s encoder stages
    ``input_level + 1 .. feature_level`` in eval mode; ``sequence`` itself when there are none."""
    if input_level == pose_net.feature_level:
        return sequence
    pose_net.eval()
    maps = [run_stages(pose_net.backbone, sequence.features[i:i + batch_size], input_level + 1, pose_net.feature_level)
            for i in range(0, len(sequence.frames), batch_size)]
    return FeatureSequence(sequence.frames, sequence.T_world_cam, torch.cat(maps), sequence.seconds)


def resolve_feature_config(yaml_path: str | Path | None = None, **overrides) -> FeatureTrainConfig:
    """A :class:`FeatureTrainConfig` from its defaults, a YAML file and keyword overrides."""
    return resolve_config(FeatureTrainConfig, yaml_path, overrides)
