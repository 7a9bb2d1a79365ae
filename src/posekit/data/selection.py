"""What both datasets share: choosing the frames of a split, record and camera filter, and loading them.

:class:`FrameSelection` resolves the split (official or generated, :mod:`posekit.data.splits`) on the
whole index first and applies the record / camera filters after, so a filter never changes which frames are
training frames. It also owns the :class:`~posekit.data.loader.FrameLoader` (transform + optional cache).

:class:`FrameRanges` selects frames by number or by position within a record (``0-799``, ``@0-34``,
``fragment-1:0-34``; :data:`FRAME_RANGE_GRAMMAR`), for ``--train-frames``, ``--val-frames`` and ``--test-frames``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from posekit.data.cache import TransformCache, default_cache_dir
from posekit.data.index import DatasetIndex
from posekit.data.loader import FrameLoader
from posekit.data.records import FrameRecord, Split
from posekit.data.splits import SplitAssignment, SplitPolicy, assign_splits, ordered_frame_ids
from posekit.data.transforms import FrameTransform
from posekit.errors import ConfigError, DatasetError


class FrameSelection:
    """The frames of one split of a dataset index, after the record / camera filters.

    Args:
        index: the dataset index.
        split: which split (``Split.ALL`` for every frame).
        records: record id(s) to keep, or ``None`` for all.
        cameras: camera id(s) to keep, or ``None`` for all.
        transform: the deterministic frame transform.
        cache: cache the transform output on disk.
        cache_dir: the user cache folder (splits and transform cache), default
            :func:`posekit.data.cache.default_cache_dir`.
        load_depth: load depth where frames have it.
        split_policy: how frames are split (:class:`SplitPolicy`: official else generated, or blocks).
    """

    def __init__(
        self,
        index: DatasetIndex,
        split: Split | str,
        records: Sequence[str] | str | None,
        cameras: Sequence[str] | str | None,
        transform: FrameTransform | None,
        cache: bool,
        cache_dir: str | Path | None,
        load_depth: bool,
        split_policy: SplitPolicy = SplitPolicy(),
    ):
        self.index = index
        self.split = Split(split)
        self.cache_dir = Path(cache_dir) if cache_dir is not None else default_cache_dir()
        self.assignment: SplitAssignment = assign_splits(index, split_policy, self.cache_dir)
        self.filtered = index.select(records, cameras)
        self.record_filter = None if records is None else ([records] if isinstance(records, str) else list(records))
        self.frames: list[FrameRecord] = self.frames_of(self.split)
        if not self.frames:
            raise DatasetError(f"{index.format} dataset {index.root}: no frame in split {self.split.value!r} after the filters")
        self.loader = FrameLoader(
            transform, TransformCache(self.cache_dir / "transforms") if cache else None, load_depth
        )

    def frames_of(self, split: Split) -> list[FrameRecord]:
        """Frames of ``split`` that pass the record / camera filters, in index order."""
        split = Split(split)
        if split is Split.ALL:
            return list(self.filtered.frames)
        keys = self.assignment.keys_in(split)
        return [f for f in self.filtered.frames if f.key in keys]

    @property
    def split_label(self) -> str:
        return f"{self.split.value} ({self.assignment.source.value})"


FRAME_RANGE_GRAMMAR = (
    "comma-separated ranges: A-B = frame numbers A..B (as in the file names) of every record; @A-B = the "
    "frames at positions A..B (0-based, in frame order) of every record; REC:A-B = positions A..B of record REC "
    "(e.g. fragment-1:0-34); a single frame: A, @A, REC:A; both ends included"
)


@dataclass(frozen=True)
class FrameRange:
    """Frames with a number (``FrameRecord.order``) in ``[first, last]``, or, ``by_position``, at 0-based
    positions ``[first, last]`` in their record's frame order; ``record``: only that record (always by position).

    Example:
        >>> FrameRange.parse("0-199")
        FrameRange(first=0, last=199, by_position=False, record=None)
        >>> str(FrameRange.parse("fragment-1:0-34"))
        'fragment-1:0-34'
    """

    first: int
    last: int
    by_position: bool = False
    record: str | None = None

    @classmethod
    def parse(cls, text: str) -> FrameRange:
        """One range of :data:`FRAME_RANGE_GRAMMAR`: ``A-B``, ``@A-B`` or ``REC:A-B`` (or a single frame)."""
        record, _, span = text.strip().rpartition(":")
        by_position = bool(record) or span.startswith("@")
        parts = span.removeprefix("@").split("-")
        try:
            values = [int(p) for p in parts]
        except ValueError:
            values = []
        if len(values) not in (1, 2) or min(values) < 0 or values[0] > values[-1] or (":" in text and not record):
            raise ConfigError(f"frame range: expected FIRST-LAST, @FIRST-LAST or RECORD:FIRST-LAST with "
                              f"0 <= FIRST <= LAST, got {text!r}")
        return cls(values[0], values[-1], by_position, record or None)

    def __str__(self) -> str:
        span = f"{self.first}-{self.last}" if self.last != self.first else f"{self.first}"
        if self.record is not None:
            return f"{self.record}:{span}"
        return f"@{span}" if self.by_position else span


@dataclass(frozen=True)
class FrameRanges:
    """A union of :class:`FrameRange` (see :data:`FRAME_RANGE_GRAMMAR`).

    Example:
        >>> str(FrameRanges.parse("seq-01:0-9, @100-109"))
        'seq-01:0-9,@100-109'
    """

    ranges: tuple[FrameRange, ...]

    @classmethod
    def parse(cls, text: str) -> FrameRanges:
        terms = [t for t in text.split(",") if t.strip()]
        if not terms:
            raise ConfigError(f"frame range: expected at least one range ({FRAME_RANGE_GRAMMAR}), got {text!r}")
        return cls(tuple(FrameRange.parse(t) for t in terms))

    def __str__(self) -> str:
        return ",".join(str(r) for r in self.ranges)

    def keys(self, index: DatasetIndex) -> set[str]:
        """Keys of the frames of ``index`` in any of the ranges.

        Raises:
            ConfigError: a range names a record the index does not have.
        """
        unknown = sorted({r.record for r in self.ranges if r.record is not None} - set(index.records))
        if unknown:
            raise ConfigError(f"frame range {self}: no record {unknown[0]!r} in {index.root} "
                              f"(records: {', '.join(index.records)})")
        position_ranges = [r for r in self.ranges if r.by_position]
        positions: dict[tuple[str, str], int] = {}
        if position_ranges:
            for record in index.records:
                positions.update({(record, fid): i for i, fid in enumerate(ordered_frame_ids(index, record))})

        def inside(frame: FrameRecord, r: FrameRange) -> bool:
            if r.record is not None and frame.record_id != r.record:
                return False
            value = positions[(frame.record_id, frame.frame_id)] if r.by_position else frame.order
            return r.first <= value <= r.last

        return {f.key for f in index.frames if any(inside(f, r) for r in self.ranges)}


def restrict_to_frames(index: DatasetIndex, frames: FrameRange | FrameRanges | str) -> DatasetIndex:
    """A copy of ``index`` keeping only the frames in ``frames`` (:data:`FRAME_RANGE_GRAMMAR`).

    Raises:
        ConfigError: a bad range, or no frame is left.
    """
    if isinstance(frames, str):
        frames = FrameRanges.parse(frames)
    elif isinstance(frames, FrameRange):
        frames = FrameRanges((frames,))
    keys = frames.keys(index)
    kept = [f for f in index.frames if f.key in keys]
    if not kept:
        raise ConfigError(f"frame range {frames}: no frame of {index.root} is in it")
    return dataclasses.replace(index, frames=kept)
