"""Apolloscape self-localization, both published layouts of one road folder.

**ZPark sample layout** (``zpark-sample``, DeLS-3D)::

    image/Record001/Camera_1/170927_063811892_Camera_1.jpg
    pose/Record001/Camera_1.txt          lines "170927_063811892_Camera_1.jpg roll,pitch,yaw,x,y,z"
    trainval_split/train.txt, val.txt    lines "Record001/Camera_1/170927_063811892_Camera_1"

**Full road layout** (``road03_seg`` ...; note the space in the camera folders)::

    ColorImage/Record001/Camera 5/170927_063811892_Camera_5.jpg
    Pose/Record001/Camera 5/pose.txt     lines "r00 r01 ... r33 170927_063811892_Camera_5.jpg" (row-major 4x4)
    trainval_split/train.txt, val.txt    optional, as above

Both poses are camera-to-world (``T_world_cam``) in metres; Euler angles mean ``R = Rz(yaw) Ry(pitch)
Rx(roll)``. Records are the ``RecordNNN`` folders, cameras the camera folders. The frame id is the timestamp
part of the file name (``170927_063811892``: yymmdd_HHMMSS + milliseconds), which is what matches the two
images of a stereo pair; the timestamp is those seconds (UTC, as an epoch time).

Intrinsics: ``intrinsics.yaml`` in the road folder if present (all cameras), else the published values
(ZPark Camera_1/2 at 2452x2056, road Camera 5/6 at 3384x2710, from the Apolloscape dataset-api), scaled to
the stored image size. The split files give the official train / val split; without them posekit generates
one by record.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path

import torch

from posekit.data.calibration import INTRINSICS_YAML, read_intrinsics_yaml
from posekit.data.problems import ProblemLog
from posekit.data.records import FrameRecord, Split
from posekit.data.verify import first_image_size
from posekit.errors import DatasetError, PosekitError
from posekit.fileio import BLANKS, is_number, parse_number, split_fields
from posekit.geometry import PinholeIntrinsics, euler_to_matrix, make_pose
from posekit.geometry.rotations import check_rotation_matrix

# (fx, fy, cx, cy, width, height) as published; keys are camera names with '_' for ' '.
PUBLISHED_INTRINSICS = {
    "Camera_1": (1450.317230113, 1451.184836113, 1244.386581025, 1013.145997723, 2452, 2056),
    "Camera_2": (1450.317230113, 1451.184836113, 1244.386581025, 1013.145997723, 2452, 2056),
    "Camera_5": (2304.54786556982, 2305.875668062, 1686.23787612802, 1354.98486439791, 3384, 2710),
    "Camera_6": (2300.39065314361, 2301.31478860597, 1713.21615190657, 1342.91100799715, 3384, 2710),
}
SPLIT_FOLDER = "trainval_split"
SPLIT_FILES = {"train.txt": Split.TRAIN, "val.txt": Split.VAL}
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png")
ROTATION_ATOL = 1e-3  # the road pose files keep about 6 decimals

_STAMP = re.compile(r"^(\d{6})_(\d{6})(\d{3})")


def read_apolloscape(root: Path, problems: ProblemLog) -> list[FrameRecord]:
    """Frame records of an Apolloscape road folder in either layout (see the module docstring)."""
    if (root / "image").is_dir() and (root / "pose").is_dir():
        image_root, pose_file, parse = root / "image", _zpark_pose_file, _parse_zpark_line
    elif (root / "ColorImage").is_dir() and (root / "Pose").is_dir():
        image_root, pose_file, parse = root / "ColorImage", _road_pose_file, _parse_road_line
    else:
        raise DatasetError(
            f"{root}: not an Apolloscape road folder: expected image/ + pose/ (ZPark sample layout) or "
            "ColorImage/ + Pose/ (road layout)"
        )
    intrinsics_for = _intrinsics_source(root, problems)
    if intrinsics_for is None:
        return []
    splits = _read_splits(root, problems)
    frames: list[FrameRecord] = []
    for record_dir in sorted(p for p in image_root.iterdir() if p.is_dir()):
        for camera_dir in sorted(p for p in record_dir.iterdir() if p.is_dir()):
            frames += _camera_frames(root, record_dir.name, camera_dir, pose_file, parse, intrinsics_for, splits, problems)
    if not frames and not problems:
        raise DatasetError(f"{image_root}: no RecordNNN/<camera>/ image folders")
    return frames


def stereo_key(file_name: str) -> str:
    """The timestamp part of an Apolloscape image name (``170927_063811892``), else the stem."""
    match = _STAMP.match(file_name)
    return f"{match.group(1)}_{match.group(2)}{match.group(3)}" if match else Path(file_name).stem


def name_timestamp(file_name: str) -> float | None:
    """Seconds (UTC epoch) of the ``yymmdd_HHMMSSmmm`` prefix of an image name, or ``None``."""
    match = _STAMP.match(file_name)
    if not match:
        return None
    try:
        moment = datetime.strptime(match.group(1) + match.group(2), "%y%m%d%H%M%S").replace(tzinfo=timezone.utc)
    except ValueError:
        return None
    return moment.timestamp() + int(match.group(3)) / 1000.0


def _zpark_pose_file(root: Path, record: str, camera: str) -> Path:
    return root / "pose" / record / f"{camera}.txt"


def _road_pose_file(root: Path, record: str, camera: str) -> Path:
    return root / "Pose" / record / camera / "pose.txt"


def _parse_zpark_line(tokens: list[str]) -> tuple[str, torch.Tensor]:
    """``name roll,pitch,yaw,x,y,z`` -> (name, T_world_cam)."""
    if len(tokens) != 2:
        raise ValueError(f"expected 'image_name roll,pitch,yaw,x,y,z', got {len(tokens)} fields")
    values = _numbers(tokens[1].split(","), 6)
    rotation = euler_to_matrix(torch.tensor(values[:3], dtype=torch.float64))
    return tokens[0], make_pose(rotation, torch.tensor(values[3:], dtype=torch.float64))


def _parse_road_line(tokens: list[str]) -> tuple[str, torch.Tensor]:
    """``r00 ... r33 name`` -> (name, T_world_cam)."""
    if len(tokens) != 17:
        raise ValueError(f"expected 16 numbers (row-major 4x4) then the image name, got {len(tokens)} fields")
    pose = torch.tensor(_numbers(tokens[:16], 16), dtype=torch.float64).reshape(4, 4)
    if not torch.allclose(pose[3], pose.new_tensor([0.0, 0.0, 0.0, 1.0]), atol=1e-6):
        raise ValueError(f"last matrix row must be 0 0 0 1, got {pose[3].tolist()}")
    try:
        check_rotation_matrix(pose[:3, :3], atol=ROTATION_ATOL)
    except PosekitError as error:
        raise ValueError(str(error)) from None
    return tokens[16], pose


def _numbers(tokens: list[str], count: int) -> list[float]:
    if len(tokens) != count:
        raise ValueError(f"expected {count} numbers, got {len(tokens)}")
    if not all(is_number(t) for t in tokens):
        raise ValueError(f"not all finite numbers: {','.join(tokens)!r}")
    return [parse_number(t, "", None) for t in tokens]


def _read_pose_file(path: Path, parse, problems: ProblemLog) -> dict[str, tuple[torch.Tensor, int]]:
    """Image name -> (T_world_cam, line number)."""
    poses: dict[str, tuple[torch.Tensor, int]] = {}
    for number, line in enumerate(problems.read_lines(path), start=1):
        tokens = split_fields(line)
        if not tokens:
            continue
        try:
            name, pose = parse(tokens)
        except ValueError as error:
            problems.add(path, str(error), number)
            continue
        if name in poses:
            problems.add(path, f"second pose for {name} (first on line {poses[name][1]})", number)
            continue
        poses[name] = (pose, number)
    return poses


def _camera_frames(
    root: Path,
    record: str,
    camera_dir: Path,
    pose_file: Callable[[Path, str, str], Path],
    parse,
    intrinsics_for,
    splits: dict[str, Split],
    problems: ProblemLog,
) -> list[FrameRecord]:
    camera = camera_dir.name
    images = sorted(p for p in camera_dir.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
    path = pose_file(root, record, camera)
    if not path.is_file():
        problems.add(path, f"pose file missing for {len(images)} images of {record}/{camera}")
        return []
    poses = _read_pose_file(path, parse, problems)
    size = first_image_size(images)
    if size is None:
        if images:
            problems.add(camera_dir, "no readable image to take the image size from")
        return []
    intrinsics = intrinsics_for(camera, *size)
    if intrinsics is None:
        problems.add(camera_dir, f"no published intrinsics for camera {camera!r}; add an {INTRINSICS_YAML}")
        return []
    frames = []
    image_names = {p.name for p in images}
    for name, (_, number) in poses.items():
        if name not in image_names:
            problems.add(path, f"pose for {name}, which is not in {camera_dir}", number)
    for image in sorted(images, key=lambda p: stereo_key(p.name)):
        frame_id = stereo_key(image.name)
        key = f"{record}/{camera}/{frame_id}"
        if image.name not in poses:
            problems.add(image, f"no pose for this image in {path}", None, key)
            continue
        pose, number = poses[image.name]
        frames.append(
            FrameRecord(
                image_path=image,
                T_world_cam=pose,
                intrinsics=intrinsics,
                record_id=record,
                camera_id=camera,
                frame_id=frame_id,
                order=len(frames),
                timestamp=name_timestamp(image.name),
                split=splits.get(_split_key(record, camera, image.stem)) if splits else None,
                pose_source=f"{path}:{number}",
            )
        )
    return frames


def _intrinsics_source(root: Path, problems: ProblemLog):
    """A function ``(camera, width, height) -> PinholeIntrinsics | None``, or ``None`` after a problem."""
    yaml_path = root / INTRINSICS_YAML
    if yaml_path.is_file():
        try:
            calibration = read_intrinsics_yaml(yaml_path)
        except PosekitError as error:
            problems.add_error(error, yaml_path)
            return None
        return lambda camera, width, height: calibration.intrinsics

    def published(camera: str, width: int, height: int) -> PinholeIntrinsics | None:
        values = PUBLISHED_INTRINSICS.get(camera.replace(" ", "_"))
        if values is None:
            return None
        fx, fy, cx, cy, raw_width, raw_height = values
        return PinholeIntrinsics(fx, fy, cx, cy, raw_width, raw_height).resized(width, height)

    return published


def _split_key(record: str, camera: str, stem: str) -> str:
    return f"{record}/{camera.replace(' ', '_')}/{stem}"


def _read_splits(root: Path, problems: ProblemLog) -> dict[str, Split]:
    """``Record/Camera_N/stem`` -> split, from trainval_split/{train,val}.txt (empty if absent)."""
    splits: dict[str, Split] = {}
    for name, split in SPLIT_FILES.items():
        path = root / SPLIT_FOLDER / name
        if not path.is_file():
            continue
        for number, line in enumerate(problems.read_lines(path), start=1):
            text = line.strip(BLANKS)
            if not text:
                continue
            parts = text.split("/")
            if len(parts) != 3:
                problems.add(path, f"expected 'RecordNNN/Camera_N/<image stem>', got {text!r}", number)
                continue
            record, camera, file_name = parts
            stem = file_name[: -len(Path(file_name).suffix)] if Path(file_name).suffix.lower() in IMAGE_SUFFIXES else file_name
            key = _split_key(record, camera, stem)
            if splits.get(key, split) is not split:
                problems.add(path, f"{text} is in both split files", number)
            splits[key] = split
    return splits
