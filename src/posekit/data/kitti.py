"""KITTI odometry.

Official layout (the dataset root)::

    sequences/06/image_0/000000.png ...   image_0/1 grey, image_2/3 colour (any subset present)
    sequences/06/calib.txt                "P0: 12 numbers" ... "P3:", "Tr:" (rectified projections)
    sequences/06/times.txt                one timestamp (s) per frame
    poses/06.txt                          12 numbers per line: row-major 3x4 T_world_cam0

A single sequence folder (``sequences/06``, or an excerpt like ``shared/data/kitti_odometry/seq06_...``)
is read too; its poses are ``poses.txt`` in the folder, else ``../../poses/<name>.txt``.

``calib.txt`` is read with or without the ``P0:`` labels: unlabelled lines of 12 numbers are P0, P1, P2, P3,
Tr in that order. The intrinsics of camera i are the left 3x3 of ``P_i``; its offset from cam0 (rectified,
same orientation) is ``t_i = K_i^-1 P_i[:, 3]``, i.e. ``T_cami_cam0 = [I | t_i]``. The ground truth is
``T_world_cam0``, so camera i's pose is ``T_world_cam0 @ [I | -t_i]``: the poses are converted to the camera
actually used. Line i of the pose file (and of ``times.txt``) belongs to image ``%06d.png % i``.

Records are sequences; cameras are ``image_0`` .. ``image_3``; sequences without a pose file (the test
sequences 11-21) are left out with a note. KITTI has no official validation split.
"""

from __future__ import annotations

import re
from pathlib import Path

import torch

from posekit.data.problems import ProblemLog
from posekit.data.records import FrameRecord
from posekit.data.verify import first_image_size
from posekit.data.calibration import intrinsics_for_file
from posekit.errors import DatasetError, FileFormatError, PosekitError
from posekit.fileio import BLANKS, parse_number, read_text_lines, split_fields
from posekit.geometry import PinholeIntrinsics
from posekit.metrics.trajectory_files import read_kitti, read_kitti_times

CALIB_ORDER = ("P0", "P1", "P2", "P3", "Tr")
CAMERA_FOLDERS = ("image_0", "image_1", "image_2", "image_3")
_IMAGE_NAME = re.compile(r"^(\d+)\.png$")
_LABEL = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*):\s*(.*)$")


def read_kitti_calib(path: str | Path) -> dict[str, torch.Tensor]:
    """Projection matrices of a KITTI ``calib.txt``, labelled or not: name -> ``(3, 4)`` float64.

    Raises:
        FileFormatError: a line without 12 numbers, or more unlabelled lines than P0..P3, Tr.
    """
    path = Path(path)
    lines = read_text_lines(path)
    matrices: dict[str, torch.Tensor] = {}
    unlabelled = 0
    for number, line in enumerate(lines, start=1):
        text = line.strip(BLANKS)
        if not text:
            continue
        match = _LABEL.match(text)
        if match:
            name, text = match.group(1), match.group(2)
        else:
            if unlabelled >= len(CALIB_ORDER):
                raise FileFormatError(path, f"more than {len(CALIB_ORDER)} unlabelled lines (P0..P3, Tr)", number)
            name = CALIB_ORDER[unlabelled]
            unlabelled += 1
        tokens = split_fields(text)
        if len(tokens) != 12:
            raise FileFormatError(path, f"{name}: expected 12 numbers (a 3x4 matrix), got {len(tokens)}", number)
        values = [parse_number(t, path, number, name) for t in tokens]
        matrices[name] = torch.tensor(values, dtype=torch.float64).reshape(3, 4)
    return matrices


def camera_from_projection(
    projection: torch.Tensor, width: int, height: int, path: str | Path | None = None
) -> tuple[PinholeIntrinsics, torch.Tensor]:
    """Intrinsics and ``T_cam0_cami`` (4x4) of a rectified KITTI projection matrix ``P_i = K_i [I | t_i]``.

    Raises:
        FileFormatError: naming ``path`` (the ``calib.txt``), if the focal lengths are not positive.
    """
    k = projection[:, :3]
    intrinsics = intrinsics_for_file(
        path, float(k[0, 0]), float(k[1, 1]), float(k[0, 2]), float(k[1, 2]), width, height
    )
    t_cami_cam0 = torch.linalg.solve(k, projection[:, 3])
    T_cam0_cami = torch.eye(4, dtype=torch.float64)
    T_cam0_cami[:3, 3] = -t_cami_cam0
    return intrinsics, T_cam0_cami


