"""Training and evaluating PoseNet (absolute pose regression) with PyTorch Lightning.

- :class:`PoseNetTrainConfig`: every option, loadable from YAML and settable by CLI flag.
- :class:`AbsolutePoseDataModule`: the training split and the held-out split of any supported dataset, with
  translation normalisation computed on the training split only.
- :class:`PoseNetModule`: the LightningModule (model, loss, optimiser); the normalisation statistics are
  buffers of the module, saved with it, so predictions are always un-normalised to metres.
- :func:`train_posenet` / :func:`evaluate_posenet`: what ``posekit train posenet`` and ``posekit eval posenet`` run.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from pathlib import Path

import lightning as L
import torch
from lightning.pytorch.loggers import TensorBoardLogger

from posekit.data import AbsolutePoseDataset, PoseFormat, PoseStats
from posekit.errors import ConfigError
from posekit.geometry import quaternion_translation_to_matrix
from posekit.losses.pose import GeometricReprojectionLoss, LearnedPoseLoss, Norm, PoseNetLoss, sample_scene_points
from posekit.metrics.pose_errors import absolute_pose_errors
from posekit.metrics.trajectory import Trajectory
from posekit.models import BatchNormMode, PoseNet, PoseOutput, StereoPoseNet
from posekit.training.checkpoints import KIND_KEY
from posekit.training.common import SplitDataModule, color_jitter, configure_optimization
from posekit.training.config import AT_LEAST_ONE, NON_NEGATIVE, config_to_dict, in_range, resolve_config
from posekit.training.frame_data import FrameDataConfig, FrameSides, record_list, resolve_frame_sides
from posekit.training.options import TrainerOptions, check_run, create_task_backbone, option
from posekit.training.posenet_features import use_cached_features
from posekit.training.rendered_views import add_rendered_views
from posekit.training.run_export import fit_and_export, load_trained_module
from posekit.viz import ErrorSeries, log_figure, plot_error_distributions, plot_trajectory_comparison

KIND = "posenet"


class PoseLossKind(str, Enum):
    """``fixed``: ``L_x + beta L_q``; ``learned``: homoscedastic weights (sx, sq); ``reprojection``: Kendall and
    Cipolla's geometric loss on scene points from depth (needs depth), added to the learned-weight loss."""

    FIXED = "fixed"
    LEARNED = "learned"
    REPROJECTION = "reprojection"


@dataclass
class PoseNetTrainConfig(TrainerOptions, FrameDataConfig):
    """Options of ``posekit train posenet`` (shared ones: :class:`TrainerOptions`, :class:`FrameDataConfig`)."""

    image_size: tuple[int, int] = option((128, 160))
    batch_size: int = option(16)
    weight_decay: float = option(5e-4)
    max_epochs: int = option(30)
    out: str = option("runs/posenet")
    freeze_backbone: bool = option(False, "train only the FC layers (ImageNet features as they are)")
    batchnorm: BatchNormMode = option(BatchNormMode.TRACK, "BatchNorm statistics: track, batch, frozen")
    feature_dim: int = option(2048, "width of the FC layer before the heads", check=AT_LEAST_ONE, stability=True)
    dropout: float = option(0.5, "dropout after the FC layer (training only)", check=in_range(0, 1, high_open=True))
    loss: PoseLossKind = option(PoseLossKind.LEARNED, "pose loss", stability=True)
    loss_norm: Norm = option(Norm.L1, "l1 or l2 distance in the loss")
    beta: float = option(512.0, "quaternion weight of the fixed loss", check=NON_NEGATIVE, stability=True)
    reprojection_points: int = option(256, "scene points per image for the reprojection loss", check=AT_LEAST_ONE)
    stereo: bool = option(False, "stereo PoseNet: the two images of each camera pair (same frame id) through the "
                                 "shared network, both poses in the loss (needs two cameras)")
    cameras: str | None = option(None, "comma-separated camera ids to use; with --stereo the two, left,right "
                                       "[default: every camera]")
    map: str | None = option(None, "map folder (posekit map build) to render extra training views from")
    synthetic_views: int = option(0, "views of --map rendered around the training poses and added to the training set",
                                  check=NON_NEGATIVE)
    view_translation_sigma: float = option(0.05, "rendered views: position perturbation per axis (m)",
                                           check=NON_NEGATIVE)
    view_rotation_sigma: float = option(3.0, "rendered views: orientation perturbation per axis (deg)",
                                        check=NON_NEGATIVE)
    cache_features: bool = option(False, "with --freeze-backbone: compute the backbone's pooled features of every "
                                         "training image and rendered view once (cached on disk) and train the FC "
                                         "layers on them (many epochs in minutes; no --augment, mono only)")

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.stereo and self.loss is PoseLossKind.REPROJECTION:
            raise ConfigError("stereo: the reprojection loss is for mono PoseNet; choose loss fixed or learned")
        if self.cache_features:
            refusals = {"--freeze-backbone is off (a backbone that trains changes its features)": not self.freeze_backbone,
                        "--augment is on (augmented images change at every epoch)": self.augment,
                        "--stereo is on (cached features are for mono PoseNet)": self.stereo,
                        "--loss reprojection needs depth per image": self.loss is PoseLossKind.REPROJECTION}
            for reason, refused in refusals.items():
                if refused:
                    raise ConfigError(f"cache_features: {reason}")


