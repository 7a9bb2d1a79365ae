"""Frame ranges (``0-799,900-950``) and loading one RGB-D frame record at a working size."""

from __future__ import annotations

import re
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from posekit.data.imaging import ImageMode, depth_to_tensor, image_to_tensor, read_depth, read_image
from posekit.data.records import FrameRecord
from posekit.errors import ConfigError, DatasetError

_RANGE = re.compile(r"^\s*(\d+)\s*(?:-\s*(\d+))?\s*$")


def parse_frame_ranges(text: str | None, option: str = "--frames") -> set[int] | None:
    """``"0-799,900"`` -> the set of frame numbers (inclusive ranges); ``None`` or ``"all"`` -> ``None`` (all)."""
    if text is None or text.strip().lower() == "all":
        return None
    numbers: set[int] = set()
    for part in text.split(","):
        match = _RANGE.match(part)
        if not match:
            raise ConfigError(f"{option}: expected ranges like 0-799,900-950, got {text!r}")
        first = int(match.group(1))
        last = int(match.group(2)) if match.group(2) is not None else first
        if last < first:
            raise ConfigError(f"{option}: empty range {part.strip()!r}")
        numbers.update(range(first, last + 1))
    return numbers


def select_frames(frames: list[FrameRecord], numbers: set[int] | None, option: str = "--frames") -> list[FrameRecord]:
    """The frames whose ``order`` (frame number) is in ``numbers`` (all when ``None``), in order."""
    chosen = [f for f in frames if numbers is None or f.order in numbers]
    if not chosen:
        raise DatasetError(f"{option}: no frame of the dataset is in the selection")
    return sorted(chosen, key=lambda f: (f.record_id, f.order))


def select_records(frames: list[FrameRecord], records: str | None) -> list[FrameRecord]:
    """The frames of the comma-separated ``records`` (all when ``None``); unknown names are an error."""
    if records is None:
        return frames
    wanted = [r.strip() for r in records.split(",") if r.strip()]
    known = sorted({f.record_id for f in frames})
    unknown = [r for r in wanted if r not in known]
    if unknown:
        raise ConfigError(f"--records: unknown {', '.join(unknown)}; the dataset has {', '.join(known)}")
    return [f for f in frames if f.record_id in wanted]


def load_colour(frame: FrameRecord, size: tuple[int, int] | None = None) -> torch.Tensor:
    """``(3, H, W)`` colour in [0, 1], area-resized to ``size = (H, W)`` when given."""
    image = image_to_tensor(read_image(frame.image_path, ImageMode.RGB))
    if size is not None and tuple(image.shape[-2:]) != tuple(size):
        image = F.interpolate(image[None], size=size, mode="area")[0]
    return image


def load_depth(frame: FrameRecord) -> torch.Tensor:
    """``(1, H, W)`` depth in metres at its stored size (0 = unknown)."""
    if frame.depth_path is None:
        raise DatasetError(f"{frame.key}: the frame has no depth image (a dense map needs RGB-D frames)")
    return depth_to_tensor(read_depth(frame.depth_path, frame.depth_scale))


@dataclass(frozen=True)
class WorkingSize:
    """The ``(height, width)`` at which keyframes are stored and queries are aligned."""

    height: int
    width: int

    @classmethod
    def parse(cls, text: str) -> WorkingSize:
        match = re.match(r"^\s*(\d+)\s*x\s*(\d+)\s*$", text)
        if not match or int(match.group(1)) < 16 or int(match.group(2)) < 16:
            raise ConfigError(f"--size: expected HxW like 240x320, got {text!r}")
        return cls(int(match.group(1)), int(match.group(2)))

    @property
    def hw(self) -> tuple[int, int]:
        return (self.height, self.width)
