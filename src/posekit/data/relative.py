"""The relative-pose dataset: training pairs (or snippets) for photometric-warping and relative-pose nets.

Frames of one record and one camera, in frame order, are paired at a frame distance ``d`` (or any of a set
of distances): the **target** is frame ``i`` and the **source** frame ``i + d`` (``d`` may be negative). In
snippet mode (``snippet_length = N``) a sample is the ``N`` frames ``i, i + d, ..., i + (N - 1) d``; the
target is the middle one (index ``N // 2``) and the others are the sources, in order (SfMLearner's layout).

The optional minimum-motion filter keeps a pair only if the camera moves at least ``min_translation``
metres **or** turns at least ``min_rotation_deg`` degrees between source and target (in snippet mode every
source must pass), so that a network cannot win by predicting zero motion on static stretches.

Each item gives the images, the target depth with its validity mask where the data has depth, the
intrinsics scaled to the output size (the transform's resize/crop, pixel-centre convention) and
``T_src_tgt = inv(T_world_src) @ T_world_tgt`` (maps target-frame points into the source frame), which is
what :func:`posekit.geometry.warp_source_to_target` takes.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import torch
from torch.utils.data import Dataset

from posekit.data.formats import DatasetFormat, load_index
from posekit.data.index import DatasetIndex
from posekit.data.records import FrameRecord, Split
from posekit.data.selection import FrameSelection
from posekit.data.splits import SplitPolicy
from posekit.data.transforms import FrameTransform
from posekit.errors import DatasetError
from posekit.geometry import relative_pose, rotation_matrix_angle


@dataclass(frozen=True)
class PairSample:
    """One sample: the target frame and its source frame(s), with ``(S, 4, 4)`` float64 ``T_src_tgt``."""

    target: FrameRecord
    sources: tuple[FrameRecord, ...]
    T_src_tgt: torch.Tensor


class RelativePoseDataset(Dataset):
    """Source/target pairs or snippets with their relative poses.

    Args:
        index: a :class:`DatasetIndex` (see :meth:`from_path`).
        split: which split (default ``all``: self-supervised training may use every frame).
        distances: frame distance(s) ``d`` between target and source (non-zero; positive in snippet mode).
        snippet_length: ``None`` for pairs, or ``N >= 2`` frames per snippet.
        min_translation: minimum-motion filter, metres (0 = no threshold).
        min_rotation_deg: minimum-motion filter, degrees (0 = no threshold).
        records, cameras: record / camera filters.
        transform: deterministic resize / crop (cached with ``cache``).
        augment: random photometric augmentation, called once per sample on the stacked target and sources
            ``(1 + S, C, H, W)`` so that they stay photometrically consistent.
        cache, cache_dir: the transform cache and the user cache folder.
        load_depth: return the target depth and mask where the data has depth.
        split_policy: how frames are split (:class:`SplitPolicy`: official else generated, or blocks).

    Items (pairs): ``target_image``, ``source_image`` ``(C, H, W)``; ``T_src_tgt`` ``(4, 4)``; ``intrinsics``
    ``(4,)``; ``target_depth`` ``(1, H, W)`` metres and ``target_depth_valid`` ``(1, H, W)`` bool when the data
    has depth; ``index``, ``record``, ``camera``, ``target_frame``, ``source_frame``. Snippets:
    ``source_images`` ``(S, C, H, W)``, ``T_src_tgt`` ``(S, 4, 4)``, ``source_frames`` (comma-separated).
    """

    def __init__(
        self,
        index: DatasetIndex,
        split: Split | str = Split.ALL,
        *,
        distances: int | Sequence[int] = 1,
        snippet_length: int | None = None,
        min_translation: float = 0.0,
        min_rotation_deg: float = 0.0,
        records: Sequence[str] | str | None = None,
        cameras: Sequence[str] | str | None = None,
        transform: FrameTransform | None = None,
        augment: Callable[[torch.Tensor], torch.Tensor] | None = None,
        cache: bool = False,
        cache_dir: str | Path | None = None,
        load_depth: bool = True,
        split_policy: SplitPolicy = SplitPolicy(),
    ):
        self.index = index
        self.distances = (distances,) if isinstance(distances, int) else tuple(int(d) for d in distances)
        self.snippet_length = snippet_length
        self.min_translation = float(min_translation)
        self.min_rotation_deg = float(min_rotation_deg)
        self.augment = augment
        self._check_arguments()
        self.selection = FrameSelection(index, split, records, cameras, transform, cache, cache_dir, load_depth, split_policy)
        candidates = self._candidates(self.selection.frames)
        self.samples: list[PairSample] = [s for s in candidates if self._moves_enough(s.T_src_tgt)]
        self.filtered_out = len(candidates) - len(self.samples)
        if not self.samples:
            raise DatasetError(
                f"{index.format} dataset {index.root}: no pair at distances {self.distances} "
                f"({len(candidates)} before the minimum-motion filter)"
            )

    @classmethod
    def from_path(
        cls, dataset_format: DatasetFormat | str, root: str | Path, *, skip_bad: bool = False, reader_options: dict | None = None, **kwargs
    ) -> RelativePoseDataset:
        """Read ``root`` in ``dataset_format`` (:func:`posekit.data.formats.load_index`) and build the dataset."""
        return cls(load_index(dataset_format, root, skip_bad=skip_bad, **(reader_options or {})), **kwargs)

    def _check_arguments(self) -> None:
        if not self.distances or 0 in self.distances:
            raise DatasetError(f"distances must be non-zero frame offsets, got {self.distances}")
        if self.snippet_length is not None:
            if self.snippet_length < 2:
                raise DatasetError(f"snippet_length must be at least 2, got {self.snippet_length}")
            if min(self.distances) < 0:
                raise DatasetError(f"snippet distances (strides) must be positive, got {self.distances}")
        if self.min_translation < 0 or self.min_rotation_deg < 0:
            raise DatasetError("minimum-motion thresholds must be >= 0")

    def _candidates(self, frames: list[FrameRecord]) -> list[PairSample]:
        sequences: dict[tuple[str, str], list[FrameRecord]] = {}
        for frame in frames:
            sequences.setdefault((frame.record_id, frame.camera_id), []).append(frame)
        samples = []
        for sequence in sequences.values():
            sequence.sort(key=lambda f: f.order)
            for i in range(len(sequence)):
                for d in self.distances:
                    members = self._members(i, d, len(sequence))
                    if members is None:
                        continue
                    target, sources = members
                    samples.append(self._sample(sequence[target], [sequence[j] for j in sources]))
        return samples

    def _members(self, i: int, d: int, n: int) -> tuple[int, list[int]] | None:
        """(target position, source positions) of the sample starting at ``i`` with distance ``d``."""
        if self.snippet_length is None:
            return (i, [i + d]) if 0 <= i + d < n else None
        positions = [i + k * d for k in range(self.snippet_length)]
        if positions[-1] >= n:
            return None
        centre = self.snippet_length // 2
        return positions[centre], positions[:centre] + positions[centre + 1 :]

    @staticmethod
    def _sample(target: FrameRecord, sources: list[FrameRecord]) -> PairSample:
        T_world_src = torch.stack([s.T_world_cam for s in sources])
        T_src_tgt = relative_pose(T_world_src, target.T_world_cam.expand_as(T_world_src))
        return PairSample(target, tuple(sources), T_src_tgt)

    def _moves_enough(self, T_src_tgt: torch.Tensor) -> bool:
        if self.min_translation == 0 and self.min_rotation_deg == 0:
            return True
        translation = torch.linalg.vector_norm(T_src_tgt[:, :3, 3], dim=-1)
        rotation_deg = rotation_matrix_angle(T_src_tgt[:, :3, :3]) * (180.0 / math.pi)
        moved_t = translation >= self.min_translation if self.min_translation > 0 else torch.zeros_like(translation, dtype=torch.bool)
        moved_r = rotation_deg >= self.min_rotation_deg if self.min_rotation_deg > 0 else torch.zeros_like(rotation_deg, dtype=torch.bool)
        return bool((moved_t | moved_r).all())

    def __len__(self) -> int:
        return len(self.samples)

    def __getitem__(self, i: int) -> dict:
        sample = self.samples[i]
        loader = self.selection.loader
        target = loader.load(sample.target)
        sources = [loader.load(s).image for s in sample.sources]
        images = torch.stack([target.image, *sources])
        if self.augment is not None:
            images = self.augment(images)
        pairs = self.snippet_length is None
        item = {
            "target_image": images[0],
            "intrinsics": target.intrinsics.as_tensor(),
            "index": i,
            "record": sample.target.record_id,
            "camera": sample.target.camera_id,
            "target_frame": sample.target.frame_id,
        }
        T_src_tgt = sample.T_src_tgt.to(torch.float32)
        if pairs:
            item.update(source_image=images[1], T_src_tgt=T_src_tgt[0], source_frame=sample.sources[0].frame_id)
        else:
            item.update(
                source_images=images[1:], T_src_tgt=T_src_tgt, source_frames=",".join(s.frame_id for s in sample.sources)
            )
        if target.depth is not None:
            item["target_depth"] = target.depth
            item["target_depth_valid"] = target.depth > 0
        return item

    def find(self, target_frame: str, source_frame: str, record: str | None = None) -> int:
        """Index of the pair with these target and source frame ids (pairs mode).

        Raises:
            DatasetError: no such pair (not at one of the distances, or filtered out).
        """
        for i, sample in enumerate(self.samples):
            if (
                sample.target.frame_id == target_frame
                and len(sample.sources) == 1
                and sample.sources[0].frame_id == source_frame
                and (record is None or sample.target.record_id == record)
            ):
                return i
        raise DatasetError(f"no pair with target {target_frame!r} and source {source_frame!r} in this dataset")

    def summary(self) -> str:
        thresholds = [f">= {self.min_translation} m"] if self.min_translation else []
        thresholds += [f">= {self.min_rotation_deg} deg"] if self.min_rotation_deg else []
        motion = f"{' or '.join(thresholds)} ({self.filtered_out} dropped)" if thresholds else "off"
        mode = "pairs" if self.snippet_length is None else f"snippets of {self.snippet_length}"
        lines = [
            f"Dataset: {type(self).__name__} ({self.index.format})",
            f"    Path: {self.index.root}",
            f"    Scene: {self.index.scene}",
            f"    Split: {self.selection.split_label}",
            f"    Samples: {mode} at distances {list(self.distances)}",
            f"    Minimum motion: {motion}",
            f"    Length: {len(self)}",
            f"    Depth: {self.index.has_depth and self.selection.loader.load_depth}",
            f"    Records: {list(dict.fromkeys(s.target.record_id for s in self.samples))}",
        ]
        return "\n".join(lines)

    def __repr__(self) -> str:
        return self.summary()
