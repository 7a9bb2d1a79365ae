"""A temporal pose head (after VidLoc): per-frame pooled image features of a short clip through a 1-D
convolution over time, then a pose per frame. With ``kernel_size=1`` it is the per-frame head (PoseNet's FC
layers on the same features), so the two can be compared at the same budget.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from posekit.geometry.checks import check_shape


class TemporalPoseHead(nn.Module):
    """``(B, T, F)`` features of ``T`` consecutive frames -> translation ``(B, T, 3)`` (in the units of the
    training targets) and unit quaternion ``(B, T, 4)`` (w, x, y, z), w >= 0.

    Args:
        feature_dim: ``F``.
        hidden: width of the layers.
        kernel_size: temporal extent of the convolution (odd; 1 = each frame alone).
        dropout: dropout before the output layers (training only).
    """

    def __init__(self, feature_dim: int, hidden: int = 256, kernel_size: int = 5, dropout: float = 0.3):
        super().__init__()
        if kernel_size < 1 or kernel_size % 2 == 0:
            raise ValueError(f"kernel_size must be odd and >= 1, got {kernel_size}")
        self.feature_dim = feature_dim
        self.input = nn.Linear(feature_dim, hidden)
        self.temporal = nn.Conv1d(hidden, hidden, kernel_size, padding=kernel_size // 2, padding_mode="replicate")
        self.dropout = nn.Dropout(dropout)
        self.translation = nn.Linear(hidden, 3)
        self.rotation = nn.Linear(hidden, 4)

    def forward(self, features: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        check_shape("features", features, (None, None, self.feature_dim))
        x = F.relu(self.input(features))
        x = x + F.relu(self.temporal(x.transpose(1, 2))).transpose(1, 2)
        x = self.dropout(x)
        quaternion = F.normalize(self.rotation(x), dim=-1)
        quaternion = quaternion * torch.where(quaternion[..., :1] < 0, -1.0, 1.0)
        return self.translation(x), quaternion
