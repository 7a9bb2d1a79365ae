"""The on-disk formats by name, and reading a dataset folder into a checked :class:`DatasetIndex`.

:func:`load_index` runs the format's reader, checks the files every record points to
(:mod:`posekit.data.verify`) and then either raises one :class:`~posekit.errors.DatasetError` listing every
problem (default), or drops the bad frames and keeps the problems in ``index.problems`` (``skip_bad``).
Either way it happens when the dataset is built, not in the middle of an epoch.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from enum import Enum
from pathlib import Path

from posekit.data.apolloscape import read_apolloscape
from posekit.data.cambridge import read_cambridge
from posekit.data.folder import read_folder
from posekit.data.index import DatasetIndex
from posekit.data.kitti import read_kitti_odometry
from posekit.data.problems import ProblemLog
from posekit.data.records import FrameRecord
from posekit.data.sevenscenes import read_frame_folders, read_sevenscenes
from posekit.data.tum_rgbd import read_tum_rgbd
from posekit.data.verify import VerifyLevel, check_dataset_root, verify_frames
from posekit.errors import DatasetError

Reader = Callable[..., list[FrameRecord]]


class DatasetFormat(str, Enum):
    """The dataset layouts posekit reads; the values are the names used on the command line."""

    SEVEN_SCENES = "7scenes"
    FRAMES = "frames"
    CAMBRIDGE = "cambridge"
    APOLLOSCAPE = "apolloscape"
    KITTI = "kitti"
    TUM = "tum"
    FOLDER = "folder"

    @property
    def reader(self) -> Reader:
        """The reader ``(root, problems, **options) -> list[FrameRecord]``."""
        return _READERS[self]


_READERS: dict[DatasetFormat, Reader] = {
    DatasetFormat.SEVEN_SCENES: read_sevenscenes,
    DatasetFormat.FRAMES: read_frame_folders,
    DatasetFormat.CAMBRIDGE: read_cambridge,
    DatasetFormat.APOLLOSCAPE: read_apolloscape,
    DatasetFormat.KITTI: read_kitti_odometry,
    DatasetFormat.TUM: read_tum_rgbd,
    DatasetFormat.FOLDER: read_folder,
}


def parse_format(name: str | DatasetFormat) -> DatasetFormat:
    """The :class:`DatasetFormat` of a name, with an error listing the known names."""
    try:
        return DatasetFormat(name)
    except ValueError:
        known = ", ".join(f.value for f in DatasetFormat)
        raise DatasetError(f"unknown dataset format {name!r}; known formats: {known}") from None


def scan_dataset(
    dataset_format: str | DatasetFormat, root: str | Path, verify: VerifyLevel = VerifyLevel.HEADERS, **options
) -> tuple[list[FrameRecord], ProblemLog]:
    """Read a dataset folder and check its files: every frame record the reader produced, and every problem.

    Frames with problems are still in the list (their keys are in ``problems.bad_frame_keys``).

    Raises:
        DatasetError: the folder is missing or not of the format at all.
    """
    fmt = parse_format(dataset_format)
    root = Path(root).expanduser()
    if not root.is_dir():
        raise DatasetError(f"{root}: dataset folder not found" if not root.exists() else f"{root}: not a folder")
    problems = ProblemLog()
    frames = fmt.reader(root, problems, **options)
    _check_unique_keys(frames, problems)
    verify_frames(frames, verify, problems)
    check_dataset_root(root, frames, problems)
    return frames, problems


def load_index(
    dataset_format: str | DatasetFormat,
    root: str | Path,
    *,
    skip_bad: bool = False,
    verify: VerifyLevel = VerifyLevel.HEADERS,
    **options,
) -> DatasetIndex:
    """Read and check a dataset folder.

    Args:
        dataset_format: a :class:`DatasetFormat` or its name (``7scenes``, ``kitti``, ...).
        root: the dataset folder.
        skip_bad: drop frames with problems (and warn) instead of raising.
        verify: how deeply the files are checked (:class:`VerifyLevel`).
        **options: format-specific reader options (``cameras=`` for KITTI, ``max_diff=`` for TUM / folder).

    Raises:
        DatasetError: the folder is missing or not of the format; any problem when ``skip_bad`` is False;
            no usable frame left.

    Example:
        >>> index = load_index("frames", "shared/data/7scenes_redkitchen_seq01")  # doctest: +SKIP
        >>> len(index.frames), index.records  # doctest: +SKIP
        (534, ['frames'])
    """
    fmt = parse_format(dataset_format)
    root = Path(root).expanduser()
    frames, problems = scan_dataset(fmt, root, verify, **options)
    if problems and not skip_bad:
        raise problems.to_error(f"{fmt.value} dataset {root}")
    bad = problems.bad_frame_keys
    if bad:
        frames = [f for f in frames if f.key not in bad]
    if problems:
        warnings.warn(
            f"{fmt.value} dataset {root}: skipped {len(bad)} bad frame(s); {len(problems)} problem(s) found "
            "(see index.problems or run `posekit data check`)",
            stacklevel=2,
        )
    if not frames:
        raise DatasetError(f"{fmt.value} dataset {root}: no usable frame" + (" (all had problems)" if problems else ""))
    index = DatasetIndex(fmt.value, root, root.resolve().name, frames, list(problems), list(problems.notes))
    unsplit = sum(1 for f in frames if f.split is None)
    if index.has_official_split and unsplit:
        index.notes.append(f"{unsplit} frame(s) are in no official split file: they are only in split 'all'")
    return index


def _check_unique_keys(frames: list[FrameRecord], problems: ProblemLog) -> None:
    seen: dict[str, FrameRecord] = {}
    for frame in frames:
        if frame.key in seen:
            problems.add(frame.image_path, f"same frame key {frame.key} as {seen[frame.key].image_path}", None, frame.key)
        seen[frame.key] = frame
