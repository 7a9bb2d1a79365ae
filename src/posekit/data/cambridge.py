"""Cambridge Landmarks (PoseNet, Kendall et al. 2015), one scene folder::

    KingsCollege/
      dataset_train.txt        3 header lines, then "seq1/frame00001.png X Y Z W P Q R"
      dataset_test.txt
      reconstruction.nvm       the VisualSFM model (per-image focal lengths)
      seq1/frame00001.png ...

**Pose convention (a documented choice, tested):** ``X Y Z`` is the camera centre in the world frame and
``W P Q R`` a w-first unit quaternion that, as in the NVM reconstruction the file was exported from, is the
**world-to-camera** rotation ``R_cam_world``. So ``T_world_cam = [R(q)^T | (X, Y, Z)]``: a world point X maps
into the camera as ``R(q) (X - C)``. This is how the DSAC* / ACE setup scripts convert the files.

**Intrinsics:** an ``intrinsics.yaml`` in the scene folder wins; otherwise the focal length of each image
comes from ``reconstruction.nvm`` (matched by path without extension: the NVM lists ``.jpg``, the text files
``.png``), scaled from the 1920-pixel-wide images the model was built on to the stored width, with the
principal point at the image centre. An image missing from the reconstruction gets the median focal length
(and a note). Records are the ``seqN`` folders; the two text files are the official train / test split.

A text file whose 3 header lines are missing (it starts with pose lines) is read from its first line, with
a note; focal lengths that are not positive finite numbers are problems naming ``reconstruction.nvm`` and
the line.
"""

from __future__ import annotations

import math
import statistics
from pathlib import Path

import torch

from posekit.data.calibration import INTRINSICS_YAML, intrinsics_for_file, read_intrinsics_yaml
from posekit.data.problems import ProblemLog
from posekit.data.records import SINGLE_CAMERA, FrameRecord, Split
from posekit.data.verify import first_image_size
from posekit.errors import DatasetError, FileFormatError, PosekitError
from posekit.fileio import is_number, parse_number, split_fields
from posekit.geometry import PinholeIntrinsics, make_pose, quaternion_to_matrix

SPLIT_FILES = {"dataset_train.txt": Split.TRAIN, "dataset_test.txt": Split.TEST}
HEADER_LINES = 3
NVM_FILE = "reconstruction.nvm"
NVM_IMAGE_WIDTH = 1920  # width of the images the Cambridge NVM models were reconstructed from
QUATERNION_NORM_TOLERANCE = 1e-2


def read_cambridge(root: Path, problems: ProblemLog) -> list[FrameRecord]:
    """Frame records of a Cambridge Landmarks scene folder (see the module docstring)."""
    present = [name for name in SPLIT_FILES if (root / name).is_file()]
    if not present:
        raise DatasetError(f"{root}: no {' or '.join(SPLIT_FILES)}: not a Cambridge Landmarks scene folder")
    entries: list[tuple[str, torch.Tensor, Split, str]] = []  # (image name, T_world_cam, split, source)
    for name in present:
        entries += _read_split_file(root / name, SPLIT_FILES[name], problems)
    if not entries:
        return []
    focal_for = _focal_lengths(root, [e[0] for e in entries], problems)
    if focal_for is None:
        return []
    size = first_image_size(root / e[0] for e in entries)
    if size is None:
        raise DatasetError(f"{root}: none of the images listed in {', '.join(present)} can be read")
    frames = []
    for image_name, pose, split, source in sorted(entries, key=lambda e: e[0]):
        record_id, _, file_name = image_name.rpartition("/")
        frame_id = Path(file_name).stem
        frames.append(
            FrameRecord(
                image_path=root / image_name,
                T_world_cam=pose,
                intrinsics=focal_for(image_name, *size),
                record_id=record_id or ".",
                camera_id=SINGLE_CAMERA,
                frame_id=frame_id,
                order=_frame_number(frame_id),
                split=split,
                pose_source=source,
            )
        )
    return frames


def cambridge_pose(position: list[float], quaternion_wxyz: list[float]) -> torch.Tensor:
    """``T_world_cam`` of a Cambridge line: camera centre ``position`` and world-to-camera quaternion."""
    R_cam_world = quaternion_to_matrix(torch.tensor(quaternion_wxyz, dtype=torch.float64))
    return make_pose(R_cam_world.T, torch.tensor(position, dtype=torch.float64))


def _is_pose_line(line: str) -> bool:
    tokens = split_fields(line)
    return len(tokens) == 8 and all(is_number(token) for token in tokens[1:])


