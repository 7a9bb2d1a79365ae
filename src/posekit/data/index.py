"""A read dataset folder: its frame records, the problems found and notes, with selection helpers.

:class:`DatasetIndex` is what :func:`posekit.data.formats.load_index` returns and what the datasets are
built on. Frames keep the reader's order: by record, camera, then frame order.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from posekit.data.problems import Problem
from posekit.data.records import FrameRecord
from posekit.errors import DatasetError


@dataclass
class DatasetIndex:
    """The usable frames of one dataset folder.

    Attributes:
        format: the format name (``7scenes``, ``kitti``, ...).
        root: the folder that was read.
        scene: the scene / road / sequence-set name (the folder name).
        frames: the frame records (frames with problems were dropped when ``skip_bad`` was set).
        problems: every problem found (dropped frames included).
        notes: facts worth reporting that are not errors (frames without ground truth left out, ...).
    """

    format: str
    root: Path
    scene: str
    frames: list[FrameRecord]
    problems: list[Problem] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def records(self) -> list[str]:
        """Record ids in first-appearance order."""
        return list(dict.fromkeys(f.record_id for f in self.frames))

    @property
    def cameras(self) -> list[str]:
        """Camera ids, sorted."""
        return sorted({f.camera_id for f in self.frames})

    @property
    def has_depth(self) -> bool:
        return any(f.has_depth for f in self.frames)

    @property
    def has_timestamps(self) -> bool:
        return bool(self.frames) and all(f.timestamp is not None for f in self.frames)

    @property
    def has_official_split(self) -> bool:
        return any(f.split is not None for f in self.frames)

    def record_counts(self) -> dict[str, int]:
        """Number of frames per record (all cameras)."""
        counts = Counter(f.record_id for f in self.frames)
        return {record: counts[record] for record in self.records}

    def select(self, records: Sequence[str] | str | None = None, cameras: Sequence[str] | str | None = None) -> DatasetIndex:
        """A copy restricted to some records and/or cameras.

        Raises:
            DatasetError: a requested record or camera does not exist.
        """
        frames = self.frames
        if records is not None:
            wanted = _as_list(records)
            _check_known("record", wanted, self.records, self.root)
            frames = [f for f in frames if f.record_id in wanted]
        if cameras is not None:
            wanted = _as_list(cameras)
            _check_known("camera", wanted, self.cameras, self.root)
            frames = [f for f in frames if f.camera_id in wanted]
        return replace(self, frames=frames)


def _as_list(value: Sequence[str] | str) -> list[str]:
    return [value] if isinstance(value, str) else list(value)


def _check_known(what: str, wanted: list[str], known: list[str], root: Path) -> None:
    unknown = [w for w in wanted if w not in known]
    if unknown:
        raise DatasetError(f"{root}: no {what} {', '.join(map(repr, unknown))}; the dataset has {known}")
