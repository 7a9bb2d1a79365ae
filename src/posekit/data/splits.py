"""Train / held-out splits: the official one where the format has it, else a deterministic generated one.

Official splits come from the readers (``FrameRecord.split``: 7-Scenes and Cambridge train/test,
Apolloscape train/val). For the other formats posekit generates a **train / test** split (the held-out set
is called ``test`` everywhere; ``val`` is only ever a validation set for model selection, chosen apart from
the test frames, e.g. with ``--val-frames``):

- with two or more records, by record: records are ranked by the SHA-256 of their name and the first
  ``round(test_fraction * n)`` (at least 1, at most n - 1) are test records, so a record is never split and
  near-duplicate neighbouring frames cannot leak across;
- with a single record, by time: the last ``test_fraction`` of its frames (by frame order) are test frames.
  All cameras of a frame go to the same side.

A :class:`SplitPolicy` with ``blocks`` (``blocks:N:K``) instead cuts every record, for every format, into
groups of ``K`` blocks of ``N`` consecutive frames and holds out the **middle** block of each group
(block ``K // 2``) as test, so that test frames lie *between* training frames even in a record shorter than
one group's length ``N * K``: ``blocks:10:5`` on a 50-frame record trains on positions 0-19 and 30-49 and
tests on 20-29 (a 100-frame record: test 20-29 and 70-79).

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

DEFAULT_TEST_FRACTION = 0.2


class SplitSource(str, Enum):
    OFFICIAL = "official"
    GENERATED_BY_RECORD = "generated-by-record"
    GENERATED_BY_TIME = "generated-by-time"
    GENERATED_BY_BLOCKS = "generated-by-blocks"


@dataclass(frozen=True)
class SplitPolicy:
    """How frames are split into training and held-out frames.

    Attributes:
        test_fraction: held-out (test) share of a generated split (formats without an official split).
        block: with ``every``: the block length in frames of the interleaved-blocks split.
        every: hold out one block in every ``every`` (the middle one, ``every // 2``, of each group) as test.

    Example:
        >>> SplitPolicy.parse("blocks:10:5")
        SplitPolicy(test_fraction=0.2, block=10, every=5)
        >>> str(SplitPolicy.parse("blocks:10:5"))
        'blocks:10:5'
    """

    test_fraction: float = DEFAULT_TEST_FRACTION
    block: int | None = None
    every: int | None = None

    def __post_init__(self) -> None:
        if not 0.0 < self.test_fraction < 1.0:
            raise DatasetError(f"test_fraction must be in (0, 1), got {self.test_fraction}")
        if (self.block is None) != (self.every is None):
            raise DatasetError("a blocks split needs both the block length and 'every'")
        if self.block is not None and (self.block < 1 or self.every < 2):
            raise DatasetError(f"blocks split: block >= 1 and every >= 2 needed, got block={self.block}, every={self.every}")

    @property
    def uses_blocks(self) -> bool:
        return self.block is not None

    def __str__(self) -> str:
        """The policy as the ``--split`` option writes it: ``auto`` or ``blocks:N:K``."""
        return f"blocks:{self.block}:{self.every}" if self.uses_blocks else "auto"

    def held_out_positions(self, count: int) -> set[int]:
        """Positions (0-based, in frame order) of a ``count``-frame record held out by a blocks policy: the middle
        block (``every // 2``) of every group of ``every`` blocks."""
        if not self.uses_blocks:
            raise DatasetError("held_out_positions: not a blocks split policy")
        return {i for i in range(count) if (i // self.block) % self.every == self.every // 2}

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
    test_fraction = policy.test_fraction
    records = index.records
    if policy.uses_blocks:
        source = SplitSource.GENERATED_BY_BLOCKS
        of_frame = {}
        for record in records:
            ordered = ordered_frame_ids(index, record)
            positions = policy.held_out_positions(len(ordered))
            held_out = {fid for i, fid in enumerate(ordered) if i in positions}
            of_frame.update({f.key: Split.TEST if f.frame_id in held_out else Split.TRAIN
                             for f in index.frames if f.record_id == record})
    elif index.has_official_split:
        return SplitAssignment(SplitSource.OFFICIAL, {f.key: f.split for f in index.frames if f.split is not None})
    elif len(records) >= 2:
        source = SplitSource.GENERATED_BY_RECORD
        ranked = sorted(records, key=lambda r: hashlib.sha256(r.encode("utf-8")).hexdigest())
        n_test = min(len(records) - 1, max(1, round(test_fraction * len(records))))
        test_records = set(ranked[:n_test])
        of_frame = {f.key: Split.TEST if f.record_id in test_records else Split.TRAIN for f in index.frames}
    else:
        source = SplitSource.GENERATED_BY_TIME
        ordered = ordered_frame_ids(index, None)
        n_test = min(len(ordered) - 1, max(1, round(test_fraction * len(ordered))))
        test_ids = set(ordered[len(ordered) - n_test :]) if len(ordered) > 1 else set()
        of_frame = {f.key: Split.TEST if f.frame_id in test_ids else Split.TRAIN for f in index.frames}
    path = None
    if write:
        path = _split_file(index, source, cache_dir)
        _write_split(path, index, source, policy, of_frame)
    return SplitAssignment(source, of_frame, path)


def ordered_frame_ids(index: DatasetIndex, record: str | None) -> list[str]:
    """The frame ids of ``record`` (``None``: of the whole index) in frame order, each once (all cameras of a
    frame share its id)."""
    pairs = sorted({(f.order, f.frame_id) for f in index.frames if record is None or f.record_id == record})
    return list(dict.fromkeys(frame_id for _, frame_id in pairs))


def _split_file(index: DatasetIndex, source: SplitSource, cache_dir: str | Path | None) -> Path:
    root = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    digest = hashlib.sha256(str(index.root.resolve()).encode("utf-8")).hexdigest()[:12]
    return root / "splits" / f"{index.format}-{index.scene}-{digest}-{source.value}.json"


def _write_split(path: Path, index: DatasetIndex, source: SplitSource, policy: SplitPolicy, of_frame: dict[str, Split]) -> None:
    content = {
        "format": index.format,
        "root": str(index.root.resolve()),
        "method": source.value,
        "test_fraction": policy.test_fraction,
        "block": policy.block,
        "every": policy.every,
        **{split.value: sorted(k for k, v in of_frame.items() if v is split) for split in (Split.TRAIN, Split.VAL, Split.TEST)},
    }
    text = json.dumps(content, indent=1) + "\n"
    if path.is_file() and path.read_bytes() == text.encode("utf-8"):
        return
    atomic_write_text(path, text)


@dataclass(frozen=True)
class FrameSpan:
    """Consecutive frames of one record on one side of a split.

    Attributes:
        first_position, last_position: 0-based positions of the first and last frame in the record's frame order.
        first_number, last_number: their frame numbers (``FrameRecord.order``: the number in the file name, or time).
    """

    first_position: int
    last_position: int
    first_number: int
    last_number: int

    @property
    def count(self) -> int:
        return self.last_position - self.first_position + 1


def split_spans(index: DatasetIndex, assignment: SplitAssignment) -> dict[str, dict[str, list[FrameSpan]]]:
    """Which frames of every record go to which split: record -> split name -> runs of consecutive frames.

    Frames outside every split (an official split that leaves some out) are listed under ``"none"``.
    """
    split_of_id: dict[tuple[str, str], str] = {}
    number_of_id: dict[tuple[str, str], int] = {}
    for frame in index.frames:
        split = assignment.of_frame.get(frame.key)
        split_of_id.setdefault((frame.record_id, frame.frame_id), "none" if split is None else split.value)
        number_of_id.setdefault((frame.record_id, frame.frame_id), frame.order)
    spans: dict[str, dict[str, list[FrameSpan]]] = {}
    for record in index.records:
        runs: dict[str, list[FrameSpan]] = {}
        previous = None
        for position, frame_id in enumerate(ordered_frame_ids(index, record)):
            split, number = split_of_id[(record, frame_id)], number_of_id[(record, frame_id)]
            if previous == split:
                last = runs[split][-1]
                runs[split][-1] = FrameSpan(last.first_position, position, last.first_number, number)
            else:
                runs.setdefault(split, []).append(FrameSpan(position, position, number, number))
            previous = split
        spans[record] = runs
    return spans
