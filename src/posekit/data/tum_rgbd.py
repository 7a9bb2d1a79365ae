"""TUM RGB-D sequences (Sturm et al. 2012)::

    rgbd_dataset_freiburg1_xyz/
      rgb.txt            "timestamp rgb/1305031102.175304.png" per line, '#' comments
      depth.txt          "timestamp depth/1305031102.160407.png"
      groundtruth.txt    TUM trajectory "timestamp tx ty tz qx qy qz qw" (T_world_cam)
      rgb/ depth/        depth: 16-bit PNG, value / 5000 = metres, 0 = unknown
      intrinsics.yaml    optional (posekit's synthetic scenes write one)

The folder given is one sequence (it holds ``rgb.txt``) or a folder of sequences (each a record). Each colour
image is associated with the nearest depth image and the nearest ground-truth pose within 0.02 s (the TUM
``associate.py`` default); colour frames without a depth image or a pose in that window are left out with a
note (the motion-capture ground truth often starts after the camera). The pose is the ground-truth sample
nearest in time (not interpolated).

Intrinsics: ``intrinsics.yaml`` in the sequence folder (its ``depth_scale`` overrides 1/5000), else the
published ones of the Kinect named in the folder name (``freiburg1``/``fr1``, 2, 3) at 640x480, else an
error. Frame ids are the colour timestamps as written in ``rgb.txt``. There is no official split.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import torch

from posekit.data.calibration import INTRINSICS_YAML, CameraCalibration, read_intrinsics_yaml
from posekit.data.problems import ProblemLog
from posekit.data.records import SINGLE_CAMERA, FrameRecord
from posekit.errors import DatasetError, FileFormatError, PosekitError
from posekit.fileio import BLANKS, parse_number, split_fields
from posekit.geometry import PinholeIntrinsics
from posekit.metrics.sync import matching_time_indices
from posekit.metrics.trajectory_files import read_tum

TUM_DEPTH_SCALE = 1.0 / 5000.0
MAX_TIME_DIFF = 0.02
# Published calibration of the three Kinects (TUM RGB-D "file formats" page), 640x480.
PUBLISHED_INTRINSICS = {
    "1": PinholeIntrinsics(517.3, 516.5, 318.6, 255.3, 640, 480),
    "2": PinholeIntrinsics(520.9, 521.0, 325.1, 249.7, 640, 480),
    "3": PinholeIntrinsics(535.4, 539.2, 320.1, 247.6, 640, 480),
}
_KINECT = re.compile(r"(?:freiburg|fr)([123])(?![0-9])", re.IGNORECASE)


@dataclass(frozen=True)
class StampedFile:
    """A line of ``rgb.txt`` / ``depth.txt``: timestamp (s), its text, the file path, the line number."""

    stamp: float
    stamp_text: str
    path: Path
    line: int


def read_stamped_list(path: Path, problems: ProblemLog) -> list[StampedFile]:
    """The entries of a ``timestamp filename`` list file, sorted by time; bad lines become problems."""
    entries = []
    for number, line in enumerate(problems.read_lines(path), start=1):
        text = line.strip(BLANKS)
        if not text or text.startswith("#"):
            continue
        tokens = split_fields(text)
        if len(tokens) != 2:
            problems.add(path, f"expected 'timestamp filename', got {len(tokens)} fields", number)
            continue
        try:
            stamp = parse_number(tokens[0], path, number, "timestamp")
        except FileFormatError as error:
            problems.add_error(error, path)
            continue
        entries.append(StampedFile(stamp, tokens[0], path.parent / tokens[1], number))
    entries.sort(key=lambda e: e.stamp)
    if len(entries) > 1 and entries[0].stamp == entries[-1].stamp:
        problems.add(path, f"all {len(entries)} timestamps are equal ({entries[0].stamp_text})", entries[-1].line)
        return []
    return entries


def tum_calibration(sequence: Path, problems: ProblemLog) -> CameraCalibration | None:
    """The sequence's ``intrinsics.yaml``, else the published Kinect intrinsics by folder name."""
    yaml_path = sequence / INTRINSICS_YAML
    if yaml_path.is_file():
        try:
            return read_intrinsics_yaml(yaml_path)
        except PosekitError as error:
            problems.add_error(error, yaml_path)
            return None
    match = _KINECT.search(sequence.name)
    if match is None:
        problems.add(
            sequence,
            f"no {INTRINSICS_YAML} and the folder name names no TUM camera (freiburg1/2/3): intrinsics unknown",
        )
        return None
    problems.note(f"{sequence.name}: published freiburg{match.group(1)} intrinsics")
    return CameraCalibration(PUBLISHED_INTRINSICS[match.group(1)])


