"""Supervised single-image depth training on sensor depth, with PyTorch Lightning.

A :class:`~posekit.models.DepthNet` (any backbone as encoder; the founding article's bilinear decoder or a
U-Net decoder) learns from frames with sensor depth: masked L1 or the scale-invariant log loss, on every output
scale upsampled to the depth map (:class:`~posekit.losses.depth.SupervisedDepthLoss`). Validation reports the
depth metrics of :mod:`posekit.metrics.depth_metrics` on the held-out frames. The trained encoder is what
``posekit train relpose --depth-encoder RUN/model.safetensors`` taps for "depth features for pose".
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import lightning as L
import torch
from torch.utils.data import DataLoader

from posekit.data import AbsolutePoseDataset, ColorJitter
from posekit.errors import ConfigError
from posekit.losses.depth import DepthLossKind, SupervisedDepthLoss
from posekit.metrics.depth_metrics import compute_depth_metrics
from posekit.models import BackboneName, DecoderKind, DepthNet, create_backbone
from posekit.training.checkpoints import KIND_KEY
from posekit.training.common import (
    OptimizerKind,
    ScheduleKind,
    make_optimizer,
    make_schedule,
)
from posekit.training.config import config_to_dict, resolve_config
from posekit.training.frame_data import FrameDataConfig, FrameSides, record_list, resolve_frame_sides
from posekit.training.run_export import ExportChoice, fit_and_export, load_trained_module

KIND = "depth"


def _help(text: str) -> dict:
    return {"help": text}


@dataclass
class DepthTrainConfig(FrameDataConfig):
    """Options of ``posekit train depth`` (the dataset options are :class:`FrameDataConfig`'s)."""

    backbone: BackboneName = field(default=BackboneName.EFFICIENTNET_LITE0, metadata=_help("encoder"))
    pretrained: bool = field(default=True, metadata=_help("start the encoder from ImageNet weights"))
    weights: str | None = field(default=None, metadata=_help("encoder weights file (torchvision .pth for ResNets)"))
    decoder: DecoderKind = field(default=DecoderKind.UNET, metadata=_help("bilinear (the article's) or unet"))
    num_scales: int = field(default=4, metadata=_help("output scales of the U-Net decoder"))
    min_depth: float = field(default=0.1, metadata=_help("depth range of the network (min, m)"))
    max_depth: float = field(default=10.0, metadata=_help("depth range of the network (max, m)"))
    loss: DepthLossKind = field(default=DepthLossKind.L1, metadata=_help("l1 (masked) or silog (scale-invariant log)"))
    silog_lambda: float = field(default=0.5, metadata=_help("lambda of the scale-invariant log loss"))
    optimizer: OptimizerKind = field(default=OptimizerKind.ADAM, metadata=_help("adam or sgd"))
    lr: float = field(default=1e-4, metadata=_help("learning rate"))
    weight_decay: float = field(default=0.0, metadata=_help("weight decay"))
    lr_schedule: ScheduleKind = field(default=ScheduleKind.NONE, metadata=_help("none, cosine or step"))
    max_epochs: int = field(default=10, metadata=_help("epochs"))
    max_steps: int = field(default=-1, metadata=_help("stop after this many steps (-1: no limit)"))
    augment: bool = field(default=False, metadata=_help("random colour jitter"))
    export: ExportChoice = field(default=ExportChoice.LAST, metadata=_help("weights to export: last or best"))
    seed: int = field(default=0, metadata=_help("random seed"))
    out: str = field(default="runs/depth", metadata=_help("run folder"))
    devices: int = field(default=1, metadata=_help("devices (processes) to train on"))
    strategy: str = field(default="auto", metadata=_help("Lightning strategy"))
    accelerator: str = field(default="auto", metadata=_help("Lightning accelerator (auto, cpu, gpu)"))
    resume: str | None = field(default=None, metadata=_help("checkpoint to resume from, or 'last'"))
    progress: bool = field(default=True, metadata=_help("show progress bars"))

    def __post_init__(self) -> None:
        super().__post_init__()
        if any(int(v) % 32 for v in self.image_size):
            raise ConfigError(f"image_size: the depth network needs HxW multiples of 32, got {self.image_size}")


def build_depth_net(config: DepthTrainConfig, pretrained: bool) -> DepthNet:
    """The depth network of ``config``; ``pretrained=False`` skips ImageNet weights (a checkpoint's follow)."""
    load_imagenet = pretrained and config.pretrained
    encoder = create_backbone(config.backbone, pretrained=load_imagenet and config.weights is None,
                              weights_path=config.weights if load_imagenet else None, progress=config.progress)
    return DepthNet(encoder, config.decoder, min_depth=config.min_depth, max_depth=config.max_depth,
                    num_scales=config.num_scales)


class DepthModule(L.LightningModule):
    """A depth network trained on sensor depth. Batches are :class:`AbsolutePoseDataset` items with depth.

    Args:
        config: the resolved :class:`DepthTrainConfig` as a plain dict.
        pretrained: load ImageNet weights into the encoder (False when a checkpoint's weights follow).
    """

    def __init__(self, config: dict, pretrained: bool = True):
        super().__init__()
        self.save_hyperparameters({KIND_KEY: KIND, "config": config})
        self.config = resolve_config(DepthTrainConfig, None, config)
        self.model = build_depth_net(self.config, pretrained)
        self.criterion = SupervisedDepthLoss(self.config.loss, self.config.silog_lambda)

    def predict_depth(self, images: torch.Tensor) -> torch.Tensor:
        """``(B, 3, H, W)`` images -> ``(B, 1, H, W)`` depth in metres."""
        return self.model(images).depth

    def training_step(self, batch: dict, batch_idx: int) -> torch.Tensor:
        loss = self.criterion(self.model(batch["image"]).depths, batch["depth"])
        self.log("train/loss", loss, prog_bar=True, batch_size=batch["image"].shape[0])
        return loss

    def validation_step(self, batch: dict, batch_idx: int) -> None:
        out = self.model(batch["image"])
        size = batch["image"].shape[0]
        self.log("val/loss", self.criterion(out.depths, batch["depth"]), batch_size=size, sync_dist=True)
        if bool((batch["depth"] > 0).flatten(1).any(1).all()):
            metrics = compute_depth_metrics(out.depth, batch["depth"], max_depth=self.config.max_depth)
            self.log("val/abs_rel", metrics.abs_rel, batch_size=size, sync_dist=True, prog_bar=True)
            self.log("val/rmse", metrics.rmse, batch_size=size, sync_dist=True)
            self.log("val/delta1", metrics.delta1, batch_size=size, sync_dist=True)

    def configure_optimizers(self):
        optimizer = make_optimizer(self.model.parameters(), self.config.optimizer, self.config.lr, self.config.weight_decay)
        schedule = make_schedule(optimizer, self.config.lr_schedule, self.config.max_epochs)
        return optimizer if schedule is None else {"optimizer": optimizer, "lr_scheduler": schedule}


def depth_frames(sides: FrameSides, config: FrameDataConfig, held_out: bool, augment: bool = False) -> AbsolutePoseDataset:
    """Frames with their sensor depth, of the training or the held-out side."""
    side = sides.test if held_out else sides.train
    return AbsolutePoseDataset(side.index, side.split, records=record_list(config.records), normalize=False,
                               transform=sides.transform, cache=config.cache, cache_dir=config.cache_dir,
                               load_depth=True, split_policy=sides.policy,
                               augment=ColorJitter(0.2, 0.2, 0.2) if augment else None)


class DepthDataModule(L.LightningDataModule):
    """Training and held-out frames with sensor depth."""

    def __init__(self, config: DepthTrainConfig, sides: FrameSides | None = None):
        super().__init__()
        self.config = config
        self.sides = sides if sides is not None else resolve_frame_sides(config)
        if not self.sides.train.index.has_depth:
            raise ConfigError(f"depth training needs sensor depth; the {config.dataset} dataset {config.data} has none")
        self.train_set = depth_frames(self.sides, config, held_out=False, augment=config.augment)
        self.val_set = depth_frames(self.sides, config, held_out=True)

    def _loader(self, dataset, shuffle: bool) -> DataLoader:
        return DataLoader(dataset, batch_size=self.config.batch_size, shuffle=shuffle, num_workers=self.config.num_workers,
                          persistent_workers=self.config.num_workers > 0,
                          drop_last=shuffle and len(dataset) > self.config.batch_size)

    def train_dataloader(self) -> DataLoader:
        return self._loader(self.train_set, shuffle=True)

    def val_dataloader(self) -> DataLoader:
        return self._loader(self.val_set, shuffle=False)


def train_depth(config: DepthTrainConfig) -> Path:
    """Train a depth network as configured; return the run folder."""
    L.seed_everything(config.seed, workers=True, verbose=False)
    data = DepthDataModule(config)
    module = DepthModule(config_to_dict(config))
    return fit_and_export(config, KIND, module, data, monitor="val/loss")


def load_depth_model(path: str | Path) -> DepthModule:
    """A trained :class:`DepthModule` from ``model.safetensors`` or a Lightning ``.ckpt``, in eval mode.

    Raises:
        CheckpointError: the file is corrupt, of another kind, or does not fit its configuration.
    """
    return load_trained_module(path, KIND, lambda config: DepthModule(config, pretrained=False))
