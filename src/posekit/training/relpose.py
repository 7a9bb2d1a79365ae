"""Training relative-pose networks (and, in monocular mode, a depth network with them) with PyTorch Lightning.

Three training modes (:class:`RelativePoseMode`):

1. ``supervised``: the ground-truth ``T_src_tgt`` of each pair, :class:`~posekit.losses.pose.RelativePoseLoss`
   on ``(t, omega)`` or on the rotation angle.
2. ``photometric``: self-supervised with the target's **sensor depth** (the founding article's experiment):
   the source image warped by the predicted pose must match the target, over the warp's validity mask
   (:func:`~posekit.losses.selfsup.known_depth_photometric_loss`). The pose is metric.
3. ``monocular``: a depth network and the pose network learned together from snippets of three frames
   ``(t - d, t, t + d)`` without any label (Monodepth2: multi-scale loss, per-pixel minimum over the two
   sources, auto-masking, edge-aware smoothness; :func:`~posekit.losses.selfsup.monocular_photometric_loss`).
   Pose and depth are known only up to scale: validation and evaluation align the scale (per pair for pose,
   per image by the median for depth) and say so.

Options: late or early fusion, ImageNet-initialised or random backbone, separate heads, output scale, and
"depth features for pose" (``depth_encoder``: the frozen encoder of a trained depth model, tapped at
``feature_level``; :func:`~posekit.models.relative_pose_net_on_encoder`), to compare with the same heads on frozen
ImageNet features (``freeze_backbone``).

The training pairs come from :class:`~posekit.data.RelativePoseDataset` on the training frames (split or frame
range, :mod:`posekit.training.frame_data`); validation uses the held-out frames' pairs at ``distance``.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from enum import Enum
from pathlib import Path

import lightning as L
import torch

from posekit.data import RelativePoseDataset
from posekit.errors import ConfigError
from posekit.losses.pose import Norm, RelativePoseLoss, RelativePoseLossKind
from posekit.losses.selfsup import PhotometricTerms, known_depth_photometric_loss, monocular_photometric_loss
from posekit.metrics.depth_metrics import compute_depth_metrics
from posekit.metrics.pair_errors import align_translation_scale, pair_errors
from posekit.models import (
    BackboneName,
    FusionMode,
    PoseHeadKind,
    RelativePoseNet,
    create_backbone,
    relative_pose_net_on_encoder,
)
from posekit.training.checkpoints import KIND_KEY, load_model_file
from posekit.training.common import SplitDataModule, color_jitter, configure_optimization
from posekit.training.config import (
    AT_LEAST_ONE, EXISTING_FILE, NON_NEGATIVE, POSITIVE, config_to_dict, each, in_range, resolve_config,
)
from posekit.training.depth import KIND as DEPTH_KIND
from posekit.training.depth import DepthNetOptions, build_depth_net, load_depth_model
from posekit.training.frame_data import FrameDataConfig, FrameSides, record_list, resolve_frame_sides
from posekit.training.options import TrainerOptions, check_run, create_task_backbone, option
from posekit.training.run_export import fit_and_export, load_trained_module

KIND = "relpose"
SNIPPET_LENGTH = 3


class RelativePoseMode(str, Enum):
    """How the pose network learns (see the module docstring)."""

    SUPERVISED = "supervised"
    PHOTOMETRIC = "photometric"
    MONOCULAR = "monocular"

    @property
    def metric(self) -> bool:
        """Whether the predicted translations are in metres (False: up to scale)."""
        return self is not RelativePoseMode.MONOCULAR


@dataclass
class RelativePoseTrainConfig(DepthNetOptions, TrainerOptions, FrameDataConfig):
    """Options of ``posekit train relpose`` (shared ones: :class:`TrainerOptions`, :class:`FrameDataConfig`, and
    :class:`~posekit.training.depth.DepthNetOptions` for the depth network of monocular mode)."""

    out: str = option("runs/relpose")
    mode: RelativePoseMode = option(RelativePoseMode.SUPERVISED, "supervised, photometric (sensor depth) or monocular (depth + pose)")
    distance: int = option(5, "frame distance between target and source (snippets: stride)")
    both_directions: bool = option(True, "pairs mode: train on (i, i+d) and (i+d, i)")
    min_translation: float = option(0.0, "minimum-motion filter of training pairs (m)", check=NON_NEGATIVE)
    min_rotation_deg: float = option(0.0, "minimum-motion filter of training pairs (deg)", check=NON_NEGATIVE)
    fusion: FusionMode = option(FusionMode.LATE, "late (siamese) or early (6-channel input) fusion")
    separate_heads: bool = option(False, "separate translation and rotation heads")
    head: PoseHeadKind = option(
        PoseHeadKind.POOLED, "pooled, spatial (feature maps) or correlation (cost volume); the last two need late fusion"
    )
    hidden: tuple[int, ...] = option((256, 256), "widths of the FC layers of the heads, comma-separated",
                                     check=each(AT_LEAST_ONE))
    output_scale: float = option(0.01, "factor on the raw 6 outputs", check=POSITIVE, stability=True)
    dropout: float = option(0.0, "dropout after each hidden FC layer", check=in_range(0, 1, high_open=True))
    freeze_backbone: bool = option(False, "train the heads only (frozen ImageNet features)")
    depth_encoder: str | None = option(None, "a trained depth model: use its frozen encoder (depth features for pose)",
                                       host_check=EXISTING_FILE)
    feature_level: int = option(-1, "backbone level to pool features from (-1: last)")
    pose_loss: RelativePoseLossKind = option(RelativePoseLossKind.VECTOR, "supervised: vector or angle rotation term")
    beta: float = option(1.0, "supervised: weight of the rotation term", check=NON_NEGATIVE, stability=True)
    loss_norm: Norm = option(Norm.L1, "supervised: l1 or l2")
    ssim_weight: float = option(0.85, "photometric: SSIM share (0.85 Monodepth2, 0 plain L1)", check=in_range(0, 1),
                                stability=True)
    edge_weight: float = option(0.0, "photometric: edge weighting of the error (0: off)", check=NON_NEGATIVE)
    photometric_levels: int = option(1, "photometric: pyramid levels the error is averaged over (1: full resolution)",
                                     check=AT_LEAST_ONE)
    automask: bool = option(True, "monocular: Monodepth2 auto-masking of static pixels")
    smoothness_weight: float = option(1e-3, "monocular: edge-aware smoothness weight", check=NON_NEGATIVE,
                                      stability=True)

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.distance == 0:
            raise ConfigError("distance: must be a non-zero frame offset")
        if self.mode is RelativePoseMode.MONOCULAR and any(int(v) % 32 for v in self.image_size):
            raise ConfigError(f"image_size: the depth network of monocular mode needs multiples of 32, got {self.image_size}")
        if self.depth_encoder is not None and self.fusion is not FusionMode.LATE:
            raise ConfigError("depth_encoder: depth features for pose use late fusion (a 3-channel encoder)")


def build_pose_net(config: RelativePoseTrainConfig, pretrained: bool) -> RelativePoseNet:
    """The pose network of ``config``; ``pretrained=False`` skips ImageNet weights (a checkpoint's follow)."""
    options = dict(hidden=tuple(config.hidden), separate_heads=config.separate_heads,
                   output_scale=config.output_scale, dropout=config.dropout, head=config.head)
    if config.depth_encoder is not None:
        if pretrained:
            depth_module = load_depth_model(config.depth_encoder)
            if depth_module.config.backbone is not config.backbone:
                raise ConfigError(f"depth_encoder {config.depth_encoder}: its encoder is {depth_module.config.backbone.value}, "
                                  f"the configuration says backbone={config.backbone.value}")
            encoder = depth_module.model.encoder
        else:
            encoder = create_backbone(config.backbone)
        return relative_pose_net_on_encoder(encoder, config.feature_level, **options)
    in_channels = 6 if config.fusion is FusionMode.EARLY else 3
    backbone = create_task_backbone(config, pretrained, in_channels=in_channels)
    return RelativePoseNet(backbone, config.fusion, feature_level=config.feature_level,
                           freeze_backbone=config.freeze_backbone, **options)


class RelativePoseModule(L.LightningModule):
    """The pose network (and in monocular mode the depth network), the loss of the mode, the optimiser.

    Args:
        config: the resolved :class:`RelativePoseTrainConfig` as a plain dict.
        pretrained: load initial weights (ImageNet, or the depth model's encoder); False when a checkpoint's
            weights follow.
    """

    def __init__(self, config: dict, pretrained: bool = True):
        super().__init__()
        self.save_hyperparameters({KIND_KEY: KIND, "config": config})
        self.config = resolve_config(RelativePoseTrainConfig, None, config)
        self.mode = self.config.mode
        self.pose_net = build_pose_net(self.config, pretrained)
        self.depth_net = build_depth_net(self.config, pretrained) if self.mode is RelativePoseMode.MONOCULAR else None
        self.pose_loss = RelativePoseLoss(self.config.pose_loss, self.config.beta, self.config.loss_norm)

    # -- prediction ------------------------------------------------------------------------------------

    def predict_T_src_tgt(self, source: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        """``(B, 3, H, W)`` source and target images -> ``(B, 4, 4)`` ``T_src_tgt`` (metres, except in
        monocular mode where the scale is arbitrary)."""
        return self.pose_net(source, target).T_src_tgt()

    def predict_depth(self, images: torch.Tensor) -> torch.Tensor:
        """``(B, 3, H, W)`` -> ``(B, 1, H, W)`` depth (monocular mode only; up to scale)."""
        if self.depth_net is None:
            raise ConfigError(f"this {self.mode.value} model predicts no depth")
        return self.depth_net(images).depth

    # -- losses ----------------------------------------------------------------------------------------

    def _loss(self, batch: dict) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        if self.mode is RelativePoseMode.SUPERVISED:
            out = self.pose_net(batch["source_image"], batch["target_image"])
            terms = self.pose_loss(out.vector, batch["T_src_tgt"])
            return terms.total, {"loss_t": terms.translation.detach(), "loss_r": terms.rotation.detach()}
        if self.mode is RelativePoseMode.PHOTOMETRIC:
            if "target_depth" not in batch:
                raise ConfigError("mode=photometric needs the target depth; this dataset has none")
            T_src_tgt = self.predict_T_src_tgt(batch["source_image"], batch["target_image"])
            terms = known_depth_photometric_loss(batch["source_image"], batch["target_image"], batch["target_depth"],
                                                 T_src_tgt, batch["intrinsics"], self.config.ssim_weight,
                                                 self.config.edge_weight, self.config.photometric_levels)
            return terms.total, self._term_logs(terms)
        return self._monocular_loss(batch)

    def _monocular_loss(self, batch: dict) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        target, sources = batch["target_image"], batch["source_images"]
        b, s = sources.shape[:2]
        T_src_tgt = self.predict_T_src_tgt(sources.flatten(0, 1), target[:, None].expand_as(sources).flatten(0, 1))
        disparities = self.depth_net(target).disparities
        terms = monocular_photometric_loss(
            target, sources, disparities, T_src_tgt.reshape(b, s, 4, 4), batch["intrinsics"],
            min_depth=self.config.min_depth, max_depth=self.config.max_depth, ssim_weight=self.config.ssim_weight,
            edge_weight=self.config.edge_weight, automask=self.config.automask,
            smoothness_weight=self.config.smoothness_weight,
        )
        return terms.total, self._term_logs(terms)

    @staticmethod
    def _term_logs(terms: PhotometricTerms) -> dict[str, torch.Tensor]:
        return {"photometric": terms.photometric, "smoothness": terms.smoothness,
                "valid_fraction": terms.valid_fraction, "automask_fraction": terms.automask_fraction}

    def training_step(self, batch: dict, batch_idx: int) -> torch.Tensor:
        loss, logs = self._loss(batch)
        size = batch["target_image"].shape[0]
        self.log("train/loss", loss, prog_bar=True, batch_size=size)
        for name, value in logs.items():
            self.log(f"train/{name}", value, batch_size=size)
        return loss

    def validation_step(self, batch: dict, batch_idx: int) -> None:
        """Held-out pairs at ``distance``: errors of the predicted pose (scale-aligned per pair in monocular
        mode) and, in monocular mode with sensor depth, the median-scaled AbsRel of the depth."""
        T_gt = batch["T_src_tgt"]
        T_est = self.predict_T_src_tgt(batch["source_image"], batch["target_image"])
        if not self.mode.metric:
            T_est, _ = align_translation_scale(T_est, T_gt)
        errors = pair_errors(T_gt, T_est)
        size = T_gt.shape[0]
        self.log("val/t_err_m", errors.translation.mean().float(), batch_size=size, sync_dist=True, prog_bar=True)
        self.log("val/r_err_deg", errors.rotation_deg.mean().float(), batch_size=size, sync_dist=True, prog_bar=True)
        if self.mode is RelativePoseMode.SUPERVISED:
            out = self.pose_net(batch["source_image"], batch["target_image"])
            self.log("val/loss", self.pose_loss(out.vector, T_gt).total, batch_size=size, sync_dist=True)
        if self.depth_net is not None and "target_depth" in batch:
            depth = self.predict_depth(batch["target_image"])
            valid = batch["target_depth"] > 0
            if bool(valid.flatten(1).any(1).all()):
                metrics = compute_depth_metrics(depth, batch["target_depth"], median_scaling=True)
                self.log("val/depth_abs_rel", metrics.abs_rel, batch_size=size, sync_dist=True)

    def configure_optimizers(self):
        parameters = list(self.pose_net.parameters())
        if self.depth_net is not None:
            parameters += list(self.depth_net.parameters())
        return configure_optimization(parameters, self.config)


class RelativePoseDataModule(SplitDataModule):
    """Training pairs (or snippets in monocular mode) and held-out pairs at ``distance``.

    Args:
        config: the run's :class:`RelativePoseTrainConfig`.
        sides: the training and held-out frames (default: resolved from ``config``).
    """

    def __init__(self, config: RelativePoseTrainConfig, sides: FrameSides | None = None):
        super().__init__(config)
        self.sides = sides if sides is not None else resolve_frame_sides(config)
        has_depth = self.sides.train.index.has_depth
        if config.mode is RelativePoseMode.PHOTOMETRIC and not has_depth:
            raise ConfigError(f"mode=photometric needs sensor depth; the {config.dataset} dataset {config.data} has none")
        monocular = config.mode is RelativePoseMode.MONOCULAR
        if monocular:
            distances: tuple[int, ...] = (abs(config.distance),)
        else:
            distances = (config.distance, -config.distance) if config.both_directions else (config.distance,)
        common = dict(records=record_list(config.records), transform=self.sides.transform, cache=config.cache,
                      cache_dir=config.cache_dir, split_policy=self.sides.policy)
        self.train_set = RelativePoseDataset(
            self.sides.train.index, self.sides.train.split, distances=distances,
            snippet_length=SNIPPET_LENGTH if monocular else None, min_translation=config.min_translation,
            min_rotation_deg=config.min_rotation_deg, augment=color_jitter(config.augment),
            load_depth=config.mode is RelativePoseMode.PHOTOMETRIC, **common,
        )
        self.val_set = RelativePoseDataset(self.sides.validation.index, self.sides.validation.split, distances=abs(config.distance),
                                           load_depth=has_depth, **common)


def _with_depth_encoder_backbone(config: RelativePoseTrainConfig) -> RelativePoseTrainConfig:
    """``config`` with ``backbone`` set to the depth model's encoder when ``depth_encoder`` is given."""
    if config.depth_encoder is None:
        return config
    if config.mode is RelativePoseMode.MONOCULAR:
        raise ConfigError("depth_encoder: depth features for pose are trained in supervised or photometric mode")
    metadata = load_model_file(config.depth_encoder, DEPTH_KIND).metadata
    return dataclasses.replace(config, backbone=BackboneName(metadata["config"]["backbone"]))


def train_relpose(config: RelativePoseTrainConfig) -> Path:
    """Train as configured; return the run folder (config.yaml, logs/, checkpoints/, model.safetensors).

    Raises:
        ConfigError: an option this machine cannot run, or a loss that became non-finite.
    """
    check_run(config)
    config = _with_depth_encoder_backbone(config)
    L.seed_everything(config.seed, workers=True, verbose=False)
    data = RelativePoseDataModule(config)
    module = RelativePoseModule(config_to_dict(config))
    return fit_and_export(config, KIND, module, data, monitor="val/t_err_m")


def load_relpose(path: str | Path) -> RelativePoseModule:
    """A trained :class:`RelativePoseModule` from ``model.safetensors`` or a Lightning ``.ckpt``, in eval mode.

    Raises:
        CheckpointError: the file is corrupt, of another kind, or does not fit its configuration.
    """
    return load_trained_module(path, KIND, lambda metadata: RelativePoseModule(metadata["config"], pretrained=False))
