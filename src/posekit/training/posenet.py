"""Training and evaluating PoseNet (absolute pose regression) with PyTorch Lightning.

- :class:`PoseNetTrainConfig`: every option, loadable from YAML and settable by CLI flag.
- :class:`AbsolutePoseDataModule`: the training split and the held-out split of any supported dataset, with
  translation normalisation computed on the training split only.
- :class:`PoseNetModule`: the LightningModule (model, loss, optimiser); the normalisation statistics are
  buffers of the module, saved with it, so predictions are always un-normalised to metres.
- :func:`train_posenet` / :func:`evaluate_posenet`: what ``posekit train posenet`` and ``posekit eval posenet`` run.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path

import lightning as L
import torch
from lightning.pytorch.loggers import TensorBoardLogger
from torch.utils.data import DataLoader

from posekit.data import AbsolutePoseDataset, ColorJitter, PoseFormat, PoseStats, Split, SplitPolicy, load_index
from posekit.errors import CheckpointError, ConfigError
from posekit.geometry import quaternion_translation_to_matrix
from posekit.losses.pose import GeometricReprojectionLoss, LearnedPoseLoss, Norm, PoseNetLoss, sample_scene_points
from posekit.metrics.pose_errors import absolute_pose_errors
from posekit.metrics.trajectory import Trajectory
from posekit.models import BackboneName, BatchNormMode, PoseNet, create_backbone
from posekit.training.checkpoints import KIND_KEY, ExportedModel, load_model_file
from posekit.training.common import (
    OptimizerKind,
    ScheduleKind,
    cover_and_crop,
    held_out_split,
    make_optimizer,
    make_schedule,
)
from posekit.training.config import config_to_dict, resolve_config
from posekit.training.run_export import ExportChoice, fit_and_export
from posekit.viz import ErrorSeries, log_figure, plot_error_distributions, plot_trajectory_comparison

KIND = "posenet"


class PoseLossKind(str, Enum):
    """``fixed``: ``L_x + beta L_q``; ``learned``: homoscedastic weights (sx, sq); ``reprojection``: Kendall and
    Cipolla's geometric loss on scene points from depth (needs depth), added to the learned-weight loss."""

    FIXED = "fixed"
    LEARNED = "learned"
    REPROJECTION = "reprojection"


def _help(text: str) -> dict:
    return {"help": text}


@dataclass
class PoseNetTrainConfig:
    """Options of ``posekit train posenet``."""

    dataset: str = field(default="7scenes", metadata=_help("dataset format: 7scenes, frames, cambridge, apolloscape, kitti, tum, folder"))
    data: str = field(default="", metadata=_help("dataset folder"))
    records: str | None = field(default=None, metadata=_help("comma-separated record ids to keep"))
    split: str = field(default="auto", metadata=_help("auto (official, else generated) or blocks:N:K (every K-th block of N frames held out)"))
    backbone: BackboneName = field(default=BackboneName.EFFICIENTNET_LITE0, metadata=_help("image encoder"))
    pretrained: bool = field(default=True, metadata=_help("start from ImageNet weights"))
    weights: str | None = field(default=None, metadata=_help("backbone weights file (torchvision .pth for ResNets)"))
    freeze_backbone: bool = field(default=False, metadata=_help("train only the FC layers (ImageNet features as they are)"))
    batchnorm: BatchNormMode = field(default=BatchNormMode.TRACK, metadata=_help("BatchNorm statistics: track, batch, frozen"))
    feature_dim: int = field(default=2048, metadata=_help("width of the FC layer before the heads"))
    dropout: float = field(default=0.5, metadata=_help("dropout after the FC layer (training only)"))
    image_size: tuple[int, ...] = field(default=(128, 160), metadata=_help("input size HxW"))
    batch_size: int = field(default=16, metadata=_help("images per batch"))
    max_epochs: int = field(default=30, metadata=_help("epochs"))
    max_steps: int = field(default=-1, metadata=_help("stop after this many steps (-1: no limit)"))
    loss: PoseLossKind = field(default=PoseLossKind.LEARNED, metadata=_help("pose loss"))
    loss_norm: Norm = field(default=Norm.L1, metadata=_help("l1 or l2 distance in the loss"))
    beta: float = field(default=512.0, metadata=_help("quaternion weight of the fixed loss"))
    reprojection_points: int = field(default=256, metadata=_help("scene points per image for the reprojection loss"))
    optimizer: OptimizerKind = field(default=OptimizerKind.ADAM, metadata=_help("adam or sgd"))
    lr: float = field(default=1e-4, metadata=_help("learning rate"))
    weight_decay: float = field(default=5e-4, metadata=_help("weight decay"))
    lr_schedule: ScheduleKind = field(default=ScheduleKind.NONE, metadata=_help("none, cosine or step"))
    augment: bool = field(default=False, metadata=_help("random colour jitter after the cache"))
    cache: bool = field(default=True, metadata=_help("cache decoded, resized images on disk"))
    cache_dir: str | None = field(default=None, metadata=_help("cache folder (default: the user cache folder)"))
    num_workers: int = field(default=0, metadata=_help("data loader worker processes"))
    seed: int = field(default=0, metadata=_help("random seed"))
    out: str = field(default="runs/posenet", metadata=_help("run folder"))
    devices: int = field(default=1, metadata=_help("devices (processes) to train on"))
    strategy: str = field(default="auto", metadata=_help("Lightning strategy (auto, ddp, ...)"))
    accelerator: str = field(default="auto", metadata=_help("Lightning accelerator (auto, cpu, gpu)"))
    resume: str | None = field(default=None, metadata=_help("checkpoint to resume from, or 'last'"))
    export: ExportChoice = field(default=ExportChoice.LAST, metadata=_help("weights to export: last or best (selected on the held-out frames)"))
    progress: bool = field(default=True, metadata=_help("show progress bars"))


