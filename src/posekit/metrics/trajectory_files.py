"""Reading and writing trajectory files: TUM, KITTI odometry, 7-Scenes/SUN3D pose files, EuRoC CSV, visloc.

Every reader returns a :class:`~posekit.metrics.trajectory.Trajectory` of float64 ``T_world_cam``
(camera-to-world) poses, converting at the file boundary (quaternion order, world-to-camera poses,
nanoseconds). Every writer is atomic (:mod:`posekit.fileio`).

Bad input raises :class:`~posekit.errors.FileFormatError` naming the file and the 1-based line (lines end at
``\n``, ``\r\n`` or ``\r``; text must be UTF-8; see :func:`posekit.fileio.read_text_lines`): a wrong
number of values, a value that is not a number in C ``strtod``'s ASCII grammar (Python's ``float`` would
also take ``1_3`` and fullwidth digits), a non-finite value, a coordinate beyond :data:`MAX_COORDINATE`,
timestamps that go back (see :class:`TimestampOrder`), KITTI frame indices or ``times.txt`` timestamps
that repeat or go back, a quaternion whose norm is off by 1e-2 or more
(smaller errors come from rounding in the file and are normalised away), or a rotation matrix that is off
an orthonormal matrix with determinant +1 by 1e-2 or more. Rotation matrices off by less than
:data:`~posekit.metrics.trajectory.ROTATION_ATOL` (1e-4, rounding) are kept exactly as stored; between the
two (7-Scenes' KinectFusion poses) they are replaced by the nearest rotation.

Formats:

- TUM: ``timestamp tx ty tz qx qy qz qw`` per line, ``#`` comments; quaternions are (x, y, z, w) on disk.
- KITTI odometry: 12 numbers per line, the row-major top 3x4 of ``T_world_cam0``, no timestamps. The
  kitti-odom-eval "first format" puts a frame index in front (13 numbers); :func:`read_kitti` then keeps the
  indices as decimal strings in ``Trajectory.names`` (see :func:`kitti_frame_indices`), and
  :func:`associate_kitti` pairs such an estimate with the ground truth's frames (files with missing frames).
- KITTI ``times.txt``: one timestamp (s) per line.
- 7-Scenes / SUN3D ``frame-XXXXXX.pose.txt``: a 4x4 ``T_world_cam``, 4 rows of 4 numbers.
- EuRoC ``state_groundtruth_estimate0/data.csv``: ``t[ns], p_RS_R xyz, q_RS wxyz, ...`` (comma-separated,
  ``#`` header); ``T_world_body``.
- visloc (Brachmann et al. ICCV 2021): ``image_name qw qx qy qz tx ty tz [extra fields]``, world-to-camera poses
  (COLMAP convention); :func:`read_visloc_poses` inverts them to ``T_world_cam``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from enum import Enum
from pathlib import Path

import torch

from posekit.errors import FileFormatError, TrajectoryError
from posekit.fileio import atomic_open, data_lines, parse_number, split_fields
from posekit.geometry import make_pose, matrix_to_quaternion, quaternion_to_matrix, se3_inverse
from posekit.metrics.trajectory import ROTATION_ATOL, Trajectory

# Quaternions in files are rounded (TUM ground truth keeps 4 decimals); norms closer to 1 than this are
# renormalised, anything further is treated as a corrupt line.
QUATERNION_NORM_TOLERANCE = 1e-2

# Rotation matrices in files: kept as stored within ROTATION_ATOL, replaced by the nearest rotation up to
# this deviation (max |R^T R - I| or |det R - 1|), rejected beyond.
MATRIX_TOLERANCE = 1e-2

# Largest absolute value of a pose coordinate (translation or matrix entry) accepted from a file. Squares and
# sums of a billion squared errors stay finite in float32 and float64 below it, so no metric turns into
# inf or NaN; no metric map (in metres, or millimetres) comes near it.
MAX_COORDINATE = 1e12


class TimestampOrder(Enum):
    """What a timestamped trajectory reader (:func:`read_tum`, :func:`read_euroc_csv`) accepts.

    - ``repeats`` (default): timestamps never go back; a repeated timestamp is kept, as evo reads it (the
      benchmark files hold a few: TUM ``fr2_desk`` ground truth line 10863, the ORB-SLAM estimate ``V102``
      four), but a file whose timestamps are all equal is refused.
    - ``strict``: timestamps increase strictly; a repeat is refused too.
    - ``sort``: the poses are sorted by timestamp (stable: repeats keep their file order).
    """

    repeats = "repeats"
    strict = "strict"
    sort = "sort"


_FRAME_POSE_PATTERN = re.compile(r"^frame-(\d+)\.pose\.txt$")


# ----------------------------------------------------------------------------------------------------------
# Parsing helpers
# ----------------------------------------------------------------------------------------------------------


def _data_lines(path: Path) -> Iterator[tuple[int, str]]:
    """``(1-based line number, stripped text)`` of the lines that are neither blank nor ``#`` comments."""
    yield from data_lines(path, "#")


