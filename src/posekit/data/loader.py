"""Loading one frame: decode, convert depth to metres, resize and crop, through the transform cache.

:class:`FrameLoader` is what both datasets use. With a :class:`~posekit.data.cache.TransformCache` the
deterministic output (uint8 image, float32 depth) is read from disk when its key (transform config + source
file identities) is present, and computed and stored otherwise; without one, every call decodes.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from posekit.data.cache import TransformCache
from posekit.data.imaging import read_depth, read_image
from posekit.data.records import FrameRecord
from posekit.data.transforms import FrameTransform
from posekit.errors import FileFormatError
from posekit.geometry import PinholeIntrinsics


@dataclass
class LoadedFrame:
    """A decoded and transformed frame.

    Attributes:
        image: ``(C, H, W)`` float32 in [0, 1].
        depth: ``(1, H, W)`` float32 metres (0 = unknown), or ``None``.
        intrinsics: intrinsics of ``image`` after the transform.
    """

    image: torch.Tensor
    depth: torch.Tensor | None
    intrinsics: PinholeIntrinsics


class FrameLoader:
    """Decode and transform frames, optionally through an on-disk cache.

    Args:
        transform: the deterministic transform (default: none, stored size).
        cache: a :class:`TransformCache`, or ``None`` to decode every time.
        load_depth: also load depth where the frame has it.
    """

    def __init__(self, transform: FrameTransform | None = None, cache: TransformCache | None = None, load_depth: bool = True):
        self.transform = transform or FrameTransform()
        self.cache = cache
        self.load_depth = load_depth

    def load(self, frame: FrameRecord) -> LoadedFrame:
        """Load ``frame``. Raises :class:`posekit.errors.FileFormatError` on an unreadable file."""
        with_depth = self.load_depth and frame.has_depth
        if self.cache is None:
            image, depth = self._compute(frame, with_depth)
        else:
            config = {
                "transform": self.transform.config(),
                "depth_scale": frame.depth_scale if with_depth else None,
            }
            try:
                key = self.cache.key(config, [frame.image_path, frame.depth_path if with_depth else None])
            except FileNotFoundError as error:
                raise FileFormatError(error.filename, "file not found (it was there when the dataset was built)") from None
            entry = self.cache.load(key)
            if entry is None:
                image, depth = self._compute(frame, with_depth)
                entry = {"image": image} if depth is None else {"image": image, "depth": depth}
                self.cache.store(key, entry)
            image, depth = entry["image"], entry.get("depth")
        return LoadedFrame(
            image.permute(2, 0, 1).to(torch.float32).div_(255.0),
            None if depth is None else depth[None],
            self.transform.apply_intrinsics(frame.intrinsics),
        )

    def _compute(self, frame: FrameRecord, with_depth: bool) -> tuple[torch.Tensor, torch.Tensor | None]:
        """``(H, W, C)`` uint8 image and ``(H, W)`` float32 depth (or ``None``) after the transform."""
        image = self.transform.apply_image(read_image(frame.image_path, self.transform.image_mode))
        depth = None
        if with_depth:
            depth = torch.from_numpy(self.transform.apply_depth(read_depth(frame.depth_path, frame.depth_scale)))
        return torch.from_numpy(np.ascontiguousarray(image)), depth

