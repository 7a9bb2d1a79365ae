"""Supervised single-image depth training on sensor depth, with PyTorch Lightning.

A :class:`~posekit.models.DepthNet` (any backbone as encoder; the founding article's bilinear decoder or a
U-Net decoder) learns from frames with sensor depth: masked L1 or the scale-invariant log loss, on every output
scale upsampled to the depth map (:class:`~posekit.losses.depth.SupervisedDepthLoss`). Validation reports the
depth metrics of :mod:`posekit.metrics.depth_metrics` on the held-out frames. The trained encoder is what
``posekit train relpose --depth-encoder RUN/model.safetensors`` taps for "depth features for pose".
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import lightning as L
import torch

from posekit.data import AbsolutePoseDataset
from posekit.errors import ConfigError
from posekit.losses.depth import DepthLossKind, SupervisedDepthLoss
from posekit.metrics.depth_metrics import compute_depth_metrics
from posekit.models import DecoderKind, DepthNet
from posekit.training.checkpoints import KIND_KEY
from posekit.training.common import SplitDataModule, color_jitter, configure_optimization
from posekit.training.config import AT_LEAST_ONE, POSITIVE, config_to_dict, in_range, resolve_config
from posekit.training.frame_data import FrameDataConfig, FrameSides, record_list, resolve_frame_sides
from posekit.training.options import TrainerOptions, check_run, create_task_backbone, option
from posekit.training.run_export import fit_and_export, load_trained_module

KIND = "depth"


@dataclass
class DepthNetOptions:
    """Options of a depth network (``train depth``, and ``train relpose --mode monocular``)."""

    decoder: DecoderKind = option(DecoderKind.UNET, "depth decoder: bilinear (the founding article's) or unet")
    num_scales: int = option(4, "output scales of the U-Net depth decoder (each takes part in the loss)",
                             check=AT_LEAST_ONE)
    min_depth: float = option(0.1, "depth range of the network: minimum (m)", check=POSITIVE)
    max_depth: float = option(10.0, "depth range of the network: maximum (m)", check=POSITIVE)


@dataclass
class DepthTrainConfig(DepthNetOptions, TrainerOptions, FrameDataConfig):
    """Options of ``posekit train depth`` (shared ones: :class:`DepthNetOptions`, :class:`TrainerOptions`,
    :class:`FrameDataConfig`)."""

    out: str = option("runs/depth")
    loss: DepthLossKind = option(DepthLossKind.L1, "l1 (masked) or silog (scale-invariant log)")
    silog_lambda: float = option(0.5, "lambda of the scale-invariant log loss", check=in_range(0, 1), stability=True)

    def __post_init__(self) -> None:
        super().__post_init__()
        if any(int(v) % 32 for v in self.image_size):
            raise ConfigError(f"image_size: the depth network needs HxW multiples of 32, got {self.image_size}")


def build_depth_net(config: DepthNetOptions, pretrained: bool) -> DepthNet:
    """The depth network of a task configuration with :class:`DepthNetOptions` and :class:`TrainerOptions`;
    ``pretrained=False`` skips ImageNet weights (a checkpoint's follow)."""
    encoder = create_task_backbone(config, pretrained)
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
        return configure_optimization(self.model.parameters(), self.config)


def depth_frames(sides: FrameSides, config: FrameDataConfig, held_out: bool, augment: bool = False) -> AbsolutePoseDataset:
    """Frames with their sensor depth, of the training or the held-out side."""
    side = sides.validation if held_out else sides.train
    return AbsolutePoseDataset(side.index, side.split, records=record_list(config.records), normalize=False,
                               transform=sides.transform, cache=config.cache, cache_dir=config.cache_dir,
                               load_depth=True, split_policy=sides.policy,
                               augment=color_jitter(augment))


class DepthDataModule(SplitDataModule):
    """Training and held-out frames with sensor depth."""

    def __init__(self, config: DepthTrainConfig, sides: FrameSides | None = None):
        super().__init__(config)
        self.sides = sides if sides is not None else resolve_frame_sides(config)
        if not self.sides.train.index.has_depth:
            raise ConfigError(f"depth training needs sensor depth; the {config.dataset} dataset {config.data} has none")
        self.train_set = depth_frames(self.sides, config, held_out=False, augment=config.augment)
        self.val_set = depth_frames(self.sides, config, held_out=True)


def train_depth(config: DepthTrainConfig) -> Path:
    """Train a depth network as configured; return the run folder.

    Raises:
        ConfigError: an option this machine cannot run, or a loss that became non-finite.
    """
    check_run(config)
    L.seed_everything(config.seed, workers=True, verbose=False)
    data = DepthDataModule(config)
    module = DepthModule(config_to_dict(config))
    return fit_and_export(config, KIND, module, data, monitor="val/loss")


def load_depth_model(path: str | Path) -> DepthModule:
    """A trained :class:`DepthModule` from ``model.safetensors`` or a Lightning ``.ckpt``, in eval mode.

    Raises:
        CheckpointError: the file is corrupt, of another kind, or does not fit its configuration.
    """
    return load_trained_module(path, KIND, lambda metadata: DepthModule(metadata["config"], pretrained=False))
