"""Which frames a relative-pose or depth run trains and tests on: the dataset options shared by both tasks.

The training and held-out frames come either from the split policy (the official split, else generated, or
interleaved blocks; :mod:`posekit.data.splits`) or from **frame ranges** over the frames' ``order`` within
their record: ``train_frames: 0-199`` and ``test_frames: 200-299`` (inclusive) train on the first 200 frames
of a sequence and test on the next 100, the usual protocol for a single captured sequence. A range replaces
the split on its side; a frame may never be on both sides (:class:`ConfigError`), so a held-out number can
never come from a training frame.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from dataclasses import dataclass

from torch.utils.data import DataLoader, Dataset

from posekit.data import DatasetIndex, FrameTransform, Split, SplitPolicy, load_index
from posekit.data.splits import assign_splits
from posekit.errors import ConfigError
from posekit.training.common import cover_and_crop, held_out_split
from posekit.training.config import AT_LEAST_ONE, FOLDER, NON_NEGATIVE
from posekit.training.options import option


@dataclass(frozen=True)
class FrameRange:
    """Frames whose ``order`` (frame number within the record) lies in ``[first, last]``, both included.

    Example:
        >>> FrameRange.parse("0-199")
        FrameRange(first=0, last=199)
    """

    first: int
    last: int

    @classmethod
    def parse(cls, text: str) -> FrameRange:
        """``"A-B"`` (inclusive) or a single frame ``"A"``."""
        parts = text.strip().split("-")
        try:
            values = [int(p) for p in parts]
        except ValueError:
            values = []
        if len(values) not in (1, 2) or min(values) < 0 or values[0] > values[-1]:
            raise ConfigError(f"frame range: expected 'FIRST-LAST' with 0 <= FIRST <= LAST, got {text!r}")
        return cls(values[0], values[-1])

    def __str__(self) -> str:
        return f"{self.first}-{self.last}"


def restrict_to_frames(index: DatasetIndex, frames: FrameRange) -> DatasetIndex:
    """A copy of ``index`` keeping only the frames whose ``order`` lies in ``frames``.

    Raises:
        ConfigError: no frame is left.
    """
    kept = [f for f in index.frames if frames.first <= f.order <= frames.last]
    if not kept:
        raise ConfigError(f"frame range {frames}: no frame of {index.root} has its order in it")
    return dataclasses.replace(index, frames=kept)


@dataclass
class FrameDataConfig:
    """Dataset options of every task: which data, which frames train and which are held out, at which size
    (a base of the task configurations)."""

    dataset: str = option("7scenes", "dataset format: 7scenes, frames, cambridge, apolloscape, kitti, tum, folder, ...")
    data: str = option("", "dataset folder")
    records: str | None = option(None, "comma-separated record ids to keep")
    split: str = option("auto", "split policy: auto (official, else generated) or blocks:N:K (every K-th block of N frames held out)")
    train_frames: str | None = option(None, "train on frames FIRST-LAST (order in the record) instead of the training split")
    test_frames: str | None = option(None, "hold out frames FIRST-LAST instead of the held-out split")
    image_size: tuple[int, int] = option((96, 128), "input size HxW (multiples of 32 for depth networks)")
    batch_size: int = option(8, "samples per batch", check=AT_LEAST_ONE)
    cache: bool = option(True, "cache decoded, resized images on disk")
    cache_dir: str | None = option(None, "cache folder (default: the user cache folder)", host_check=FOLDER)
    num_workers: int = option(0, "data loader worker processes", check=NON_NEGATIVE)

    def __post_init__(self) -> None:
        if len(self.image_size) != 2 or min(int(v) for v in self.image_size) <= 0:
            raise ConfigError(f"image_size: expected HxW, got {self.image_size}")
        for frames in (self.train_frames, self.test_frames):
            if frames is not None:
                FrameRange.parse(frames)


@dataclass
class FrameSide:
    """The frames of one side (training or held-out): an index, possibly restricted, and the split to take."""

    index: DatasetIndex
    split: Split
    description: str


@dataclass
class FrameSides:
    """Both sides of a run, the frame transform and the split policy."""

    train: FrameSide
    test: FrameSide
    transform: FrameTransform
    policy: SplitPolicy


def policy_text(policy: SplitPolicy) -> str:
    """A split policy as the ``split`` option writes it: ``auto`` or ``blocks:N:K``."""
    return f"blocks:{policy.block}:{policy.every}" if policy.uses_blocks else "auto"


def record_list(records: str | None) -> list[str] | None:
    """``"a,b"`` -> ``["a", "b"]``; ``None`` stays ``None``."""
    return None if records is None else [r.strip() for r in records.split(",") if r.strip()]


def _side(index: DatasetIndex, frames: str | None, split: Split, policy: SplitPolicy) -> FrameSide:
    if frames is not None:
        frame_range = FrameRange.parse(frames)
        return FrameSide(restrict_to_frames(index, frame_range), Split.ALL, f"frames {frame_range}")
    return FrameSide(index, split, f"{split.value} split ({policy_text(policy)})")


def _frame_keys(side: FrameSide, policy: SplitPolicy, cache_dir: str | None, records: list[str] | None) -> set[str]:
    index = side.index.select(records) if records is not None else side.index
    if side.split is Split.ALL:
        return {f.key for f in index.frames}
    return assign_splits(side.index, policy, cache_dir, write=False).keys_in(side.split) & {f.key for f in index.frames}


def resolve_frame_sides(config: FrameDataConfig, index: DatasetIndex | None = None, *,
                        check_overlap: bool = True) -> FrameSides:
    """The training and held-out frames of ``config`` (see the module docstring).

    Args:
        config: the dataset options.
        index: the dataset's index if already read.
        check_overlap: refuse a frame on both sides (only an evaluation of untrained methods may skip it).

    Raises:
        ConfigError: a bad range, or a frame that is both a training and a held-out frame.
    """
    index = index if index is not None else load_index(config.dataset, config.data)
    height, width = config.image_size
    transform = cover_and_crop(index, height, width)
    policy = SplitPolicy.parse(config.split)
    records = record_list(config.records)
    train = _side(index, config.train_frames, Split.TRAIN, policy)
    held_out = held_out_split(index, policy, config.cache_dir) if config.test_frames is None else Split.ALL
    test = _side(index, config.test_frames, held_out, policy)
    overlap = set()
    if check_overlap:
        overlap = _frame_keys(train, policy, config.cache_dir, records) & _frame_keys(test, policy, config.cache_dir, records)
    if overlap:
        example = sorted(overlap)[0]
        raise ConfigError(
            f"{len(overlap)} frame(s) are both training ({train.description}) and held-out ({test.description}) "
            f"frames, e.g. {example}: choose disjoint train_frames / test_frames"
        )
    return FrameSides(train, test, transform, policy)


def paired_batches(dataset: Dataset, resized: Dataset | None, batch_size: int) -> Iterator[tuple[dict, dict]]:
    """Batches of ``dataset`` with the matching batches of ``resized`` (the same samples at another size, e.g.
    the network's input size), in order; ``resized=None`` pairs each batch with itself."""
    loader = DataLoader(dataset, batch_size=batch_size, shuffle=False)
    if resized is None:
        return ((batch, batch) for batch in loader)
    return zip(loader, DataLoader(resized, batch_size=batch_size, shuffle=False), strict=True)
