"""The absolute-pose dataset (PoseNet-style training): images and their camera poses, for every format.

This is the "Apolloscape" dataset class of the second founding article, generalised: mono or stereo, the
official split or a generated one, a record filter, ``record_counts()``, a printed summary, pose targets in
four formats, translation normalisation computed on the training split only, and the transform cache with
random augmentation after it.

Example:
    >>> train = AbsolutePoseDataset.from_path("7scenes", "data/chess", split="train",
    ...                                       transform=FrameTransform(resize=256, crop=(224, 224)),
    ...                                       cache=True, augment=ColorJitter(0.2, 0.2, 0.2))  # doctest: +SKIP
    >>> test = AbsolutePoseDataset.from_path("7scenes", "data/chess", split="test",
    ...                                      pose_stats=train.pose_stats)  # doctest: +SKIP
    >>> print(train)  # doctest: +SKIP
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path

import torch
from torch.utils.data import Dataset

from posekit.data.formats import DatasetFormat, load_index
from posekit.data.index import DatasetIndex
from posekit.data.poses import PoseFormat, PoseStats, encode_pose
from posekit.data.records import FrameRecord, Split
from posekit.data.selection import FrameSelection
from posekit.data.splits import SplitPolicy
from posekit.data.transforms import FrameTransform
from posekit.errors import DatasetError


class AbsolutePoseDataset(Dataset):
    """Images with their absolute camera poses.

    Args:
        index: a :class:`DatasetIndex` (see :meth:`from_path`).
        split: ``train``, ``val`` / ``test`` (whichever the dataset has) or ``all``.
        records: keep only these record ids (the article's ``record`` filter).
        cameras: camera ids to use; with ``stereo`` exactly two, in (left, right) order.
        stereo: return both images of a stereo pair (matched by frame id) and both poses.
        pose_format: the target encoding (:class:`PoseFormat`).
        normalize: normalise target translations with :class:`PoseStats`.
        pose_stats: statistics to use (e.g. saved with a model); default: computed from the **training
            split** of the same index and filters, whichever split this dataset is.
        transform: deterministic resize / crop (cached with ``cache``).
        augment: random photometric augmentation applied after the cache, ``(..., C, H, W) -> same``.
        cache: cache the transform output in the user cache folder.
        cache_dir: the user cache folder (default ``$POSEKIT_CACHE_DIR`` or the platform's).
        load_depth: also return depth where the frames have it.
        split_policy: how frames are split (:class:`SplitPolicy`: official else generated, or blocks).

    Items (mono): ``image`` ``(C, H, W)``, ``pose`` (:attr:`PoseFormat.shape`), ``T_world_cam`` ``(4, 4)``
    metres, ``intrinsics`` ``(4,)`` of the output image, ``depth`` ``(1, H, W)`` if loaded, ``index``,
    ``record``, ``camera``, ``frame``. Stereo: ``image`` ``(2, C, H, W)``, ``pose`` ``(2, ...)``,
    ``T_world_cam`` ``(2, 4, 4)``, ``intrinsics`` ``(2, 4)``, ``depth`` ``(2, 1, H, W)``, ``index``,
    ``record``, ``frame``. Tensors are float32.
    """

    def __init__(
        self,
        index: DatasetIndex,
        split: Split | str = Split.TRAIN,
        *,
        records: Sequence[str] | str | None = None,
        cameras: Sequence[str] | str | None = None,
        stereo: bool = False,
        pose_format: PoseFormat | str = PoseFormat.QUATERNION,
        normalize: bool = True,
        pose_stats: PoseStats | None = None,
        transform: FrameTransform | None = None,
        augment: Callable[[torch.Tensor], torch.Tensor] | None = None,
        cache: bool = False,
        cache_dir: str | Path | None = None,
        load_depth: bool = False,
        split_policy: SplitPolicy = SplitPolicy(),
    ):
        self.index = index
        self.stereo = bool(stereo)
        self.pose_format = PoseFormat(pose_format)
        self.augment = augment
        self.selection = FrameSelection(index, split, records, cameras, transform, cache, cache_dir, load_depth, split_policy)
        self.cameras = self._cameras(cameras)
        self.samples: list[tuple[FrameRecord, ...]] = self._samples(self.selection.frames)
        if not self.samples:
            raise DatasetError(f"{index.format} dataset {index.root}: no {'stereo pair' if stereo else 'frame'} left")
        self.normalize = bool(normalize)
        self.pose_stats: PoseStats | None = None
        if self.normalize:
            self.pose_stats = pose_stats if pose_stats is not None else self._training_stats()
        poses = torch.stack([torch.stack([f.T_world_cam for f in sample]) for sample in self.samples])
        self._T_world_cam = poses.to(torch.float32)
        self._targets = encode_pose(poses, self.pose_format, self.pose_stats).to(torch.float32)

    @classmethod
    def from_path(
        cls, dataset_format: DatasetFormat | str, root: str | Path, *, skip_bad: bool = False, reader_options: dict | None = None, **kwargs
    ) -> AbsolutePoseDataset:
        """Read ``root`` in ``dataset_format`` (:func:`posekit.data.formats.load_index`) and build the dataset."""
        return cls(load_index(dataset_format, root, skip_bad=skip_bad, **(reader_options or {})), **kwargs)

    # -- construction ----------------------------------------------------------------------------------

    def _cameras(self, cameras: Sequence[str] | str | None) -> list[str]:
        if cameras is not None:
            chosen = [cameras] if isinstance(cameras, str) else list(cameras)
        else:
            chosen = sorted({f.camera_id for f in self.selection.frames})
        if self.stereo and len(chosen) != 2:
            raise DatasetError(f"stereo needs exactly two cameras; the dataset has {chosen} (pass cameras=(left, right))")
        return chosen

    def _samples(self, frames: list[FrameRecord]) -> list[tuple[FrameRecord, ...]]:
        if not self.stereo:
            return [(f,) for f in frames]
        left, right = self.cameras
        by_key = {(f.record_id, f.camera_id, f.frame_id): f for f in frames}
        pairs = []
        for f in frames:
            if f.camera_id == left and (f.record_id, right, f.frame_id) in by_key:
                pairs.append((f, by_key[(f.record_id, right, f.frame_id)]))
        return pairs

    def _training_stats(self) -> PoseStats:
        train = self.selection.frames_of(Split.TRAIN)
        if self.stereo:
            train = [frame for sample in self._samples(train) for frame in sample]
        if not train:
            raise DatasetError(
                f"{self.index.format} dataset {self.index.root}: no training frame to compute the pose statistics "
                "from (pass pose_stats=, or normalize=False)"
            )
        source = f"{self.index.format}:{self.index.scene} train split ({self.selection.assignment.source.value})"
        if self.selection.record_filter is not None:
            source += f", records {self.selection.record_filter}"
        return PoseStats.from_translations(torch.stack([f.T_world_cam[:3, 3] for f in train]), source)

    # -- Dataset ---------------------------------------------------------------------------------------

    def __len__(self) -> int:
        return len(self.samples)

    def __getitem__(self, i: int) -> dict:
        sample = self.samples[i]
        loaded = [self.selection.loader.load(frame) for frame in sample]
        images = self._views([frame.image for frame in loaded])
        item = {
            "image": images if self.augment is None else self.augment(images),
            "pose": self._views(list(self._targets[i])),
            "T_world_cam": self._views(list(self._T_world_cam[i])),
            "intrinsics": self._views([frame.intrinsics.as_tensor() for frame in loaded]),
            "index": i,
            "record": sample[0].record_id,
            "frame": sample[0].frame_id,
        }
        if all(frame.depth is not None for frame in loaded):
            item["depth"] = self._views([frame.depth for frame in loaded])
        if not self.stereo:
            item["camera"] = sample[0].camera_id
        return item

    def _views(self, tensors: list[torch.Tensor]) -> torch.Tensor:
        """The one view of a mono sample, or the two views of a stereo sample stacked on a new dim 0."""
        return torch.stack(tensors) if self.stereo else tensors[0]

    # -- reporting -------------------------------------------------------------------------------------

    def record_counts(self) -> dict[str, int]:
        """Number of samples per record in this dataset."""
        counts = Counter(sample[0].record_id for sample in self.samples)
        return {record: counts[record] for record in dict.fromkeys(s[0].record_id for s in self.samples)}

    @property
    def records(self) -> list[str]:
        return list(self.record_counts())

    def summary(self) -> str:
        """A short description like the article's ``__repr__``."""
        stats = self.pose_stats
        if stats is None:
            normalisation = "off"
        else:
            normalisation = (
                f"translation mean {_fmt(stats.mean)} std {_fmt(stats.std)} m (from {stats.count} poses: {stats.source})"
            )
        record = "all" if self.selection.record_filter is None else ", ".join(self.selection.record_filter)
        total = len(self._samples(self.index.select(cameras=self.cameras).frames))  # every split and record
        lines = [
            f"Dataset: {type(self).__name__} ({self.index.format})",
            f"    Path: {self.index.root}",
            f"    Scene: {self.index.scene}",
            f"    Record: {record}",
            f"    Split: {self.selection.split_label}",
            f"    Normalisation: {normalisation}",
            f"    Pose format: {self.pose_format.value}",
            f"    Stereo: {self.stereo}",
            f"    Length: {len(self)} of {total}",
            f"    Cameras: {self.cameras}",
            f"    Records: {self.records}",
        ]
        return "\n".join(lines)

    def __repr__(self) -> str:
        return self.summary()


def _fmt(values: Sequence[float]) -> str:
    return "[" + ", ".join(f"{v:.3f}" for v in values) + "]"