def build_posenet(config: PoseNetTrainConfig, pretrained: bool = True) -> PoseNet:
    """The network of a configuration; ``pretrained=False`` skips ImageNet weights (a checkpoint's follow)."""
    backbone = create_task_backbone(config, pretrained, batchnorm=config.batchnorm)
    network = StereoPoseNet if config.stereo else PoseNet
    return network(backbone, feature_dim=config.feature_dim, dropout=config.dropout, freeze_backbone=config.freeze_backbone)


def views(tensor: torch.Tensor, stereo: bool) -> torch.Tensor:
    """A batch entry with one row per view: ``(B, 2, ...)`` stereo entries become ``(2B, ...)`` (left and right of
    each sample in turn); mono entries are returned as they are."""
    return tensor.flatten(0, 1) if stereo else tensor


class PoseNetModule(L.LightningModule):
    """PoseNet (or the stereo PoseNet), its loss and optimiser. Inputs are batches of
    :class:`AbsolutePoseDataset`: mono, or stereo (``image`` ``(B, 2, 3, H, W)``, poses ``(B, 2, ...)``), whose
    two views count as two samples in the loss and the errors.

    Args:
        config: the resolved :class:`PoseNetTrainConfig` as a plain dict.
        pose_stats: the translation normalisation of the training split (``PoseStats`` fields).
        pretrained: load ImageNet weights into the backbone (False when a checkpoint's weights follow).
    """

    def __init__(self, config: dict, pose_stats: dict, pretrained: bool = True):
        super().__init__()
        self.save_hyperparameters({KIND_KEY: KIND, "config": config, "pose_stats": pose_stats})
        self.config = resolve_config(PoseNetTrainConfig, None, config)
        self.model = build_posenet(self.config, pretrained)
        self.register_buffer("translation_mean", torch.tensor(pose_stats["mean"], dtype=torch.float32))
        self.register_buffer("translation_std", torch.tensor(pose_stats["std"], dtype=torch.float32))
        if self.config.loss is PoseLossKind.FIXED:
            self.criterion = PoseNetLoss(beta=self.config.beta, norm=self.config.loss_norm)
        else:
            self.criterion = LearnedPoseLoss(norm=self.config.loss_norm)
        self.reprojection = GeometricReprojectionLoss() if self.config.loss is PoseLossKind.REPROJECTION else None
        self._validation_poses: list[tuple[torch.Tensor, torch.Tensor]] = []

    def _forward(self, images: torch.Tensor) -> PoseOutput:
        """Mono ``(B, 3, H, W)`` -> ``B`` outputs; stereo ``(B, 2, 3, H, W)`` -> the stereo network's left and right
        outputs as ``2B`` rows (:func:`views` order)."""
        if images.dim() == 5:
            if not isinstance(self.model, StereoPoseNet):
                raise ConfigError("stereo images given to a mono PoseNet (train it with --stereo)")
            out = self.model(images[:, 0], images[:, 1])
            return PoseOutput(torch.stack((out.left.translation, out.right.translation), 1).flatten(0, 1),
                              torch.stack((out.left.quaternion, out.right.quaternion), 1).flatten(0, 1))
        return PoseNet.forward(self.model, images)

    def _outputs(self, batch: dict) -> PoseOutput:
        """The network's outputs for a batch of images, or of cached pooled features (``features`` ``(B, C)``,
        :mod:`posekit.training.posenet_features`)."""
        if "features" in batch:
            return self.model.head(batch["features"])
        return self._forward(batch["image"])

    def _metric_T_world_cam(self, out: PoseOutput) -> torch.Tensor:
        out.translation = out.translation * self.translation_std + self.translation_mean
        return out.T_world_cam()

    def predict_T_world_cam(self, images: torch.Tensor) -> torch.Tensor:
        """``(B, 3, H, W)`` images -> ``(B, 4, 4)`` camera-to-world poses in metres; stereo ``(B, 2, 3, H, W)``
        -> ``(2B, 4, 4)`` (:func:`views` order)."""
        return self._metric_T_world_cam(self._forward(images))

    def _loss(self, batch: dict) -> tuple[torch.Tensor, dict[str, torch.Tensor], PoseOutput]:
        """The loss, its logged terms and the network's (normalised) outputs it was computed from."""
        out = self._outputs(batch)
        target = views(batch["pose"], _stereo(batch))
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
        return total, logs, out

    def training_step(self, batch: dict, batch_idx: int) -> torch.Tensor:
        loss, logs, _ = self._loss(batch)
        size = batch["pose"].shape[0]
        self.log("train/loss", loss, prog_bar=True, batch_size=size)
        for name, value in logs.items():
            self.log(f"train/{name}", value, batch_size=size)
        if isinstance(self.criterion, LearnedPoseLoss):
            self.log("train/sx", self.criterion.sx.detach(), batch_size=1)
            self.log("train/sq", self.criterion.sq.detach(), batch_size=1)
        return loss

    def validation_step(self, batch: dict, batch_idx: int) -> None:
        loss, _, out = self._loss(batch)
        predicted = self._metric_T_world_cam(out)
        T_world_cam = views(batch["T_world_cam"], _stereo(batch))
        errors = absolute_pose_errors(T_world_cam, predicted)
        b = predicted.shape[0]
        self.log("val/loss", loss, batch_size=b, sync_dist=True)
        self.log("val/t_err_m", errors.translation.mean().float(), batch_size=b, sync_dist=True, prog_bar=True)
        self.log("val/r_err_deg", errors.rotation_deg.mean().float(), batch_size=b, sync_dist=True, prog_bar=True)
        self._validation_poses.append((T_world_cam.detach().double().cpu(), predicted.detach().double().cpu()))

    def on_validation_epoch_end(self) -> None:
        """Send the trajectory and error figures of this validation to TensorBoard (rank 0)."""
        poses, self._validation_poses = self._validation_poses, []
        if poses and self.trainer.is_global_zero and not self.trainer.sanity_checking:
            log_validation_figures(self.loggers, self.global_step, torch.cat([p[0] for p in poses]), torch.cat([p[1] for p in poses]))

    def configure_optimizers(self):
        return configure_optimization(list(self.model.parameters()) + list(self.criterion.parameters()), self.config)


