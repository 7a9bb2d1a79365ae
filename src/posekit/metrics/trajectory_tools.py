"""What ``posekit traj`` does to trajectory files (evo's ``evo_traj``): read and write any supported format,
summarise, transform, merge.

Formats: ``tum`` (read/write), ``kitti`` (read/write; ``times.txt`` beside it optional), ``euroc`` (read),
``7scenes`` (a folder of ``frame-XXXXXX.pose.txt``; read/write).
"""

from __future__ import annotations

from pathlib import Path

import torch

from posekit.errors import TrajectoryError
from posekit.metrics.trajectory import Trajectory
from posekit.metrics.trajectory_files import (
    read_euroc_csv,
    read_frame_pose_folder,
    read_kitti,
    read_kitti_times,
    read_tum,
    write_euroc_csv,
    write_kitti,
    write_kitti_times,
    write_pose_matrix_file,
    write_tum,
)

READ_FORMATS = ("tum", "kitti", "euroc", "7scenes")
WRITE_FORMATS = ("tum", "kitti", "euroc", "7scenes")


def read_any(path: str | Path, file_format: str, times: str | Path | None = None) -> Trajectory:
    """Read ``path`` in ``file_format``; for KITTI, ``times`` (a ``times.txt``) adds timestamps."""
    if file_format == "tum":
        return read_tum(path)
    if file_format == "euroc":
        return read_euroc_csv(path)
    if file_format == "7scenes":
        return read_frame_pose_folder(path)
    if file_format == "kitti":
        traj = read_kitti(path)
        if times is None:
            return traj
        stamps = read_kitti_times(times)
        if stamps.numel() != len(traj):
            raise TrajectoryError(f"{times}: {stamps.numel()} times for {len(traj)} poses in {path}")
        return Trajectory(traj.poses, stamps, traj.names)
    raise TrajectoryError(f"unknown trajectory format {file_format!r} (one of {', '.join(READ_FORMATS)})")


def write_any(path: str | Path, traj: Trajectory, file_format: str) -> Path:
    """Write ``traj`` in ``file_format``. TUM needs timestamps (the frame index is used when there are none);
    EuRoC needs real timestamps (refused without);
    KITTI writes ``<stem>_times.txt`` beside the file when there are timestamps; 7-Scenes writes a folder."""
    path = Path(path)
    if file_format == "tum":
        stamps = traj.timestamps if traj.timestamps is not None else torch.arange(len(traj), dtype=torch.float64)
        write_tum(path, Trajectory(traj.poses, stamps, traj.names))
    elif file_format == "kitti":
        write_kitti(path, traj)
        if traj.timestamps is not None:
            write_kitti_times(path.with_name(f"{path.stem}_times.txt"), traj.timestamps)
    elif file_format == "euroc":
        if traj.timestamps is None:
            raise TrajectoryError(f"{path}: EuRoC files need timestamps; the input has none (KITTI: give --times)")
        write_euroc_csv(path, traj)
    elif file_format == "7scenes":
        path.mkdir(parents=True, exist_ok=True)
        for i, pose in enumerate(traj.poses):
            name = traj.names[i] if traj.names and traj.names[i].startswith("frame-") else f"frame-{i:06d}"
            write_pose_matrix_file(path / f"{name}.pose.txt", pose)
    else:
        raise TrajectoryError(f"cannot write format {file_format!r} (one of {', '.join(WRITE_FORMATS)})")
    return path


def trajectory_info(traj: Trajectory) -> dict[str, float | int | list[float] | None]:
    """Poses, path length (m), duration (s) and first/last stamps (if timed), position bounds (m)."""
    positions = traj.positions
    info: dict[str, float | int | list[float] | None] = {
        "poses": len(traj),
        "path_length_m": traj.path_length(),
        "duration_s": None,
        "t_first": None,
        "t_last": None,
        "min_xyz": positions.min(dim=0).values.tolist() if len(traj) else None,
        "max_xyz": positions.max(dim=0).values.tolist() if len(traj) else None,
    }
    if traj.timestamps is not None and len(traj):
        info["t_first"], info["t_last"] = float(traj.timestamps[0]), float(traj.timestamps[-1])
        info["duration_s"] = info["t_last"] - info["t_first"]
    return info


def merge_trajectories(trajectories: list[Trajectory]) -> Trajectory:
    """One trajectory of all poses, sorted by timestamp (every input needs timestamps; a repeated stamp is
    refused)."""
    if any(t.timestamps is None for t in trajectories):
        raise TrajectoryError("merge needs timestamps in every trajectory")
    poses = torch.cat([t.poses for t in trajectories])
    stamps = torch.cat([t.timestamps for t in trajectories])
    order = torch.argsort(stamps, stable=True)
    stamps = stamps[order]
    repeated = (stamps[1:] == stamps[:-1]).nonzero()
    if repeated.numel():
        raise TrajectoryError(f"merge: timestamp {float(stamps[int(repeated[0])])} occurs in more than one pose")
    return Trajectory(poses[order], stamps)