def _header_length(path: Path, lines: list[str], problems: ProblemLog) -> int:
    """How many of the first :data:`HEADER_LINES` lines are header: all of them, unless a pose line comes
    first (a file saved without its header; noted)."""
    for number, line in enumerate(lines[:HEADER_LINES]):
        if _is_pose_line(line):
            problems.note(f"{path}: no {HEADER_LINES}-line header (line {number + 1} is a pose); read from line {number + 1}")
            return number
    return HEADER_LINES


def _read_split_file(path: Path, split: Split, problems: ProblemLog) -> list[tuple[str, torch.Tensor, Split, str]]:
    entries = []
    lines = problems.read_lines(path)
    header = _header_length(path, lines, problems)
    for number, line in enumerate(lines[header:], start=header + 1):
        tokens = split_fields(line)
        if not tokens:
            continue
        if len(tokens) != 8:
            problems.add(path, f"expected 'image X Y Z W P Q R' (8 fields), got {len(tokens)}", number)
            continue
        try:
            values = [parse_number(v, path, number, "pose value") for v in tokens[1:]]
        except FileFormatError as error:
            problems.add_error(error, path)
            continue
        norm = math.sqrt(sum(v * v for v in values[3:]))
        if abs(norm - 1.0) >= QUATERNION_NORM_TOLERANCE:
            problems.add(path, f"quaternion norm {norm:.6g} is not 1", number)
            continue
        entries.append((tokens[0], cambridge_pose(values[:3], values[3:]), split, f"{path}:{number}"))
    return entries


def _focal_lengths(root: Path, image_names: list[str], problems: ProblemLog):
    """A function ``(image name, width, height) -> PinholeIntrinsics``, or ``None`` after a problem."""
    yaml_path = root / INTRINSICS_YAML
    if yaml_path.is_file():
        try:
            intrinsics = read_intrinsics_yaml(yaml_path).intrinsics
        except PosekitError as error:
            problems.add_error(error, yaml_path)
            return None
        return lambda name, width, height: intrinsics
    nvm_path = root / NVM_FILE
    if not nvm_path.is_file():
        raise DatasetError(
            f"{root}: no {NVM_FILE} (the per-image focal lengths) and no {INTRINSICS_YAML}: cannot know the intrinsics"
        )
    focals = read_nvm_focal_lengths(nvm_path, problems)
    if not focals:
        problems.add(nvm_path, "no camera with a focal length found")
        return None
    median = statistics.median(focals.values())
    missing = sum(1 for name in image_names if _stem_path(name) not in focals)
    if missing:
        problems.note(f"{missing} image(s) are not in {NVM_FILE}; they use the median focal length {median:g}")

    def intrinsics_for(name: str, width: int, height: int) -> PinholeIntrinsics:
        focal = focals.get(_stem_path(name), median) * width / NVM_IMAGE_WIDTH
        return intrinsics_for_file(nvm_path, focal, focal, (width - 1) / 2.0, (height - 1) / 2.0, width, height)

    return intrinsics_for


def read_nvm_focal_lengths(path: Path, problems: ProblemLog) -> dict[str, float]:
    """Image path without extension -> focal length (pixels), from an NVM_V3 file's camera list.

    Camera lines are ``name focal qw qx qy qz cx cy cz radial 0``; the point list after them is not read.
    """
    lines = problems.read_lines(path)
    number = 0
    while number < len(lines) and (not lines[number].strip() or lines[number].startswith("NVM_V3")):
        number += 1
    fields = split_fields(lines[number]) if number < len(lines) else []
    if not fields or not fields[0].isascii() or not fields[0].isdigit():
        problems.add(path, "expected the number of cameras after the NVM_V3 header", number + 1)
        return {}
    count = int(fields[0])
    focals: dict[str, float] = {}
    for offset, line in enumerate(lines[number + 1 : number + 1 + count], start=number + 2):
        tokens = split_fields(line)
        if len(tokens) < 2:
            problems.add(path, "expected 'image focal qw qx qy qz cx cy cz radial 0'", offset)
            continue
        try:
            focal = parse_number(tokens[1], path, offset, f"focal length of {tokens[0]}")
        except FileFormatError as error:
            problems.add_error(error, path)
            continue
        if not focal > 0:
            problems.add(path, f"focal length {tokens[1]} of {tokens[0]} is not positive", offset)
            continue
        focals[_stem_path(tokens[0])] = focal
    return focals


def _stem_path(name: str) -> str:
    return str(Path(name).with_suffix(""))


def _frame_number(frame_id: str) -> int:
    digits = "".join(ch for ch in frame_id if ch.isdigit())
    return int(digits) if digits else 0
