"""Initial poses from a trained PoseNet (``posekit localize --init posenet:MODEL``).

The only import of ``posekit.training`` in the localiser (``house`` is moving PoseNet loading; keep it here).
Images are prepared as PoseNet's evaluation does: resized to cover the model's input size, then centre-cropped.
"""

from __future__ import annotations

from pathlib import Path

import torch
import torch.nn.functional as F

from posekit.data.records import FrameRecord
from posekit.mapping.frames import load_colour


def cover_and_centre_crop(image: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    """``(1, 3, H, W)`` -> ``(1, 3, h, w)``: area-resize so the image covers ``size = (h, w)``, crop the centre."""
    h, w = image.shape[-2:]
    scale = max(size[0] / h, size[1] / w)
    resized = F.interpolate(image, size=(max(size[0], round(h * scale)), max(size[1], round(w * scale))), mode="area")
    top = (resized.shape[-2] - size[0]) // 2
    left = (resized.shape[-1] - size[1]) // 2
    return resized[..., top : top + size[0], left : left + size[1]]


@torch.no_grad()
def predict_posenet_poses(model_path: Path, frames: list[FrameRecord]) -> torch.Tensor:
    """``(N, 4, 4)`` float64 PoseNet predictions ``T_world_cam`` for ``frames``' colour images."""
    from posekit.training.posenet import load_posenet

    module = load_posenet(model_path)
    size = tuple(module.config.image_size)
    images = [cover_and_centre_crop(load_colour(f)[None], size) for f in frames]
    return torch.cat([module.predict_T_world_cam(image) for image in images]).to(torch.float64)