def _parse_numbers(path: Path, number: int, tokens: Sequence[str], what: str) -> list[float]:
    return [parse_number(token, path, number, what) for token in tokens]


def _check_coordinates(path: Path, table: torch.Tensor, line_numbers: Sequence[int]) -> None:
    """Refuse pose values (any column of ``table``) beyond :data:`MAX_COORDINATE` in magnitude."""
    bad = (table.abs() > MAX_COORDINATE).any(dim=-1).nonzero()
    if bad.numel():
        i = int(bad[0])
        raise FileFormatError(
            path, f"pose value {float(table[i].abs().max()):.6g} is beyond {MAX_COORDINATE:g} in magnitude",
            line_numbers[i],
        )


def _check_increasing(
    path: Path,
    values: torch.Tensor,
    line_numbers: Sequence[int],
    what: str,
    order_rule: TimestampOrder = TimestampOrder.strict,
) -> torch.Tensor:
    """The order in which to keep the rows of ``values`` (the identity unless ``order_rule`` is ``sort``).

    Refuses values that go back (unless sorting), repeats under ``strict``, and all-equal values (more
    than one) otherwise. Errors name the line of the offending value.
    """
    sort = order_rule is TimestampOrder.sort
    order = torch.argsort(values, stable=True) if sort else torch.arange(values.numel())
    ordered = values[order]
    steps = ordered[1:] - ordered[:-1]
    bad = ((steps < 0) | (steps == 0) & (order_rule is TimestampOrder.strict)).nonzero()
    if bad.numel():
        i = int(bad[0])
        first, second = int(order[i]), int(order[i + 1])
        relation = "repeats" if bool(steps[i] == 0) else "goes back from"
        raise FileFormatError(
            path,
            f"{what} {float(values[second])!r} {relation} {float(values[first])!r} at line {line_numbers[first]}",
            line_numbers[second],
        )
    if steps.numel() and bool((steps == 0).all()):
        raise FileFormatError(path, f"all {values.numel()} {what}s are equal ({float(values[0])!r})", line_numbers[-1])
    return order


def _numeric_table(
    path: Path, counts: Sequence[int], what: str, delimiter: str | None = None, min_count: bool = False
) -> tuple[list[int], list[list[float]]]:
    """Line numbers and values of every data line; each line must have one of ``counts`` values (or at
    least ``counts[0]`` with ``min_count``), and all lines the same number."""
    line_numbers: list[int] = []
    rows: list[list[float]] = []
    for number, text in _data_lines(path):
        tokens = [t.strip(" \t") for t in text.split(delimiter)] if delimiter else split_fields(text)
        n = len(tokens)
        ok = n >= counts[0] if min_count else n in counts
        if not ok:
            expected = f"at least {counts[0]}" if min_count else " or ".join(str(c) for c in counts)
            raise FileFormatError(path, f"{what}: expected {expected} values, got {n}", number)
        if rows and n != len(rows[0]):
            raise FileFormatError(
                path, f"{what}: expected {len(rows[0])} values like line {line_numbers[0]}, got {n}", number
            )
        rows.append(_parse_numbers(path, number, tokens, what))
        line_numbers.append(number)
    if not rows:
        raise FileFormatError(path, f"{what}: the file holds no poses")
    return line_numbers, rows


