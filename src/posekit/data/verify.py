"""Checking the files behind frame records, shared by every format.

Readers parse the text files of a format; this pass checks what the records point to, at one of three
depths (:class:`VerifyLevel`): that the files exist, that their headers agree with the intrinsics (image size,
principal point inside the image, depth the size of the image), or that every image and depth file decodes.
Building a dataset uses ``HEADERS`` (fast: no pixel is decoded); ``posekit data check`` uses ``DECODE``.

:func:`check_dataset_root` adds what concerns the folder as a whole: a folder in which no frame was found
(no image matched a pose) is a problem, and so is the output of ``posekit synth`` that its writer did not
finish (see :mod:`posekit.data.synth.writers`: the marker files below).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from enum import Enum
from pathlib import Path

from posekit.data.imaging import image_size, read_depth, read_image
from posekit.data.problems import ProblemLog
from posekit.data.records import FrameRecord
from posekit.errors import FileFormatError


# Written by the synth writers: the first while they write, the second (frame counts, JSON) when done.
SYNTH_INCOMPLETE_MARKER = "posekit-synth.incomplete"
SYNTH_COMPLETE_MARKER = "posekit-synth.complete"


class VerifyLevel(str, Enum):
    """How deeply the files of a dataset are checked when it is built."""

    FILES = "files"
    HEADERS = "headers"
    DECODE = "decode"


def verify_frames(frames: Iterable[FrameRecord], level: VerifyLevel, problems: ProblemLog) -> None:
    """Record in ``problems`` every frame whose files are missing or disagree with its intrinsics."""
    level = VerifyLevel(level)
    for frame in frames:
        try:
            _verify_frame(frame, level)
        except FileFormatError as error:
            problems.add_error(error, error.path, frame.key)


def _verify_frame(frame: FrameRecord, level: VerifyLevel) -> None:
    for path in (frame.image_path, frame.depth_path):
        if path is not None and not path.is_file():
            raise FileFormatError(path, "file not found")
    if level is VerifyLevel.FILES:
        return
    k = frame.intrinsics
    width, height = image_size(frame.image_path)
    if (width, height) != (k.width, k.height):
        raise FileFormatError(
            frame.image_path, f"image size {width}x{height} contradicts the intrinsics ({k.width}x{k.height})"
        )
    if not (-0.5 <= k.cx <= width - 0.5 and -0.5 <= k.cy <= height - 0.5):
        raise FileFormatError(
            frame.image_path,
            f"principal point ({k.cx:g}, {k.cy:g}) lies outside the {width}x{height} image: the intrinsics "
            "do not belong to this image size",
        )
    if frame.depth_path is not None:
        depth_size = image_size(frame.depth_path)
        if depth_size != (width, height):
            raise FileFormatError(
                frame.depth_path, f"depth size {depth_size[0]}x{depth_size[1]} differs from the image ({width}x{height})"
            )
    if level is VerifyLevel.DECODE:
        read_image(frame.image_path)
        if frame.depth_path is not None:
            read_depth(frame.depth_path, frame.depth_scale)


def check_dataset_root(root: Path, frames: Sequence[FrameRecord], problems: ProblemLog) -> None:
    """Record the problems of the dataset folder as a whole: no frame at all, an interrupted synth output
    (its marker in ``root`` or, for one sequence of a multi-sequence output, in ``root.parent``), or fewer
    frames than a finished synth writer wrote."""
    root = Path(root)
    if not frames:
        problems.add(root, "no frame found: no image matched a pose (nothing to train or evaluate on)")
    for folder in (root, root.parent):
        if (folder / SYNTH_INCOMPLETE_MARKER).is_file():
            problems.add(
                folder / SYNTH_INCOMPLETE_MARKER,
                "interrupted `posekit synth` output: the writer did not finish (run it again)",
            )
            return
    marker = root / SYNTH_COMPLETE_MARKER
    if marker.is_file():
        try:
            written = sum(int(n) for n in json.loads(marker.read_text(encoding="utf-8"))["frames_per_sequence"])
        except (OSError, ValueError, KeyError, TypeError) as error:
            problems.add(marker, f"unreadable synth completion marker ({error})")
            return
        if len(frames) < written:
            problems.add(root, f"{len(frames)} frames found, but `posekit synth` wrote {written}: files are missing")


def first_image_size(paths: Iterable[Path]) -> tuple[int, int] | None:
    """``(width, height)`` of the first readable image among ``paths`` (header only), or ``None``.

    Unreadable images are not recorded here: the verification pass reports each of them against its frame.
    """
    for path in paths:
        try:
            return image_size(path)
        except FileFormatError:
            continue
    return None
