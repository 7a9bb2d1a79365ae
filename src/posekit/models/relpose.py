"""Relative pose networks: the pose ``T_src_tgt`` between a source and a target image (founding article 1).

- Late fusion: the same backbone on both images (siamese), pooled features concatenated ``[source, target]``, a
  few FC layers, 6 outputs.
- Early fusion: the two images stacked into a 6-channel input ``[source, target]`` through one backbone whose
  first convolution is the pretrained one duplicated and halved (``create_backbone(..., in_channels=6)``).

The 6 outputs are read as ``(t, omega)`` (translation, rotation vector) and turned into ``T_src_tgt`` by
:func:`posekit.geometry.translation_axis_angle_to_matrix`: ``R = exp(omega)``, ``t`` as it is. ``T_src_tgt`` maps
target-frame points into the source frame, which is what warping the source image into the target view needs.
The raw outputs are multiplied by ``output_scale`` (0.01, as SfMLearner and Monodepth2 do) so that training
starts near the identity. Options: separate rotation and translation heads (the article's suggestion to
decouple them), and features tapped from an earlier level of a frozen encoder (the article's "depth features
for pose" experiment, :func:`relative_pose_net_on_encoder`).

Heads (:class:`~posekit.models.relpose_heads.PoseHeadKind`): ``pooled`` (the feature maps averaged to vectors,
FC; the baseline), or, with late fusion, ``spatial`` (the two feature maps concatenated, convolutions, grid
pooling, FC) and ``correlation`` (a local correlation volume of the two maps, convolutions, FC); see
:mod:`posekit.models.relpose_heads`. The spatial heads read the level ``feature_level`` (stride 8 or 16 is
the useful range: level 2 or 3).
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from dataclasses import dataclass
from enum import Enum

import torch
from torch import nn

from posekit.errors import ShapeError
from posekit.geometry import translation_axis_angle_to_matrix
from posekit.models.backbones import Backbone
from posekit.errors import ConfigError
from posekit.models.backbones.base import global_average_pool
from posekit.models.layers import kaiming_init, mlp
from posekit.models.relpose_heads import PoseHeadKind, build_map_head


class FusionMode(str, Enum):
    """Where the two images meet: after the backbone (``LATE``) or at its input (``EARLY``)."""

    LATE = "late"
    EARLY = "early"


@dataclass
class RelativePoseOutput:
    """Predicted relative poses.

    Attributes:
        vector: ``(B, 6)`` ``(t, omega)`` of ``T_src_tgt`` (already multiplied by the output scale).
    """

    vector: torch.Tensor

    @property
    def translation(self) -> torch.Tensor:
        """``(B, 3)``."""
        return self.vector[:, :3]

    @property
    def axis_angle(self) -> torch.Tensor:
        """``(B, 3)`` rotation vectors."""
        return self.vector[:, 3:]

    def T_src_tgt(self) -> torch.Tensor:
        """``(B, 4, 4)`` transforms mapping target-frame points into the source frame."""
        return translation_axis_angle_to_matrix(self.vector)


class RelativePoseNet(nn.Module):
    """Relative pose from a (source, target) image pair.

    Args:
        backbone: the encoder; ``in_channels`` must be 3 for late fusion, 6 for early fusion.
        fusion: :class:`FusionMode`.
        hidden: widths of the FC layers between the pooled features and the outputs.
        separate_heads: one FC stack for the translation and another for the rotation.
        output_scale: factor on the raw outputs.
        feature_level: which backbone level to pool (-1: the last; an earlier one to tap a layer).
        freeze_backbone: freeze the backbone.
        dropout: dropout after each hidden FC layer (training only).
        head: :class:`PoseHeadKind`; ``spatial`` and ``correlation`` need late fusion.

    Example:
        >>> from posekit.models.backbones import create_backbone
        >>> net = RelativePoseNet(create_backbone("resnet18"), hidden=(32,)).eval()
        >>> net(torch.rand(2, 3, 64, 64), torch.rand(2, 3, 64, 64)).T_src_tgt().shape
        torch.Size([2, 4, 4])
    """

    def __init__(
        self,
        backbone: Backbone,
        fusion: FusionMode | str = FusionMode.LATE,
        hidden: Sequence[int] = (512, 512),
        separate_heads: bool = False,
        output_scale: float = 0.01,
        feature_level: int = -1,
        freeze_backbone: bool = False,
        dropout: float = 0.0,
        head: PoseHeadKind | str = PoseHeadKind.POOLED,
    ):
        super().__init__()
        self.fusion = FusionMode(fusion)
        self.head = PoseHeadKind(head)
        if self.head is not PoseHeadKind.POOLED and self.fusion is not FusionMode.LATE:
            raise ConfigError(f"head={self.head.value} compares two feature maps: it needs late fusion, got "
                              f"{self.fusion.value}")
        expected_channels = 6 if self.fusion is FusionMode.EARLY else 3
        if backbone.in_channels != expected_channels:
            raise ConfigError(
                f"{self.fusion.value} fusion needs a backbone with in_channels={expected_channels}, got "
                f"{backbone.in_channels} (create_backbone(..., in_channels={expected_channels}))"
            )
        self.backbone = backbone
        self.feature_level = backbone.level_index(feature_level)
        self.output_scale = float(output_scale)
        channels = backbone.out_channels[self.feature_level]
        in_features = 2 * channels if self.fusion is FusionMode.LATE else channels
        self.map_head = None
        if self.head is not PoseHeadKind.POOLED:
            self.translation_head = self.rotation_head = self.pose_head = None
            self.map_head = build_map_head(self.head, channels, hidden, dropout)
        elif separate_heads:
            self.translation_head = mlp(in_features, hidden, 3, dropout)
            self.rotation_head = mlp(in_features, hidden, 3, dropout)
            self.pose_head = None
        else:
            self.translation_head = self.rotation_head = None
            self.pose_head = mlp(in_features, hidden, 6, dropout)
        for head in (self.translation_head, self.rotation_head, self.pose_head):
            if head is not None:
                kaiming_init(head)
        if freeze_backbone:
            backbone.freeze()

    def feature_maps(self, images: torch.Tensor) -> torch.Tensor:
        """``(B, 3, H, W)`` images in [0, 1] -> ``(B, C, h, w)`` backbone features at ``feature_level`` (what a
        late-fusion head reads; :mod:`posekit.models.feature_cache` stores them)."""
        return self.backbone.features(images, num_levels=self.feature_level + 1)[self.feature_level]

    def encode(self, source: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        """Fused pooled features ``(B, F)`` of ``(B, 3, H, W)`` source and target images in [0, 1]."""
        if source.shape != target.shape:
            raise ShapeError(f"source {tuple(source.shape)} and target {tuple(target.shape)} images differ in shape")
        if self.fusion is FusionMode.EARLY:
            return self.backbone.forward_pooled(torch.cat((source, target), dim=1), level=self.feature_level)
        pooled = self.backbone.forward_pooled(torch.cat((source, target), dim=0), level=self.feature_level)
        pooled_source, pooled_target = pooled.chunk(2, dim=0)
        return torch.cat((pooled_source, pooled_target), dim=1)

    def _raw_from_pooled(self, features: torch.Tensor) -> torch.Tensor:
        if self.pose_head is not None:
            return self.pose_head(features)
        return torch.cat((self.translation_head(features), self.rotation_head(features)), dim=1)

    def forward_maps(self, source_map: torch.Tensor, target_map: torch.Tensor) -> RelativePoseOutput:
        """Late fusion from precomputed ``(B, C, h, w)`` feature maps (:meth:`feature_maps`) of the source and
        target images -> :class:`RelativePoseOutput`: trains the head on cached features of a frozen backbone."""
        if self.fusion is not FusionMode.LATE:
            raise ConfigError("forward_maps: early fusion has no per-image feature maps")
        if self.map_head is not None:
            raw = self.map_head(source_map, target_map)
        else:
            if source_map.shape != target_map.shape:
                raise ShapeError(f"source map {tuple(source_map.shape)} and target map {tuple(target_map.shape)} differ")
            raw = self._raw_from_pooled(torch.cat((global_average_pool(source_map), global_average_pool(target_map)), 1))
        return RelativePoseOutput(vector=self.output_scale * raw)

    def forward(self, source: torch.Tensor, target: torch.Tensor) -> RelativePoseOutput:
        """``(B, 3, H, W)`` source and target images -> :class:`RelativePoseOutput` of ``T_src_tgt``."""
        if self.map_head is None:
            return RelativePoseOutput(vector=self.output_scale * self._raw_from_pooled(self.encode(source, target)))
        if source.shape != target.shape:
            raise ShapeError(f"source {tuple(source.shape)} and target {tuple(target.shape)} images differ in shape")
        source_map, target_map = self.feature_maps(torch.cat((source, target), dim=0)).chunk(2, dim=0)
        return self.forward_maps(source_map, target_map)


def relative_pose_net_on_encoder(encoder: Backbone, feature_level: int, **options) -> RelativePoseNet:
    """Late-fusion pose heads on a frozen copy of a trained encoder (e.g. a depth network's), tapped at
    ``feature_level``: the article's "can depth features be used for pose?" experiment.

    The encoder is copied, so freezing it here leaves the network it came from unchanged. ``options`` go to
    :class:`RelativePoseNet` (``hidden``, ``separate_heads``, ``output_scale``, ``dropout``).
    """
    return RelativePoseNet(copy.deepcopy(encoder), FusionMode.LATE, feature_level=feature_level,
                           freeze_backbone=True, **options)
