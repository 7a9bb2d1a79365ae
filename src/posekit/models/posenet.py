"""PoseNet: absolute camera pose regression from one image (Kendall et al. 2015), as in the founding article.

``backbone -> global average pooling -> FC (2048) -> ReLU -> dropout -> fc_xyz (3) and fc_quat (4)``. The
quaternion is normalised to unit length at the output (``(w, x, y, z)``; the sign is left free, so ``q`` and
``-q`` both occur: the losses treat them as the same rotation). Dropout is an ``nn.Dropout`` module, active in
training only: MapNet's code left it on at test time, which makes evaluation random. The new layers get
Kaiming-He normal initialisation.

The pose is ``T_world_cam`` (camera-to-world): the translation is the camera centre in the world frame, in the
units of the training targets (normalised or metres, as the data module chooses).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from posekit.errors import ShapeError
from posekit.geometry import quaternion_translation_to_matrix
from posekit.models.backbones import Backbone
from posekit.errors import ConfigError
from posekit.models.layers import kaiming_init


@dataclass
class PoseOutput:
    """Predicted absolute poses.

    Attributes:
        translation: ``(B, 3)`` camera centre in the world frame.
        quaternion: ``(B, 4)`` unit quaternion ``(w, x, y, z)`` of the camera-to-world rotation (sign free).
    """

    translation: torch.Tensor
    quaternion: torch.Tensor

    def T_world_cam(self) -> torch.Tensor:
        """``(B, 4, 4)`` camera-to-world transforms."""
        return quaternion_translation_to_matrix(self.quaternion, self.translation)


@dataclass
class StereoPoseOutput:
    """Poses of the two cameras of a stereo pair."""

    left: PoseOutput
    right: PoseOutput


class PoseNet(nn.Module):
    """Absolute pose regressor.

    Args:
        backbone: a :class:`~posekit.models.backbones.Backbone` (its pooled last-level features are used).
        feature_dim: width of the FC layer before the heads (2048 in the article).
        dropout: dropout probability after the FC layer, in training only.
        freeze_backbone: freeze the backbone ("ImageNet features as they are").

    Example:
        >>> from posekit.models.backbones import create_backbone
        >>> net = PoseNet(create_backbone("resnet18"), feature_dim=64).eval()
        >>> out = net(torch.rand(2, 3, 64, 64))
        >>> out.translation.shape, out.quaternion.shape
        (torch.Size([2, 3]), torch.Size([2, 4]))
    """

    def __init__(self, backbone: Backbone, feature_dim: int = 2048, dropout: float = 0.5,
                 freeze_backbone: bool = False):
        super().__init__()
        if not 0.0 <= dropout < 1.0:
            raise ConfigError(f"dropout: expected a probability in [0, 1), got {dropout}")
        self.backbone = backbone
        self.fc = nn.Linear(backbone.num_features, feature_dim)
        self.relu = nn.ReLU()
        self.dropout = nn.Dropout(dropout)
        self.fc_xyz = nn.Linear(feature_dim, 3)
        self.fc_quat = nn.Linear(feature_dim, 4)
        for layer in (self.fc, self.fc_xyz, self.fc_quat):
            kaiming_init(layer)
        if freeze_backbone:
            backbone.freeze()

    def embed(self, images: torch.Tensor) -> torch.Tensor:
        """``(B, 3, H, W) -> (B, feature_dim)``: the features the heads read (after ReLU and dropout)."""
        return self._embed_pooled(self.backbone.forward_pooled(images))

    def _embed_pooled(self, pooled: torch.Tensor) -> torch.Tensor:
        return self.dropout(self.relu(self.fc(pooled)))

    def head(self, pooled: torch.Tensor) -> PoseOutput:
        """The layers after the backbone: ``(B, backbone.num_features)`` pooled backbone features ->
        :class:`PoseOutput` (what :meth:`forward` does after ``backbone.forward_pooled``; used to train on cached
        features of a frozen backbone)."""
        x = self._embed_pooled(pooled)
        quaternion = F.normalize(self.fc_quat(x), dim=-1, eps=1e-8)
        return PoseOutput(translation=self.fc_xyz(x), quaternion=quaternion)

    def forward(self, images: torch.Tensor) -> PoseOutput:
        """``(B, 3, H, W)`` images in [0, 1] -> :class:`PoseOutput`."""
        return self.head(self.backbone.forward_pooled(images))


class StereoPoseNet(PoseNet):
    """The article's stereo PoseNet: both images of a pair through the shared network, both poses predicted.

    Same parameters (and state dict) as :class:`PoseNet`; the two images go through the backbone as one batch.
    """

    def forward(self, left: torch.Tensor, right: torch.Tensor) -> StereoPoseOutput:  # type: ignore[override]
        """``(B, 3, H, W)`` left and right images -> :class:`StereoPoseOutput`."""
        if left.shape != right.shape:
            raise ShapeError(f"stereo images: left {tuple(left.shape)} and right {tuple(right.shape)} differ")
        both = super().forward(torch.cat((left, right), dim=0))
        b = left.shape[0]
        return StereoPoseOutput(
            left=PoseOutput(both.translation[:b], both.quaternion[:b]),
            right=PoseOutput(both.translation[b:], both.quaternion[b:]),
        )