def read_kitti_odometry(root: Path, problems: ProblemLog, cameras: tuple[str, ...] | None = None) -> list[FrameRecord]:
    """Frame records of a KITTI odometry root or single sequence folder (see the module docstring).

    Args:
        cameras: camera folders to use (default: every ``image_N`` present).
    """
    if (root / "sequences").is_dir():
        sequences = sorted(p for p in (root / "sequences").iterdir() if p.is_dir())
        pose_files = {s.name: root / "poses" / f"{s.name}.txt" for s in sequences}
    elif (root / "calib.txt").is_file():
        sequences = [root]
        local = root / "poses.txt"
        pose_files = {root.name: local if local.is_file() else root.parent.parent / "poses" / f"{root.name}.txt"}
    else:
        raise DatasetError(f"{root}: not KITTI odometry: expected sequences/ (dataset root) or calib.txt (one sequence)")
    frames: list[FrameRecord] = []
    for sequence in sequences:
        pose_file = pose_files[sequence.name]
        if not pose_file.is_file():
            problems.note(f"sequence {sequence.name}: no ground-truth pose file ({pose_file}); left out")
            continue
        frames += _sequence_frames(sequence, pose_file, cameras, problems)
    return frames


def _sequence_frames(
    sequence: Path, pose_file: Path, cameras: tuple[str, ...] | None, problems: ProblemLog
) -> list[FrameRecord]:
    record = sequence.name
    present = [c for c in CAMERA_FOLDERS if (sequence / c).is_dir()]
    wanted = present if cameras is None else [c for c in cameras if c in present]
    if cameras is not None and len(wanted) < len(cameras):
        missing = sorted(set(cameras) - set(present))
        problems.add(sequence, f"camera folder(s) {', '.join(missing)} missing")
    if not wanted:
        problems.add(sequence, "no image_0 .. image_3 folder")
        return []
    try:
        calib = read_kitti_calib(sequence / "calib.txt")
        T_world_cam0 = read_kitti(pose_file).poses
    except PosekitError as error:
        problems.add_error(error, sequence)
        return []
    timestamps = _read_times(sequence / "times.txt", len(T_world_cam0), problems)
    frames: list[FrameRecord] = []
    for camera in wanted:
        name = f"P{camera[-1]}"
        if name not in calib:
            problems.add(sequence / "calib.txt", f"no {name} projection for {camera}")
            continue
        images = _numbered_images(sequence / camera)
        if len(images) != len(T_world_cam0):
            problems.add(pose_file, f"{len(T_world_cam0)} poses for {len(images)} images in {sequence / camera}")
        size = first_image_size(images.values())
        if size is None:
            problems.add(sequence / camera, "no readable image to take the image size from")
            continue
        try:
            intrinsics, T_cam0_cam = camera_from_projection(calib[name], *size, path=sequence / "calib.txt")
        except FileFormatError as error:
            problems.add_error(error, sequence / "calib.txt")
            continue
        for index, image in images.items():
            frame_id = f"{index:06d}"
            if index >= len(T_world_cam0):
                problems.add(image, f"no pose: {pose_file} has {len(T_world_cam0)} lines", None, f"{record}/{camera}/{frame_id}")
                continue
            frames.append(
                FrameRecord(
                    image_path=image,
                    T_world_cam=T_world_cam0[index] @ T_cam0_cam,
                    intrinsics=intrinsics,
                    record_id=record,
                    camera_id=camera,
                    frame_id=frame_id,
                    order=index,
                    timestamp=None if timestamps is None else float(timestamps[index]),
                    pose_source=f"{pose_file}:{index + 1}",
                )
            )
    return frames


def _numbered_images(folder: Path) -> dict[int, Path]:
    images: dict[int, Path] = {}
    for path in sorted(folder.iterdir()):
        match = _IMAGE_NAME.match(path.name)
        if match:
            images[int(match.group(1))] = path
    return dict(sorted(images.items()))


def _read_times(path: Path, count: int, problems: ProblemLog) -> torch.Tensor | None:
    if not path.is_file():
        return None
    try:
        times = read_kitti_times(path)
    except PosekitError as error:
        problems.add_error(error, path)
        return None
    if len(times) != count:
        problems.add(path, f"{len(times)} timestamps for {count} poses")
        return None
    return times
