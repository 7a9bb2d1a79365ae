"""7-Scenes and the SUN3D / 3DMatch per-frame layout.

**7-Scenes** (format ``7scenes``), one scene folder::

    chess/
      TrainSplit.txt            lines "sequence1", "sequence2", ...
      TestSplit.txt
      camera-intrinsics.txt     optional 3x3 K (exports and synthetic scenes write one)
      seq-01/frame-000000.color.png   (or .color.jpg)
      seq-01/frame-000000.depth.png   16-bit millimetres, 0 and 65535 = unknown
      seq-01/frame-000000.pose.txt    4x4 T_world_cam, metres

Without ``camera-intrinsics.txt`` the usual 7-Scenes intrinsics fx = fy = 585, cx = 320, cy = 240 for
640x480 images are used. ``sequenceN`` in a split file names folder ``seq-0N``. Records are the ``seq-XX``
folders; the split files give the official train / test split. (In the original release the Kinect depth is
not registered to the colour camera, about 2.5 cm away; it is used as it is.)

**Per-frame folders** (format ``frames``), the layout of SUN3D / 3DMatch exports and of
``shared/data/7scenes_redkitchen_seq01``: a folder holding ``camera-intrinsics.txt`` and one or more folders
of ``frame-*`` files (each folder a record), or a single folder of ``frame-*`` files (itself the record,
``camera-intrinsics.txt`` beside the frames or in the parent folder). The intrinsics file is required here;
the image size comes from the first image. Depth is millimetres as in 7-Scenes. There is no official split.

Frame ids are the 6-digit frame numbers; frames of a record are ordered by number.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from posekit.data.calibration import CAMERA_INTRINSICS_TXT, intrinsics_from_matrix_rows, read_camera_matrix_txt
from posekit.data.problems import ProblemLog
from posekit.data.records import SINGLE_CAMERA, FrameRecord, Split
from posekit.data.verify import first_image_size
from posekit.errors import DatasetError, FileFormatError, PosekitError
from posekit.fileio import BLANKS
from posekit.geometry import PinholeIntrinsics
from posekit.metrics.trajectory_files import read_pose_matrix_file

SEVEN_SCENES_INTRINSICS = PinholeIntrinsics(585.0, 585.0, 320.0, 240.0, 640, 480)
MILLIMETRES = 0.001
SPLIT_FILES = {"TrainSplit.txt": Split.TRAIN, "TestSplit.txt": Split.TEST}

_FRAME_FILE = re.compile(r"^frame-(\d+)\.(color\.png|color\.jpg|depth\.png|pose\.txt)$")
_SEQUENCE_FOLDER = re.compile(r"^seq-(\d+)$")
_SPLIT_LINE = re.compile(r"^sequence(\d+)$", re.IGNORECASE)


@dataclass
class _FrameFiles:
    color: Path | None = None
    depth: Path | None = None
    pose: Path | None = None


def read_sevenscenes(root: Path, problems: ProblemLog) -> list[FrameRecord]:
    """Frame records of a 7-Scenes scene folder (see the module docstring)."""
    sequences = sorted(
        (int(m.group(1)), p) for p in root.iterdir() if p.is_dir() and (m := _SEQUENCE_FOLDER.match(p.name))
    )
    if not sequences:
        hint = " (a folder of frame-* files: use the format 'frames')" if _frame_folders(root) else ""
        raise DatasetError(f"{root}: no seq-XX folders: not a 7-Scenes scene folder{hint}")
    splits = _read_split_files(root, problems)
    matrix_file = root / CAMERA_INTRINSICS_TXT
    matrix = _read_matrix(matrix_file, problems) if matrix_file.exists() else None
    if matrix_file.exists() and matrix is None:
        return []
    frames: list[FrameRecord] = []
    for number, folder in sequences:
        split = splits.get(number) if splits else None
        files = _scan_frames(folder, problems)
        intrinsics = SEVEN_SCENES_INTRINSICS if matrix is None else _sized(matrix, matrix_file, files, folder, problems)
        if intrinsics is not None:
            frames += _frame_records(folder, folder.name, files, intrinsics, split, problems)
    return frames


def read_frame_folders(root: Path, problems: ProblemLog) -> list[FrameRecord]:
    """Frame records of a per-frame (SUN3D-style) folder (see the module docstring)."""
    folders = [root] if _has_frame_files(root) else _frame_folders(root)
    if not folders:
        raise DatasetError(f"{root}: no frame-XXXXXX.* files in the folder or its sub-folders")
    frames: list[FrameRecord] = []
    for folder in folders:
        # Beside the frames first, then one level up (the root for sub-folders, the parent for a single one).
        candidates = [folder / CAMERA_INTRINSICS_TXT, folder.parent / CAMERA_INTRINSICS_TXT]
        matrix_file = next((c for c in candidates if c.is_file()), None)
        if matrix_file is None:
            problems.add(
                candidates[0],
                f"no {CAMERA_INTRINSICS_TXT} beside the frames or in {candidates[1].parent} (for an official "
                "7-Scenes scene folder without one, use the format '7scenes')",
            )
            continue
        matrix = _read_matrix(matrix_file, problems)
        if matrix is None:
            continue
        files = _scan_frames(folder, problems)
        intrinsics = _sized(matrix, matrix_file, files, folder, problems)
        if intrinsics is not None:
            frames += _frame_records(folder, folder.name, files, intrinsics, None, problems)
    return frames


def _has_frame_files(folder: Path) -> bool:
    return any(_FRAME_FILE.match(p.name) for p in folder.iterdir())


def _frame_folders(root: Path) -> list[Path]:
    return sorted(p for p in root.iterdir() if p.is_dir() and _has_frame_files(p))


def _read_matrix(path: Path, problems: ProblemLog) -> list[list[float]] | None:
    try:
        return read_camera_matrix_txt(path)
    except PosekitError as error:
        problems.add_error(error, path)
        return None


def _read_split_files(root: Path, problems: ProblemLog) -> dict[int, Split]:
    """Sequence number -> split, from TrainSplit.txt / TestSplit.txt (empty if neither exists)."""
    splits: dict[int, Split] = {}
    for name, split in SPLIT_FILES.items():
        path = root / name
        if not path.is_file():
            continue
        for number, line in enumerate(problems.read_lines(path), start=1):
            text = line.strip(BLANKS)
            if not text:
                continue
            match = _SPLIT_LINE.match(text)
            if not match:
                problems.add(path, f"expected a line like 'sequence1', got {text!r}", number)
                continue
            sequence = int(match.group(1))
            if splits.get(sequence, split) is not split:
                problems.add(path, f"sequence{sequence} is in both split files", number)
            splits[sequence] = split
    return splits


def _scan_frames(folder: Path, problems: ProblemLog) -> dict[int, _FrameFiles]:
    """Frame number -> its files, for every ``frame-*`` file in ``folder``."""
    files: dict[int, _FrameFiles] = {}
    for path in folder.iterdir():
        match = _FRAME_FILE.match(path.name)
        if not match:
            continue
        entry = files.setdefault(int(match.group(1)), _FrameFiles())
        kind = match.group(2)
        if kind.startswith("color"):
            if entry.color is not None:
                problems.add(path, f"two colour images for one frame ({entry.color.name} and {path.name})")
            entry.color = path
        elif kind == "depth.png":
            entry.depth = path
        else:
            entry.pose = path
    return dict(sorted(files.items()))


def _sized(
    matrix, matrix_file: Path, files: dict[int, _FrameFiles], folder: Path, problems: ProblemLog
) -> PinholeIntrinsics | None:
    size = first_image_size(f.color for f in files.values() if f.color is not None)
    if size is None:
        problems.add(folder, "no readable colour image to take the image size from")
        return None
    try:
        return intrinsics_from_matrix_rows(matrix, *size, path=matrix_file)
    except FileFormatError as error:
        problems.add_error(error, folder)
        return None


def _frame_records(
    folder: Path,
    record_id: str,
    files: dict[int, _FrameFiles],
    intrinsics: PinholeIntrinsics,
    split: Split | None,
    problems: ProblemLog,
) -> list[FrameRecord]:
    any_depth = any(f.depth is not None for f in files.values())
    records: list[FrameRecord] = []
    for number, entry in files.items():
        frame_id = f"{number:06d}"
        key = f"{record_id}/{SINGLE_CAMERA}/{frame_id}"
        missing = [name for name, path in (("colour image", entry.color), ("pose.txt", entry.pose)) if path is None]
        if any_depth and entry.depth is None:
            missing.append("depth.png")
        if missing:
            problems.add(folder / f"frame-{frame_id}", f"frame has no {', '.join(missing)}", None, key)
            continue
        try:
            pose = read_pose_matrix_file(entry.pose)
        except PosekitError as error:
            problems.add_error(error, entry.pose, key)
            continue
        records.append(
            FrameRecord(
                image_path=entry.color,
                T_world_cam=pose,
                intrinsics=intrinsics,
                record_id=record_id,
                camera_id=SINGLE_CAMERA,
                frame_id=frame_id,
                order=number,
                depth_path=entry.depth,
                depth_scale=MILLIMETRES if entry.depth is not None else None,
                split=split,
                pose_source=str(entry.pose),
            )
        )
    return records
