"""Train / held-out splits: the official one where the format has it, else a deterministic generated one.

Official splits come from the readers (``FrameRecord.split``: 7-Scenes and Cambridge train/test,
Apolloscape train/val). For the other formats posekit generates a **train / val** split:

- with two or more records, by record: records are ranked by the SHA-256 of their name and the first
  ``round(val_fraction * n)`` (at least 1, at most n - 1) are validation, so a record is never split and
  near-duplicate neighbouring frames cannot leak across;
- with a single record, by time: the last ``val_fraction`` of its frames (by frame id order) are
  validation. All cameras of a frame go to the same side.

A :class:`SplitPolicy` with ``blocks`` instead holds out, in every record and for every format, each
``every``-th block of ``block`` consecutive frames as **test**, so that test frames lie *between* training
frames (the usual protocol for a single captured sequence, e.g. "every 5th block of 10 frames").

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
    GENERATED_BY_BLOCKS = "generated-by-blocks"


@dataclass(frozen=True)
class SplitPolicy:
    """How frames are split into training and held-out frames.

    Attributes:
        val_fraction: held-out share of a generated split (formats without an official split).
        block: with ``every``: the block length in frames of the interleaved-blocks split.
        every: hold out every ``every``-th block (the last of each group of ``every`` blocks) as test.

    Example:
        >>> SplitPolicy.parse("blocks:10:5")
        SplitPolicy(val_fraction=0.2, block=10, every=5)
    """

    val_fraction: float = DEFAULT_VAL_FRACTION
    block: int | None = None
    every: int | None = None

    def __post_init__(self) -> None:
        if not 0.0 < self.val_fraction < 1.0:
            raise DatasetError(f"val_fraction must be in (0, 1), got {self.val_fraction}")
        if (self.block is None) != (self.every is None):
            raise DatasetError("a blocks split needs both the block length and 'every'")
        if self.block is not None and (self.block < 1 or self.every < 2):
            raise DatasetError(f"blocks split: block >= 1 and every >= 2 needed, got block={self.block}, every={self.every}")

    @property
    def uses_blocks(self) -> bool:
        return self.block is not None

    @classmethod
    def parse(cls, text: str) -> SplitPolicy:
        """``auto`` (official, else generated) or ``blocks:N:K`` (every K-th block of N frames held out)."""
        if text == "auto":
            return cls()
        match = text.split(":")
        if len(match) == 3 and match[0] == "blocks" and match[1].isdigit() and match[2].isdigit():
            return cls(block=int(match[1]), every=int(match[2]))
        raise DatasetError(f"split: expected 'auto' or 'blocks:N:K', got {text!r}")


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
    policy: SplitPolicy = SplitPolicy(),
    cache_dir: str | Path | None = None,
    write: bool = True,
) -> SplitAssignment:
    """The split of ``index`` under ``policy`` (see the module docstring).

    Args:
        index: the dataset index (all records: split before filtering records, so a filter cannot change it).
        policy: official-else-generated (the default) or interleaved blocks.
        cache_dir: the user cache folder (default :func:`posekit.data.cache.default_cache_dir`).
        write: write a generated split to ``<cache_dir>/splits/``.
    """
    val_fraction = policy.val_fraction
    records = index.records
    if policy.uses_blocks:
        source = SplitSource.GENERATED_BY_BLOCKS
        of_frame = {}
        for record in records:
            frame_ids = sorted({(f.order, f.frame_id) for f in index.frames if f.record_id == record})
            ordered = list(dict.fromkeys(frame_id for _, frame_id in frame_ids))
            held_out = {fid for i, fid in enumerate(ordered) if (i // policy.block) % policy.every == policy.every - 1}
            of_frame.update({f.key: Split.TEST if f.frame_id in held_out else Split.TRAIN
                             for f in index.frames if f.record_id == record})
    elif index.has_official_split:
        return SplitAssignment(SplitSource.OFFICIAL, {f.key: f.split for f in index.frames if f.split is not None})
    elif len(records) >= 2:
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
        path = _split_file(index, source, cache_dir)
        _write_split(path, index, source, policy, of_frame)
    return SplitAssignment(source, of_frame, path)


def _split_file(index: DatasetIndex, source: SplitSource, cache_dir: str | Path | None) -> Path:
    root = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    digest = hashlib.sha256(str(index.root.resolve()).encode("utf-8")).hexdigest()[:12]
    return root / "splits" / f"{index.format}-{index.scene}-{digest}-{source.value}.json"


def _write_split(path: Path, index: DatasetIndex, source: SplitSource, policy: SplitPolicy, of_frame: dict[str, Split]) -> None:
    content = {
        "format": index.format,
        "root": str(index.root.resolve()),
        "method": source.value,
        "val_fraction": policy.val_fraction,
        "block": policy.block,
        "every": policy.every,
        **{split.value: sorted(k for k, v in of_frame.items() if v is split) for split in (Split.TRAIN, Split.VAL, Split.TEST)},
    }
    text = json.dumps(content, indent=1) + "\n"
    if path.is_file() and path.read_bytes() == text.encode("utf-8"):
        return
    atomic_write_text(path, text)
