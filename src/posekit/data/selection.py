"""What both datasets share: choosing the frames of a split, record and camera filter, and loading them.

:class:`FrameSelection` resolves the split (official or generated, :mod:`posekit.data.splits`) on the
whole index first and applies the record / camera filters after, so a filter never changes which frames are
training frames. It also owns the :class:`~posekit.data.loader.FrameLoader` (transform + optional cache).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from posekit.data.cache import TransformCache, default_cache_dir
from posekit.data.index import DatasetIndex
from posekit.data.loader import FrameLoader
from posekit.data.records import FrameRecord, Split
from posekit.data.splits import SplitAssignment, SplitPolicy, assign_splits
from posekit.data.transforms import FrameTransform
from posekit.errors import DatasetError


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
