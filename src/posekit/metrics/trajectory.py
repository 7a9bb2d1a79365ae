"""A trajectory: a sequence of camera poses ``T_world_cam`` with optional timestamps and frame names.

This is the one container the metrics work on (the role of evo's ``PosePath3D`` / ``PoseTrajectory3D``).
Poses are float64 ``(N, 4, 4)`` camera-to-world transforms with proper rotations; every operation returns
a new trajectory and leaves the original unchanged.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch

from posekit.errors import ShapeError, TrajectoryError
from posekit.geometry import check_rotation_matrix
from posekit.geometry.checks import check_floating, check_shape

# Tolerance on |R^T R - I| and |det R - 1| for stored rotations. Trajectory files round their numbers
# (KITTI keeps 7 significant digits), so this is looser than float64 precision but far from a reflection.
ROTATION_ATOL = 1e-4


@dataclass(eq=False)
class Trajectory:
    """Camera poses over time.

    Attributes:
        poses: ``(N, 4, 4)`` float64 ``T_world_cam`` (camera-to-world). Converted to float64 if needed.
        timestamps: ``(N,)`` float64 seconds, or ``None`` (e.g. KITTI files without ``times.txt``).
        names: ``N`` frame names, or ``None``. Readers use it for what identifies a frame in the file: image
            names (7-Scenes, visloc), ``frame-XXXXXX`` stems, or KITTI frame indices as decimal strings.

    Raises:
        ShapeError: poses not ``(N, 4, 4)`` floating point, timestamps not ``(N,)``, ``len(names) != N``.
        RotationError: a rotation block is not a proper rotation (within :data:`ROTATION_ATOL`).

    Example:
        >>> traj = Trajectory(torch.eye(4, dtype=torch.float64).repeat(3, 1, 1))
        >>> len(traj), traj.positions.shape
        (3, torch.Size([3, 3]))
    """

    poses: torch.Tensor
    timestamps: torch.Tensor | None = None
    names: list[str] | None = None

    def __post_init__(self) -> None:
        check_shape("poses", self.poses, (None, 4, 4))
        check_floating("poses", self.poses)
        self.poses = self.poses.to(torch.float64)
        n = self.poses.shape[0]
        if n > 0:
            check_rotation_matrix(self.poses[:, :3, :3], atol=ROTATION_ATOL, name="trajectory rotations")
        if self.timestamps is not None:
            check_shape("timestamps", self.timestamps, (n,))
            self.timestamps = self.timestamps.to(torch.float64)
        if self.names is not None:
            self.names = list(self.names)
            if len(self.names) != n:
                raise ShapeError(f"names: expected {n} names (one per pose), got {len(self.names)}")

    def __len__(self) -> int:
        return int(self.poses.shape[0])

    @property
    def positions(self) -> torch.Tensor:
        """``(N, 3)`` camera centres in the world frame (the translation of ``T_world_cam``)."""
        return self.poses[:, :3, 3]

    @property
    def rotations(self) -> torch.Tensor:
        """``(N, 3, 3)`` camera-to-world rotations."""
        return self.poses[:, :3, :3]

    def subset(self, indices: Sequence[int] | torch.Tensor) -> Trajectory:
        """The poses at ``indices`` (in that order; repeats allowed), with their timestamps and names."""
        index = torch.as_tensor(indices, dtype=torch.long).reshape(-1)
        if index.numel() and (int(index.min()) < -len(self) or int(index.max()) >= len(self)):
            raise TrajectoryError(f"subset: indices out of range for a trajectory of {len(self)} poses")
        return Trajectory(
            self.poses[index],
            None if self.timestamps is None else self.timestamps[index],
            None if self.names is None else [self.names[i] for i in index.tolist()],
        )

    def transformed(self, T_new_world: torch.Tensor) -> Trajectory:
        """Left-multiply every pose: ``T_new_cam = T_new_world @ T_world_cam``. ``T_new_world`` is ``(4, 4)``."""
        check_shape("T_new_world", T_new_world, (4, 4))
        return self.with_poses(T_new_world.to(torch.float64) @ self.poses)

    def with_poses(self, poses: torch.Tensor) -> Trajectory:
        """The same timestamps and names with new ``(N, 4, 4)`` poses."""
        return Trajectory(poses, self.timestamps, self.names)

    def path_length(self) -> float:
        """Total distance travelled by the camera centre, in the trajectory's units."""
        if len(self) < 2:
            return 0.0
        return float(torch.linalg.vector_norm(self.positions[1:] - self.positions[:-1], dim=-1).sum())