def _quaternions_wxyz(path: Path, quaternions: torch.Tensor, line_numbers: Sequence[int]) -> torch.Tensor:
    """Check that ``(N, 4)`` quaternions have unit norm within the tolerance and normalise them."""
    norm = torch.linalg.vector_norm(quaternions, dim=-1)
    bad = ((norm - 1.0).abs() >= QUATERNION_NORM_TOLERANCE).nonzero()
    if bad.numel():
        i = int(bad[0])
        raise FileFormatError(
            path,
            f"quaternion norm {float(norm[i]):.6g} is not 1 (tolerance {QUATERNION_NORM_TOLERANCE})",
            line_numbers[i],
        )
    return quaternions / norm[:, None]


def _rotation_deviation(rotations: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """``max |R^T R - I|`` and ``|det R - 1|`` of ``(N, 3, 3)`` matrices."""
    eye = torch.eye(3, dtype=rotations.dtype)
    ortho_err = (rotations.transpose(-1, -2) @ rotations - eye).abs().amax(dim=(-1, -2))
    return ortho_err, (torch.linalg.det(rotations) - 1.0).abs()


def _nearest_rotations(rotations: torch.Tensor) -> torch.Tensor:
    """The closest proper rotations (Frobenius norm) of ``(N, 3, 3)`` matrices with positive determinant."""
    u, _, vh = torch.linalg.svd(rotations)
    return u @ vh


def _proper_rotations(path: Path, rotations: torch.Tensor, line_numbers: Sequence[int]) -> torch.Tensor:
    """Check ``(N, 3, 3)`` rotation blocks read from a file, line ``line_numbers[i]`` holding block ``i``.

    Blocks orthonormal within :data:`ROTATION_ATOL` are kept as stored (rounded digits; evo and the KITTI
    devkit use them as stored). Blocks off by less than :data:`MATRIX_TOLERANCE` are replaced by the nearest
    rotation (7-Scenes' KinectFusion poses are off by up to 4e-4, with det about 0.9995). Anything else
    (a reflection, a scaled or garbled matrix) raises :class:`FileFormatError` at its line.
    """
    ortho_err, det_err = _rotation_deviation(rotations)
    bad = ((ortho_err >= MATRIX_TOLERANCE) | (det_err >= MATRIX_TOLERANCE)).nonzero()
    if bad.numel():
        i = int(bad[0])
        det = float(torch.linalg.det(rotations[i]))
        raise FileFormatError(
            path,
            f"not a proper rotation matrix (max |R^T R - I| = {float(ortho_err[i]):.3g}, det = {det:.6g}; "
            f"tolerance {MATRIX_TOLERANCE})",
            line_numbers[i],
        )
    drifted = (ortho_err > ROTATION_ATOL) | (det_err > ROTATION_ATOL)
    if bool(drifted.any()):
        rotations = rotations.clone()
        rotations[drifted] = _nearest_rotations(rotations[drifted])
    return rotations


def _poses_from_rows(path: Path, rows: torch.Tensor, line_numbers: Sequence[int]) -> torch.Tensor:
    """``(N, 4, 4)`` poses from ``(N, 12)`` row-major 3x4 blocks, checking the rotations."""
    top = rows.reshape(-1, 3, 4)
    return make_pose(_proper_rotations(path, top[:, :, :3], line_numbers), top[:, :, 3])


def _format_number(value: float) -> str:
    """Shortest text that reads back as the same float64 (``repr``)."""
    return repr(float(value))


def _write_rows(path: str | Path, rows: Sequence[Sequence[float]], header: str | None = None) -> None:
    with atomic_open(path, "w") as handle:
        if header:
            handle.write(header)
        for row in rows:
            handle.write(" ".join(_format_number(v) for v in row) + "\n")


def _as_path(path: str | Path) -> Path:
    return Path(path)


# ----------------------------------------------------------------------------------------------------------
# TUM
# ----------------------------------------------------------------------------------------------------------


def read_tum(path: str | Path, timestamps: TimestampOrder = TimestampOrder.repeats) -> Trajectory:
    """Read a TUM trajectory ``timestamp tx ty tz qx qy qz qw`` (``#`` comments and blank lines skipped).

    Args:
        timestamps: which timestamp orders are accepted (:class:`TimestampOrder`; by default non-decreasing).

    Returns:
        A :class:`Trajectory` with non-decreasing timestamps (s); quaternions are converted to (w, x, y, z)
        and normalised.

    Raises:
        FileFormatError: naming the file and line of the first malformed line, or of the first timestamp
            that breaks ``timestamps``.
    """
    path = _as_path(path)
    line_numbers, rows = _numeric_table(path, (8,), "TUM line (timestamp tx ty tz qx qy qz qw)")
    table = torch.tensor(rows, dtype=torch.float64)
    _check_coordinates(path, table[:, 1:4], line_numbers)
    order = _check_increasing(path, table[:, 0], line_numbers, "timestamp", TimestampOrder(timestamps))
    quaternion_xyzw = table[:, 4:8]
    quaternion_wxyz = _quaternions_wxyz(path, quaternion_xyzw[:, [3, 0, 1, 2]], line_numbers)
    poses = make_pose(quaternion_to_matrix(quaternion_wxyz), table[:, 1:4])
    return Trajectory(poses[order], table[order, 0].clone())


def write_tum(path: str | Path, traj: Trajectory) -> None:
    """Write ``traj`` as TUM ``timestamp tx ty tz qx qy qz qw`` (needs timestamps), atomically."""
    if traj.timestamps is None:
        raise FileFormatError(path, "TUM files need timestamps; the trajectory has none")
    quaternion_wxyz = matrix_to_quaternion(traj.rotations)
    table = torch.cat(
        (traj.timestamps[:, None], traj.positions, quaternion_wxyz[:, [1, 2, 3, 0]]), dim=-1
    )
    _write_rows(path, table.tolist(), header="# timestamp tx ty tz qx qy qz qw\n")


# ----------------------------------------------------------------------------------------------------------
# KITTI
# ----------------------------------------------------------------------------------------------------------


def read_kitti(path: str | Path) -> Trajectory:
    """Read a KITTI odometry pose file: 12 numbers per line (row-major 3x4 ``T_world_cam0``).

    Lines of 13 numbers (kitti-odom-eval's "first format": ``frame_index T00 ... T23``, used for results
    with missing frames) are accepted too; the frame indices must increase and are kept as decimal strings
    in ``names`` (read them with :func:`kitti_frame_indices`; :func:`associate_kitti` pairs the frames).
    Every line of a file must use the same format.

    Returns:
        A :class:`Trajectory` without timestamps (see :func:`read_kitti_times`).

    Raises:
        FileFormatError: naming the file and line of a malformed line, a frame index that is not a
            non-negative integer, or one that repeats or goes back.
    """
    path = _as_path(path)
    line_numbers, rows = _numeric_table(path, (12, 13), "KITTI line (12 numbers, or frame index + 12)")
    table = torch.tensor(rows, dtype=torch.float64)
    names = None
    if table.shape[1] == 13:
        indices = table[:, 0]
        for i, value in enumerate(indices.tolist()):
            if value != int(value) or not 0 <= value <= MAX_FRAME_INDEX:
                raise FileFormatError(
                    path, f"frame index {value!r} is not an integer in [0, {MAX_FRAME_INDEX}]", line_numbers[i]
                )
        _check_increasing(path, indices, line_numbers, "frame index")
        names = [str(int(v)) for v in indices.tolist()]
        table = table[:, 1:]
    _check_coordinates(path, table, line_numbers)
    return Trajectory(_poses_from_rows(path, table, line_numbers), None, names)


# Largest KITTI frame index read from a 13-number line (a day of frames at 10 kHz).
MAX_FRAME_INDEX = 10**9


def associate_kitti(
    traj_gt: Trajectory, traj_est: Trajectory, gt_name: str = "ground truth", est_name: str = "estimate"
) -> tuple[Trajectory, Trajectory]:
    """Pair KITTI poses by frame index: pose ``i`` of a 12-number file is frame ``i``; a 13-number file
    (kitti-odom-eval's format for results with missing frames) names its frames.

    Returns:
        ``(gt, est)`` of equal length holding the frames of the estimate, in its order.

    Raises:
        TrajectoryError: naming ``gt_name`` / ``est_name``: without frame indices, the lengths differ; with
            them, an estimated frame is not in the ground truth.
    """
    if traj_est.names is None and traj_gt.names is None:
        if len(traj_gt) != len(traj_est):
            raise TrajectoryError(
                f"KITTI files without frame indices must have one pose per frame each: {gt_name} has "
                f"{len(traj_gt)}, {est_name} has {len(traj_est)} (a 13-number file names its frames)"
            )
        return traj_gt, traj_est
    gt_frames = kitti_frame_indices(traj_gt).tolist()
    row_of_frame = {frame: row for row, frame in enumerate(gt_frames)}
    est_frames = kitti_frame_indices(traj_est).tolist()
    missing = [frame for frame in est_frames if frame not in row_of_frame]
    if missing:
        raise TrajectoryError(
            f"{est_name}: frame {missing[0]} is not in {gt_name} ({len(missing)} of {len(est_frames)} frames "
            f"missing; the ground truth has frames {gt_frames[0]} .. {gt_frames[-1]})"
        )
    return traj_gt.subset([row_of_frame[frame] for frame in est_frames]), traj_est


def kitti_frame_indices(traj: Trajectory) -> torch.Tensor:
    """``(N,)`` int64 KITTI frame indices: from ``names`` when :func:`read_kitti` read them (13-number
    lines), else ``0 .. N-1``."""
    if traj.names is None:
        return torch.arange(len(traj))
    try:
        return torch.tensor([int(name) for name in traj.names], dtype=torch.long)
    except ValueError:
        raise TrajectoryError(f"names are not KITTI frame indices (first name {traj.names[0]!r})") from None


def write_kitti(path: str | Path, traj: Trajectory) -> None:
    """Write ``traj`` as a KITTI pose file (12 numbers per line), atomically. Timestamps and names are
    not written (see :func:`write_kitti_times`)."""
    _write_rows(path, traj.poses[:, :3, :].reshape(-1, 12).tolist())


def read_kitti_times(path: str | Path) -> torch.Tensor:
    """Read a KITTI ``times.txt``: one timestamp (s) per line, increasing. Returns ``(N,)`` float64.

    Raises:
        FileFormatError: naming the line of a malformed value, or of a timestamp that repeats or goes back.
    """
    path = _as_path(path)
    line_numbers, rows = _numeric_table(path, (1,), "KITTI times line (one timestamp)")
    times = torch.tensor(rows, dtype=torch.float64)[:, 0]
    _check_increasing(path, times, line_numbers, "timestamp")
    return times


def write_kitti_times(path: str | Path, timestamps: torch.Tensor) -> None:
    """Write ``(N,)`` timestamps (s), one per line, atomically."""
    _write_rows(path, timestamps.reshape(-1, 1).tolist())


# ----------------------------------------------------------------------------------------------------------
# 7-Scenes / SUN3D per-frame pose files
# ----------------------------------------------------------------------------------------------------------


def read_pose_matrix_file(path: str | Path) -> torch.Tensor:
    """Read a 7-Scenes/SUN3D ``frame-XXXXXX.pose.txt``: 4 rows of 4 numbers, ``T_world_cam`` in metres.

    Returns:
        ``(4, 4)`` float64.
    """
    path = _as_path(path)
    line_numbers, rows = _numeric_table(path, (4,), "pose matrix row (4 numbers)")
    if len(rows) != 4:
        raise FileFormatError(path, f"expected 4 rows of 4 numbers, got {len(rows)} rows")
    pose = torch.tensor(rows, dtype=torch.float64)
    _check_coordinates(path, pose, line_numbers)
    if not torch.allclose(pose[3], pose.new_tensor([0.0, 0.0, 0.0, 1.0]), atol=1e-6, rtol=0.0):
        raise FileFormatError(path, f"last row must be 0 0 0 1, got {pose[3].tolist()}", line_numbers[3])
    pose[:3, :3] = _proper_rotations(path, pose[None, :3, :3], line_numbers[:1])[0]
    return pose


def write_pose_matrix_file(path: str | Path, pose: torch.Tensor) -> None:
    """Write a ``(4, 4)`` pose as 4 rows of 4 numbers, atomically."""
    if tuple(pose.shape) != (4, 4):
        raise FileFormatError(path, f"pose must have shape (4, 4), got {tuple(pose.shape)}")
    _write_rows(path, pose.to(torch.float64).tolist())


def read_frame_pose_folder(folder: str | Path) -> Trajectory:
    """Read every ``frame-XXXXXX.pose.txt`` in ``folder``, sorted by frame index.

    Returns:
        A :class:`Trajectory` whose ``names`` are the stems (``"frame-000012"``), no timestamps.

    Raises:
        FileFormatError: the folder holds no pose file, or one of them is malformed.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise FileFormatError(folder, "not a folder")
    found = []
    for entry in folder.iterdir():
        match = _FRAME_POSE_PATTERN.match(entry.name)
        if match:
            found.append((int(match.group(1)), entry))
    if not found:
        raise FileFormatError(folder, "no frame-XXXXXX.pose.txt files in the folder")
    found.sort()
    poses = torch.stack([read_pose_matrix_file(entry) for _, entry in found])
    names = [entry.name[: -len(".pose.txt")] for _, entry in found]
    return Trajectory(poses, None, names)


# ----------------------------------------------------------------------------------------------------------
# EuRoC
# ----------------------------------------------------------------------------------------------------------


def read_euroc_csv(path: str | Path, timestamps: TimestampOrder = TimestampOrder.repeats) -> Trajectory:
    """Read an EuRoC MAV ground-truth CSV (``t[ns], px, py, pz, qw, qx, qy, qz, ...``; ``#`` header).

    Timestamps are converted from nanoseconds to seconds as ``float(t) / 1e9`` (as evo does), columns after
    the quaternion (velocities, biases) are ignored. ``timestamps`` as in :func:`read_tum`.
    """
    path = _as_path(path)
    line_numbers, rows = _numeric_table(
        path, (8,), "EuRoC CSV line (t[ns], p xyz, q wxyz, ...)", delimiter=",", min_count=True
    )
    table = torch.tensor(rows, dtype=torch.float64)
    _check_coordinates(path, table[:, 1:4], line_numbers)
    order = _check_increasing(path, table[:, 0], line_numbers, "timestamp", TimestampOrder(timestamps))
    quaternion_wxyz = _quaternions_wxyz(path, table[:, 4:8], line_numbers)
    poses = make_pose(quaternion_to_matrix(quaternion_wxyz), table[:, 1:4])
    return Trajectory(poses[order], table[order, 0] / 1e9)


EUROC_HEADER = "#timestamp [ns], p_RS_R_x [m], p_RS_R_y [m], p_RS_R_z [m], q_RS_w [], q_RS_x [], q_RS_y [], q_RS_z []\n"


def write_euroc_csv(path: str | Path, traj: Trajectory) -> None:
    """Write ``traj`` as an EuRoC ground-truth CSV (``t[ns], px, py, pz, qw, qx, qy, qz``; needs timestamps),
    atomically. Seconds become integer nanoseconds (``round(t * 1e9)``), so :func:`read_euroc_csv` reads the
    times back to within float64's resolution at that magnitude (about 0.3 microseconds for Unix times)."""
    if traj.timestamps is None:
        raise FileFormatError(path, "EuRoC files need timestamps; the trajectory has none")
    quaternion_wxyz = matrix_to_quaternion(traj.rotations)
    with atomic_open(path, "w") as handle:
        handle.write(EUROC_HEADER)
        for stamp, position, quaternion in zip(traj.timestamps.tolist(), traj.positions.tolist(), quaternion_wxyz.tolist()):
            handle.write(",".join([str(round(stamp * 1e9)), *(_format_number(v) for v in (*position, *quaternion))]) + "\n")


# ----------------------------------------------------------------------------------------------------------
# visloc (pseudo ground truth and estimates of Brachmann et al., ICCV 2021)
# ----------------------------------------------------------------------------------------------------------


def read_visloc_poses(path: str | Path) -> Trajectory:
    """Read a visloc pose file: ``image_name qw qx qy qz tx ty tz`` per line. Fields after these are
    ignored, as the repo's own reader does: the pseudo-GT files add the focal length, the DSAC* estimates
    two more numbers.

    The file's poses map world to camera (``p_cam = R p_world + t``); they are inverted here.

    Returns:
        A :class:`Trajectory` of ``T_world_cam`` with ``names`` = the image names, no timestamps.
    """
    path = _as_path(path)
    names: list[str] = []
    line_numbers: list[int] = []
    rows: list[list[float]] = []
    for number, text in _data_lines(path):
        tokens = split_fields(text)
        if len(tokens) < 8:
            raise FileFormatError(
                path, f"visloc line: expected 'name qw qx qy qz tx ty tz [...]', got {len(tokens)} fields", number
            )
        rows.append(_parse_numbers(path, number, tokens[1:8], "visloc line"))
        names.append(tokens[0])
        line_numbers.append(number)
    if not rows:
        raise FileFormatError(path, "visloc file: the file holds no poses")
    table = torch.tensor(rows, dtype=torch.float64)
    _check_coordinates(path, table[:, 4:7], line_numbers)
    quaternion_wxyz = _quaternions_wxyz(path, table[:, 0:4], line_numbers)
    T_cam_world = make_pose(quaternion_to_matrix(quaternion_wxyz), table[:, 4:7])
    return Trajectory(se3_inverse(T_cam_world), None, names)


def write_visloc_poses(path: str | Path, traj: Trajectory) -> None:
    """Write ``traj`` (``T_world_cam`` with names) in the visloc format (world-to-camera), atomically."""
    if traj.names is None:
        raise FileFormatError(path, "visloc files need image names; the trajectory has none")
    for name in traj.names:
        if not name or any(c.isspace() for c in name):
            raise FileFormatError(path, f"image name {name!r} is empty or contains white space")
    T_cam_world = se3_inverse(traj.poses)
    quaternion_wxyz = matrix_to_quaternion(T_cam_world[:, :3, :3])
    table = torch.cat((quaternion_wxyz, T_cam_world[:, :3, 3]), dim=-1).tolist()
    with atomic_open(path, "w") as handle:
        for name, row in zip(traj.names, table):
            handle.write(name + " " + " ".join(_format_number(v) for v in row) + "\n")