def build_posenet(config: PoseNetTrainConfig, pretrained: bool | None = None) -> PoseNet:
    """The network of a configuration (``pretrained`` overrides the config, e.g. False when weights follow)."""
    backbone = create_backbone(
        config.backbone,
        pretrained=config.pretrained if pretrained is None else pretrained,
        weights_path=config.weights if pretrained is not False else None,
        batchnorm=config.batchnorm,
        progress=config.progress,
    )
    return PoseNet(backbone, feature_dim=config.feature_dim, dropout=config.dropout, freeze_backbone=config.freeze_backbone)


class PoseNetModule(L.LightningModule):
    """PoseNet, its loss and optimiser. Inputs are batches of :class:`AbsolutePoseDataset` (mono).

    Args:
        config: the resolved :class:`PoseNetTrainConfig` as a plain dict.
        pose_stats: the translation normalisation of the training split (``PoseStats`` fields).
        pretrained: load ImageNet weights into the backbone (False when a checkpoint's weights follow).
    """

    def __init__(self, config: dict, pose_stats: dict, pretrained: bool = True):
        super().__init__()
        self.save_hyperparameters({KIND_KEY: KIND, "config": config, "pose_stats": pose_stats})
        self.config = resolve_config(PoseNetTrainConfig, None, config)
        self.model = build_posenet(self.config, pretrained=pretrained and self.config.pretrained)
        self.register_buffer("translation_mean", torch.tensor(pose_stats["mean"], dtype=torch.float32))
        self.register_buffer("translation_std", torch.tensor(pose_stats["std"], dtype=torch.float32))
        if self.config.loss is PoseLossKind.FIXED:
            self.criterion = PoseNetLoss(beta=self.config.beta, norm=self.config.loss_norm)
        else:
            self.criterion = LearnedPoseLoss(norm=self.config.loss_norm)
        self.reprojection = GeometricReprojectionLoss() if self.config.loss is PoseLossKind.REPROJECTION else None
        self._validation_poses: list[tuple[torch.Tensor, torch.Tensor]] = []

    def predict_T_world_cam(self, images: torch.Tensor) -> torch.Tensor:
        """``(B, 3, H, W)`` images -> ``(B, 4, 4)`` camera-to-world poses in metres."""
        out = self.model(images)
        out.translation = out.translation * self.translation_std + self.translation_mean
        return out.T_world_cam()

    def _loss(self, batch: dict) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        out = self.model(batch["image"])
        target = batch["pose"]
        terms = self.criterion(out.translation, out.quaternion, target[:, :3], target[:, 3:7])
        total = terms.total
        logs = {"loss_t": terms.translation.detach(), "loss_q": terms.rotation.detach()}
        if self.reprojection is not None:
            if "depth" not in batch:
                raise ConfigError("loss=reprojection needs depth; this dataset has none")
            points, mask = sample_scene_points(batch["depth"], batch["intrinsics"], batch["T_world_cam"], self.config.reprojection_points)
            translation = out.translation * self.translation_std + self.translation_mean
            predicted = quaternion_translation_to_matrix(out.quaternion, translation)
            reprojection = self.reprojection(predicted, batch["T_world_cam"], points, batch["intrinsics"], mask)
            total = total + reprojection
            logs["loss_reprojection"] = reprojection.detach()
        return total, logs

    def training_step(self, batch: dict, batch_idx: int) -> torch.Tensor:
        loss, logs = self._loss(batch)
        self.log("train/loss", loss, prog_bar=True, batch_size=batch["image"].shape[0])
        for name, value in logs.items():
            self.log(f"train/{name}", value, batch_size=batch["image"].shape[0])
        if isinstance(self.criterion, LearnedPoseLoss):
            self.log("train/sx", self.criterion.sx.detach(), batch_size=1)
            self.log("train/sq", self.criterion.sq.detach(), batch_size=1)
        return loss

    def validation_step(self, batch: dict, batch_idx: int) -> None:
        loss, _ = self._loss(batch)
        predicted = self.predict_T_world_cam(batch["image"])
        errors = absolute_pose_errors(batch["T_world_cam"], predicted)
        b = batch["image"].shape[0]
        self.log("val/loss", loss, batch_size=b, sync_dist=True)
        self.log("val/t_err_m", errors.translation.mean().float(), batch_size=b, sync_dist=True, prog_bar=True)
        self.log("val/r_err_deg", errors.rotation_deg.mean().float(), batch_size=b, sync_dist=True, prog_bar=True)
        self._validation_poses.append((batch["T_world_cam"].detach().double().cpu(), predicted.detach().double().cpu()))

    def on_validation_epoch_end(self) -> None:
        """Send the trajectory and error figures of this validation to TensorBoard (rank 0)."""
        poses, self._validation_poses = self._validation_poses, []
        if poses and self.trainer.is_global_zero and not self.trainer.sanity_checking:
            log_validation_figures(self.loggers, self.global_step, torch.cat([p[0] for p in poses]), torch.cat([p[1] for p in poses]))

    def configure_optimizers(self):
        optimizer = make_optimizer(
            list(self.model.parameters()) + list(self.criterion.parameters()),
            self.config.optimizer, self.config.lr, self.config.weight_decay,
        )
        schedule = make_schedule(optimizer, self.config.lr_schedule, self.config.max_epochs)
        return optimizer if schedule is None else {"optimizer": optimizer, "lr_scheduler": schedule}