def _stereo(batch: dict) -> bool:
    """Whether a batch holds stereo images ``(B, 2, 3, H, W)``."""
    return "image" in batch and batch["image"].dim() == 5


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


class AbsolutePoseDataModule(SplitDataModule):
    """Training and held-out frames of a dataset for PoseNet (mono images, quaternion targets); translations are
    normalised by the statistics of the training frames.

    Args:
        config: the run's :class:`PoseNetTrainConfig`.
        load_depth: load sensor depth (the reprojection loss needs it).
        sides: the training and held-out frames (default: resolved from ``config``, overlap refused).
    """

    def __init__(self, config: PoseNetTrainConfig, load_depth: bool = False, sides: FrameSides | None = None):
        super().__init__(config)
        self.load_depth = load_depth
        self.sides = sides if sides is not None else resolve_frame_sides(config)
        self.index = self.sides.train.index
        self.transform = self.sides.transform
        self.held_out = self.sides.test.split
        common = dict(records=record_list(config.records), cameras=record_list(config.cameras), stereo=config.stereo,
                      transform=self.transform, cache=config.cache,
                      cache_dir=config.cache_dir, load_depth=load_depth, pose_format=PoseFormat.QUATERNION,
                      split_policy=self.sides.policy)
        self.train_set = AbsolutePoseDataset(self.sides.train.index, self.sides.train.split,
                                             augment=color_jitter(config.augment), **common)
        self.pose_stats: PoseStats = self.train_set.pose_stats
        self.val_set = AbsolutePoseDataset(self.sides.validation.index, self.sides.validation.split, pose_stats=self.pose_stats,
                                           **common)


def train_posenet(config: PoseNetTrainConfig) -> Path:
    """Train PoseNet as configured; return the run folder (config, logs, checkpoints, exported model).

    Raises:
        ConfigError: an option this machine cannot run (:func:`~posekit.training.options.check_run`), or a loss
            that became non-finite (training stops, the last good checkpoint stays).
    """
    check_run(config)
    L.seed_everything(config.seed, workers=True, verbose=False)
    data = AbsolutePoseDataModule(config, load_depth=config.loss is PoseLossKind.REPROJECTION)
    add_rendered_views(data, config)
    stats = {"mean": list(data.pose_stats.mean), "std": list(data.pose_stats.std), "count": data.pose_stats.count, "source": data.pose_stats.source}
    module = PoseNetModule(config_to_dict(config), stats)
    if config.cache_features:
        use_cached_features(data, module.model.backbone, config.cache_dir)
    return fit_and_export(config, KIND, module, data, monitor="val/t_err_m")


def load_posenet(path: str | Path) -> PoseNetModule:
    """A trained :class:`PoseNetModule` from ``model.safetensors`` or a Lightning ``.ckpt``, in eval mode.

    Raises:
        CheckpointError: the file is corrupt, of another kind, or does not fit its configuration.
    """
    return load_trained_module(path, KIND, lambda metadata: PoseNetModule(metadata["config"], metadata["pose_stats"],
                                                                            pretrained=False))
