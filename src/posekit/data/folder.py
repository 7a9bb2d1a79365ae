"""The generic folder: a user's own capture, one file away from training::

    my_capture/
      intrinsics.yaml     fx, fy, cx, cy, width, height [, depth_scale]  (see posekit.data.calibration)
      poses.txt           TUM trajectory "timestamp tx ty tz qx qy qz qw", T_world_cam in metres
      images/             *.png / *.jpg (or the images directly in my_capture/)
      depth/              optional: 16-bit PNGs with the image stems; needs depth_scale in intrinsics.yaml

Images are matched to poses by timestamp when every image stem is a time in seconds with a decimal point
(``1305031102.175304.png``):
the nearest pose within 0.02 s, images without one are left out with a note. Otherwise the i-th pose line
belongs to the i-th image in name order, and the counts must agree. The folder is one record (its name);
there is no official split.
"""

from __future__ import annotations

from pathlib import Path

import torch

from posekit.data.calibration import INTRINSICS_YAML, read_intrinsics_yaml
from posekit.data.problems import ProblemLog
from posekit.data.records import SINGLE_CAMERA, FrameRecord
from posekit.errors import DatasetError, PosekitError
from posekit.fileio import is_number, parse_number
from posekit.metrics.sync import matching_time_indices
from posekit.metrics.trajectory_files import read_tum

POSE_FILE = "poses.txt"
IMAGE_FOLDER = "images"
DEPTH_FOLDER = "depth"
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg")
MAX_TIME_DIFF = 0.02


def read_folder(root: Path, problems: ProblemLog, max_diff: float = MAX_TIME_DIFF) -> list[FrameRecord]:
    """Frame records of a generic folder (see the module docstring)."""
    missing = [name for name in (INTRINSICS_YAML, POSE_FILE) if not (root / name).is_file()]
    if missing:
        raise DatasetError(f"{root}: missing {' and '.join(missing)} (a generic folder needs both)")
    image_folder = root / IMAGE_FOLDER if (root / IMAGE_FOLDER).is_dir() else root
    images = sorted(p for p in image_folder.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)
    if not images:
        raise DatasetError(f"{image_folder}: no .png / .jpg images")
    try:
        calibration = read_intrinsics_yaml(root / INTRINSICS_YAML)
        trajectory = read_tum(root / POSE_FILE)
    except PosekitError as error:
        problems.add_error(error, root)
        return []
    depth_folder = root / DEPTH_FOLDER
    with_depth = depth_folder.is_dir()
    if with_depth and calibration.depth_scale is None:
        problems.add(root / INTRINSICS_YAML, f"{depth_folder} exists but depth_scale (metres per unit) is not given")
        return []
    stamps = _numeric_stems(images)
    if stamps is not None:
        stamps, sort = stamps.sort()
        images = [images[i] for i in sort.tolist()]
        image_index, pose_index = matching_time_indices(stamps, trajectory.timestamps, max_diff)
        if len(image_index) < len(images):
            problems.note(f"{len(images) - len(image_index)} of {len(images)} images have no pose within {max_diff} s; left out")
        pairs = list(zip(image_index.tolist(), pose_index.tolist()))
    else:
        if len(images) != len(trajectory):
            problems.add(root / POSE_FILE, f"{len(trajectory)} poses for {len(images)} images in {image_folder}")
            return []
        pairs = [(i, i) for i in range(len(images))]
    frames = []
    for order, (i, j) in enumerate(pairs):
        image = images[i]
        depth = depth_folder / f"{image.stem}.png" if with_depth else None
        if depth is not None and not depth.is_file():
            problems.add(depth, "depth image missing", None, f"{root.name}/{SINGLE_CAMERA}/{image.stem}")
            continue
        frames.append(
            FrameRecord(
                image_path=image,
                T_world_cam=trajectory.poses[j],
                intrinsics=calibration.intrinsics,
                record_id=root.name,
                camera_id=SINGLE_CAMERA,
                frame_id=image.stem,
                order=order,
                timestamp=None if stamps is None else float(stamps[i]),
                depth_path=depth,
                depth_scale=calibration.depth_scale if with_depth else None,
                pose_source=f"{root / POSE_FILE} (pose {j + 1})",
            )
        )
    return frames


def _numeric_stems(images: list[Path]) -> torch.Tensor | None:
    """``(N,)`` float64 timestamps if every image stem is a decimal number with a point (``12.5``), else
    ``None``. Integer stems (``000042``) are frame numbers, not times."""
    if not all("." in p.stem and is_number(p.stem) for p in images):
        return None
    return torch.tensor([parse_number(p.stem, p) for p in images], dtype=torch.float64)