def log_validation_figures(loggers, step: int, T_world_cam_gt: torch.Tensor, T_world_cam_est: torch.Tensor) -> None:
    """Predicted versus ground-truth trajectory and the error distributions, to every TensorBoard logger."""
    writers = [logger.experiment for logger in loggers if isinstance(logger, TensorBoardLogger)]
    if not writers:
        return
    errors = absolute_pose_errors(T_world_cam_gt, T_world_cam_est)
    stamps = torch.arange(T_world_cam_gt.shape[0], dtype=torch.float64)
    figures = {
        "val/trajectory": plot_trajectory_comparison(Trajectory(T_world_cam_gt, stamps), Trajectory(T_world_cam_est, stamps), errors.translation),
        "val/errors": plot_error_distributions([ErrorSeries("posenet", errors.translation, errors.rotation_deg)]),
    }
    for writer in writers:
        for tag, figure in figures.items():
            log_figure(writer, tag, figure, step)


class AbsolutePoseDataModule(L.LightningDataModule):
    """Training and held-out splits of a dataset for PoseNet (mono images, quaternion targets)."""

    def __init__(self, config: PoseNetTrainConfig, load_depth: bool = False):
        super().__init__()
        self.config = config
        self.load_depth = load_depth
        self.index = load_index(config.dataset, config.data)
        height, width = config.image_size
        self.transform = cover_and_crop(self.index, height, width)
        policy = SplitPolicy.parse(config.split)
        self.held_out = held_out_split(self.index, policy, config.cache_dir)
        records = None if config.records is None else [r.strip() for r in config.records.split(",")]
        common = dict(records=records, transform=self.transform, cache=config.cache, cache_dir=config.cache_dir,
                      load_depth=load_depth, pose_format=PoseFormat.QUATERNION, split_policy=policy)
        self.train_set = AbsolutePoseDataset(self.index, Split.TRAIN,
                                             augment=ColorJitter(0.2, 0.2, 0.2) if config.augment else None, **common)
        self.pose_stats: PoseStats = self.train_set.pose_stats
        self.val_set = AbsolutePoseDataset(self.index, self.held_out, pose_stats=self.pose_stats, **common)

    def _loader(self, dataset, shuffle: bool) -> DataLoader:
        return DataLoader(dataset, batch_size=self.config.batch_size, shuffle=shuffle, num_workers=self.config.num_workers,
                          persistent_workers=self.config.num_workers > 0, drop_last=shuffle and len(dataset) > self.config.batch_size)

    def train_dataloader(self) -> DataLoader:
        return self._loader(self.train_set, shuffle=True)

    def val_dataloader(self) -> DataLoader:
        return self._loader(self.val_set, shuffle=False)


def train_posenet(config: PoseNetTrainConfig) -> Path:
    """Train PoseNet as configured; return the run folder (config, logs, checkpoints, exported model)."""
    L.seed_everything(config.seed, workers=True, verbose=False)
    data = AbsolutePoseDataModule(config, load_depth=config.loss is PoseLossKind.REPROJECTION)
    stats = {"mean": list(data.pose_stats.mean), "std": list(data.pose_stats.std), "count": data.pose_stats.count, "source": data.pose_stats.source}
    module = PoseNetModule(config_to_dict(config), stats)
    return fit_and_export(config, KIND, module, data, monitor="val/t_err_m")


def load_posenet(path: str | Path) -> PoseNetModule:
    """A trained :class:`PoseNetModule` from ``model.safetensors`` or a Lightning ``.ckpt``, in eval mode."""
    exported: ExportedModel = load_model_file(path, KIND)
    module = PoseNetModule(exported.metadata["config"], exported.metadata["pose_stats"], pretrained=False)
    try:
        module.load_state_dict(exported.state_dict, strict=True)
    except RuntimeError as error:
        raise CheckpointError(f"{path}: the weights do not fit the configured network ({error})") from error
    return module.eval()