def read_tum_rgbd(root: Path, problems: ProblemLog, max_diff: float = MAX_TIME_DIFF) -> list[FrameRecord]:
    """Frame records of a TUM RGB-D sequence folder or a folder of them (see the module docstring)."""
    if (root / "rgb.txt").is_file():
        sequences = [root]
    else:
        sequences = sorted(p for p in root.iterdir() if p.is_dir() and (p / "rgb.txt").is_file())
    if not sequences:
        raise DatasetError(f"{root}: no rgb.txt in the folder or its sub-folders: not a TUM RGB-D sequence")
    frames: list[FrameRecord] = []
    for sequence in sequences:
        frames += _sequence_frames(sequence, max_diff, problems)
    return frames


def _sequence_frames(sequence: Path, max_diff: float, problems: ProblemLog) -> list[FrameRecord]:
    # Read every file before giving up on the sequence, so that all their problems are reported.
    calibration = tum_calibration(sequence, problems)
    rgb = read_stamped_list(sequence / "rgb.txt", problems)
    depth = read_stamped_list(sequence / "depth.txt", problems) if (sequence / "depth.txt").is_file() else None
    gt_path = sequence / "groundtruth.txt"
    groundtruth = None
    if not gt_path.is_file():
        problems.add(gt_path, "ground-truth file missing")
    else:
        try:
            groundtruth = read_tum(gt_path)
        except PosekitError as error:
            problems.add_error(error, gt_path)
    if calibration is None or groundtruth is None:
        return []
    rgb_stamps = torch.tensor([e.stamp for e in rgb], dtype=torch.float64)
    with_pose, pose_index = matching_time_indices(rgb_stamps, groundtruth.timestamps, max_diff)
    pose_of = dict(zip(with_pose.tolist(), pose_index.tolist()))
    depth_of: dict[int, int] | None = None
    if depth is not None:
        depth_stamps = torch.tensor([e.stamp for e in depth], dtype=torch.float64)
        with_depth, depth_index = matching_time_indices(rgb_stamps, depth_stamps, max_diff)
        depth_of = dict(zip(with_depth.tolist(), depth_index.tolist()))
    _note_unmatched(sequence, len(rgb), len(pose_of), "ground-truth pose", max_diff, problems)
    if depth_of is not None:
        _note_unmatched(sequence, len(rgb), len(depth_of), "depth image", max_diff, problems)
    depth_scale = calibration.depth_scale or TUM_DEPTH_SCALE
    frames = []
    for i, entry in enumerate(rgb):
        if i not in pose_of or (depth_of is not None and i not in depth_of):
            continue
        frames.append(
            FrameRecord(
                image_path=entry.path,
                T_world_cam=groundtruth.poses[pose_of[i]],
                intrinsics=calibration.intrinsics,
                record_id=sequence.name,
                camera_id=SINGLE_CAMERA,
                frame_id=entry.stamp_text,
                order=i,
                timestamp=entry.stamp,
                depth_path=None if depth_of is None else depth[depth_of[i]].path,
                depth_scale=None if depth_of is None else depth_scale,
                pose_source=f"{gt_path} (t={float(groundtruth.timestamps[pose_of[i]]):.6f})",
            )
        )
    return frames


def _note_unmatched(sequence: Path, total: int, matched: int, what: str, max_diff: float, problems: ProblemLog) -> None:
    if matched < total:
        problems.note(f"{sequence.name}: {total - matched} of {total} colour frames have no {what} within {max_diff} s; left out")
