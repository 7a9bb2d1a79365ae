"""Which frames a relative-pose or depth run trains and tests on: the dataset options shared by both tasks.

The training and held-out (test) frames come either from the split policy (the official split, else
generated, or interleaved blocks; :mod:`posekit.data.splits`) or from **frame ranges**
(:data:`~posekit.data.selection.FRAME_RANGE_GRAMMAR`: frame numbers ``0-199``, positions ``@0-199`` in every
record, or positions ``fragment-1:0-34`` in one record): ``train_frames: 0-199`` and ``test_frames: 200-299``
train on frames 0-199 of a sequence and test on 200-299, the usual protocol for a single captured sequence.
A range replaces the split on its side; a frame may never be on both sides (:class:`ConfigError`), so a
held-out number can never come from a training frame.

``val_frames`` sets a **validation** set apart for model selection (``--export best``) and the validation
curves: its frames are taken out of the training frames and may not be test frames, so test frames never
take part in selection. Without it the validation curves are computed on the test frames (reported, never
used to choose weights: ``--export best`` then refuses).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from dataclasses import dataclass

from torch.utils.data import DataLoader, Dataset

from posekit.data import DatasetIndex, FrameTransform, Split, SplitPolicy, load_index
from posekit.data.selection import FRAME_RANGE_GRAMMAR, FrameRange, FrameRanges, restrict_to_frames  # noqa: F401 (re-exported)
from posekit.data.splits import assign_splits
from posekit.errors import ConfigError
from posekit.training.common import cover_and_crop, held_out_split
from posekit.training.config import AT_LEAST_ONE, FOLDER, NON_NEGATIVE
from posekit.training.options import option


@dataclass
class FrameDataConfig:
    """Dataset options of every task: which data, which frames train and which are held out, at which size
    (a base of the task configurations)."""

    dataset: str = option("7scenes", "dataset format: 7scenes, frames, cambridge, apolloscape, kitti, tum, folder, ...")
    data: str = option("", "dataset folder")
    records: str | None = option(None, "comma-separated record ids to keep")
    split: str = option("auto", "split policy: auto (official, else generated train/test) or blocks:N:K (the middle "
                        "block of every K blocks of N frames is test)")
    train_frames: str | None = option(None, "train on these frames instead of the training split: " + FRAME_RANGE_GRAMMAR)
    val_frames: str | None = option(None, "validation frames for model selection, taken out of the training frames "
                                          "(same grammar; default: none, the curves are then on the test frames)")
    test_frames: str | None = option(None, "hold out (test) these frames instead of the held-out split (same grammar)")
    image_size: tuple[int, int] = option((96, 128), "input size HxW (multiples of 32 for depth networks)")
    batch_size: int = option(8, "samples per batch", check=AT_LEAST_ONE)
    cache: bool = option(True, "cache decoded, resized images on disk")
    cache_dir: str | None = option(None, "cache folder (default: the user cache folder)", host_check=FOLDER)
    num_workers: int = option(0, "data loader worker processes", check=NON_NEGATIVE)

    def __post_init__(self) -> None:
        if len(self.image_size) != 2 or min(int(v) for v in self.image_size) <= 0:
            raise ConfigError(f"image_size: expected HxW, got {self.image_size}")
        for frames in (self.train_frames, self.val_frames, self.test_frames):
            if frames is not None:
                FrameRanges.parse(frames)


@dataclass
class FrameSide:
    """The frames of one side (training or held-out): an index, possibly restricted, and the split to take."""

    index: DatasetIndex
    split: Split
    description: str


@dataclass
class FrameSides:
    """The sides of a run (training, test, optional validation), the frame transform and the split policy."""

    train: FrameSide
    test: FrameSide
    transform: FrameTransform
    policy: SplitPolicy
    val: FrameSide | None = None

    @property
    def validation(self) -> FrameSide:
        """The frames the validation curves are computed on: the validation set, else the test frames."""
        return self.val if self.val is not None else self.test


def policy_text(policy: SplitPolicy) -> str:
    """A split policy as the ``split`` option writes it: ``auto`` or ``blocks:N:K``."""
    return str(policy)


def record_list(records: str | None) -> list[str] | None:
    """``"a,b"`` -> ``["a", "b"]``; ``None`` stays ``None``."""
    return None if records is None else [r.strip() for r in records.split(",") if r.strip()]


def _side(index: DatasetIndex, frames: str | None, split: Split, policy: SplitPolicy) -> FrameSide:
    if frames is not None:
        frame_range = FrameRanges.parse(frames)
        return FrameSide(restrict_to_frames(index, frame_range), Split.ALL, f"frames {frame_range}")
    return FrameSide(index, split, f"{split.value} split ({policy_text(policy)})")


def _without(side: FrameSide, index: DatasetIndex, policy: SplitPolicy, cache_dir: str | None, removed: FrameSide) -> FrameSide:
    """``side`` as an explicit frame list (the split resolved on the whole ``index``) less ``removed``'s frames."""
    kept = _frame_keys(side, policy, cache_dir, None) - _frame_keys(removed, policy, cache_dir, None)
    frames = [f for f in index.frames if f.key in kept]
    if not frames:
        raise ConfigError(f"no training frame is left once the validation frames ({removed.description}) are taken out")
    return FrameSide(dataclasses.replace(index, frames=frames), Split.ALL, f"{side.description} less the val frames")


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
    val = None
    if config.val_frames is not None:
        val = _side(index, config.val_frames, Split.ALL, policy)
        val = FrameSide(val.index, val.split, val.description.replace("frames", "val frames", 1))
        if config.train_frames is None:
            train = _without(train, index, policy, config.cache_dir, val)
    checked = [(train, test, "held-out")] if check_overlap else []
    if val is not None:
        checked += [(val, test, "held-out"), (train, val, "validation")]
    for first, second, role in checked:
        overlap = _frame_keys(first, policy, config.cache_dir, records) & _frame_keys(second, policy, config.cache_dir, records)
        if overlap:
            example = sorted(overlap)[0]
            first_role = "validation" if first is val else "training"
            raise ConfigError(
                f"{len(overlap)} frame(s) are both {first_role} ({first.description}) and {role} ({second.description}) "
                f"frames, e.g. {example}: choose disjoint train_frames / val_frames / test_frames"
            )
    return FrameSides(train, test, transform, policy, val)


def paired_batches(dataset: Dataset, resized: Dataset | None, batch_size: int) -> Iterator[tuple[dict, dict]]:
    """Batches of ``dataset`` with the matching batches of ``resized`` (the same samples at another size, e.g.
    the network's input size), in order; ``resized=None`` pairs each batch with itself."""
    loader = DataLoader(dataset, batch_size=batch_size, shuffle=False)
    if resized is None:
        return ((batch, batch) for batch in loader)
    return zip(loader, DataLoader(resized, batch_size=batch_size, shuffle=False), strict=True)
