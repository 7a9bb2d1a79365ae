"""Global image descriptors for keyframe retrieval: average-pooled ImageNet backbone features."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from posekit.models import create_backbone

DESCRIPTOR_BACKBONE = "efficientnet_lite0"
DESCRIPTOR_SIZE = (128, 160)


class GlobalDescriptor:
    """``(B, 3, H, W)`` images in [0, 1] -> ``(B, C)`` unit-norm descriptors (resized to ``size`` first)."""

    def __init__(self, backbone: str = DESCRIPTOR_BACKBONE, size: tuple[int, int] = DESCRIPTOR_SIZE):
        self.backbone_name = backbone
        self.size = tuple(size)
        self._encoder = create_backbone(backbone, pretrained=True, progress=False).eval()

    @torch.no_grad()
    def __call__(self, images: torch.Tensor, batch_size: int = 32) -> torch.Tensor:
        out = []
        for start in range(0, images.shape[0], batch_size):
            batch = F.interpolate(images[start:start + batch_size], size=self.size, mode="area")
            out.append(F.normalize(self._encoder.forward_pooled(batch), dim=1))
        return torch.cat(out)
