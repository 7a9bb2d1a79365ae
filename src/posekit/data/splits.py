"""Train / held-out splits: the official one where the format has it, else a deterministic generated one.

Official splits come from the readers (``FrameRecord.split``: 7-Scenes and Cambridge train/test,
Apolloscape train/val). For the other formats posekit generates a **train / val** split:

- with two or more records, by record: records are ranked by the SHA-256 of their name and the first
  ``round(val_fraction * n)`` (at least 1, at most n - 1) are validation, so a record is never split and
  near-duplicate neighbouring frames cannot leak across;
- with a single record, by time: the last ``val_fraction`` of its frames (by frame id order) are
  validation. All cameras of a frame go to the same side.

The generated split is written as JSON into the user cache folder (``<cache>/splits/``, never the current
directory) so that it can be inspected; it is a pure function of the frame list, the method and the
fraction, and is rewritten whenever those change.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from enum import Enum
from pathlib import Path

from posekit.data.cache import default_cache_dir
from posekit.data.index import DatasetIndex
from posekit.data.records import Split
from posekit.errors import DatasetError
from posekit.fileio import atomic_write_text

DEFAULT_VAL_FRACTION = 0.2


class SplitSource(str, Enum):
    OFFICIAL = "official"
    GENERATED_BY_RECORD = "generated-by-record"
    GENERATED_BY_TIME = "generated-by-time"


@dataclass(frozen=True)
class SplitAssignment:
    """The split of every frame of an index.

    Attributes:
        source: official or how it was generated.
        of_frame: frame key -> :class:`Split` (frames in no official split are absent).
        file: the JSON file a generated split was written to, or ``None``.
    """

    source: SplitSource
    of_frame: dict[str, Split]
    file: Path | None = None

    @property
    def names(self) -> list[Split]:
        """The splits present, train first."""
        present = set(self.of_frame.values())
        return [s for s in (Split.TRAIN, Split.VAL, Split.TEST) if s in present]

    def counts(self) -> dict[str, int]:
        """Number of frames per split (all cameras)."""
        return {s.value: sum(1 for v in self.of_frame.values() if v is s) for s in self.names}

    def keys_in(self, split: Split) -> set[str]:
        """Frame keys of ``split`` (``Split.ALL``: every frame of the assignment)."""
        split = Split(split)
        if split is Split.ALL:
            return set(self.of_frame)
        if split not in self.names:
            have = ", ".join(s.value for s in self.names)
            raise DatasetError(f"no {split.value!r} split in this dataset ({self.source.value} split has: {have})")
        return {key for key, value in self.of_frame.items() if value is split}


def assign_splits(
    index: DatasetIndex,
    val_fraction: float = DEFAULT_VAL_FRACTION,
    cache_dir: str | Path | None = None,
    write: bool = True,
) -> SplitAssignment:
    """The official split of ``index`` if it has one, else a generated one (see the module docstring).

    Args:
        index: the dataset index (all records: split before filtering records, so a filter cannot change it).
        val_fraction: share of records (or of frames, for one record) held out for validation.
        cache_dir: the user cache folder (default :func:`posekit.data.cache.default_cache_dir`).
        write: write the generated split to ``<cache_dir>/splits/``.
    """
    if index.has_official_split:
        return SplitAssignment(SplitSource.OFFICIAL, {f.key: f.split for f in index.frames if f.split is not None})
    if not 0.0 < val_fraction < 1.0:
        raise DatasetError(f"val_fraction must be in (0, 1), got {val_fraction}")
    records = index.records
    if len(records) >= 2:
        source = SplitSource.GENERATED_BY_RECORD
        ranked = sorted(records, key=lambda r: hashlib.sha256(r.encode("utf-8")).hexdigest())
        n_val = min(len(records) - 1, max(1, round(val_fraction * len(records))))
        val_records = set(ranked[:n_val])
        of_frame = {f.key: Split.VAL if f.record_id in val_records else Split.TRAIN for f in index.frames}
    else:
        source = SplitSource.GENERATED_BY_TIME
        frame_ids = sorted({(f.order, f.frame_id) for f in index.frames})
        ordered = list(dict.fromkeys(frame_id for _, frame_id in frame_ids))
        n_val = min(len(ordered) - 1, max(1, round(val_fraction * len(ordered))))
        val_ids = set(ordered[len(ordered) - n_val :]) if len(ordered) > 1 else set()
        of_frame = {f.key: Split.VAL if f.frame_id in val_ids else Split.TRAIN for f in index.frames}
    path = None
    if write:
        path = _split_file(index, cache_dir)
        _write_split(path, index, source, val_fraction, of_frame)
    return SplitAssignment(source, of_frame, path)


def _split_file(index: DatasetIndex, cache_dir: str | Path | None) -> Path:
    root = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    digest = hashlib.sha256(str(index.root.resolve()).encode("utf-8")).hexdigest()[:12]
    return root / "splits" / f"{index.format}-{index.scene}-{digest}.json"


def _write_split(path: Path, index: DatasetIndex, source: SplitSource, val_fraction: float, of_frame: dict[str, Split]) -> None:
    content = {
        "format": index.format,
        "root": str(index.root.resolve()),
        "method": source.value,
        "val_fraction": val_fraction,
        "train": sorted(k for k, v in of_frame.items() if v is Split.TRAIN),
        "val": sorted(k for k, v in of_frame.items() if v is Split.VAL),
    }
    text = json.dumps(content, indent=1) + "\n"
    if path.is_file() and path.read_text(encoding="utf-8") == text:
        return
    atomic_write_text(path, text)
