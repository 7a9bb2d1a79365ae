"""The trivial absolute-pose estimates every learned absolute method is reported beside.

- :func:`mean_pose`: one pose for every query, the mean of the training poses (mean position; rotation the
  chordal L2 mean, the projection of the mean rotation matrix onto SO(3)). A regressor that learned nothing
  but the training distribution does this well.
- :func:`nearest_pose_oracle`: each query gets the pose of the training frame nearest to its **ground-truth**
  pose (position and rotation, :func:`pose_distance`). It uses the answer, so it is an oracle: the best any
  method that returns a training pose (retrieval) could do, not an achievable baseline.

Example:
    >>> poses = torch.eye(4, dtype=torch.float64).repeat(3, 1, 1)
    >>> mean_pose(poses).shape
    torch.Size([4, 4])
"""

from __future__ import annotations

import torch

from posekit.errors import ShapeError
from posekit.geometry.checks import check_shape

# pose_distance counts this translation (m) as much as this rotation (deg): the 5 cm / 5 deg recall threshold.
ORACLE_METRES = 0.05
ORACLE_DEGREES = 5.0


def _nonempty(name: str, poses: torch.Tensor) -> None:
    check_shape(name, poses, (None, 4, 4))
    if poses.shape[0] == 0:
        raise ShapeError(f"{name}: expected at least one pose, got shape {tuple(poses.shape)}")


def mean_pose(T_world_cam: torch.Tensor) -> torch.Tensor:
    """``(4, 4)`` float64 mean of ``(N, 4, 4)`` camera-to-world poses (mean position, chordal mean rotation)."""
    _nonempty("T_world_cam", T_world_cam)
    poses = T_world_cam.double()
    u, _, vh = torch.linalg.svd(poses[:, :3, :3].mean(0))
    sign = torch.sign(torch.linalg.det(u @ vh))
    rotation = u @ torch.diag(torch.tensor([1.0, 1.0, float(sign)], dtype=torch.float64)) @ vh
    out = torch.eye(4, dtype=torch.float64)
    out[:3, :3] = rotation
    out[:3, 3] = poses[:, :3, 3].mean(0)
    return out


def pose_distance(T_a: torch.Tensor, T_b: torch.Tensor) -> torch.Tensor:
    """``(N, M)`` distances between ``(N, 4, 4)`` and ``(M, 4, 4)`` poses: ``t / ORACLE_METRES + r / ORACLE_DEGREES``
    with ``t`` the distance of the camera centres (m) and ``r`` the rotation angle between them (deg)."""
    check_shape("T_a", T_a, (None, 4, 4))
    check_shape("T_b", T_b, (None, 4, 4))
    a, b = T_a.double(), T_b.double()
    t = torch.cdist(a[:, :3, 3], b[:, :3, 3])
    trace = torch.einsum("nij,mij->nm", a[:, :3, :3], b[:, :3, :3])
    r = torch.rad2deg(torch.arccos(((trace - 1) / 2).clamp(-1.0, 1.0)))
    return t / ORACLE_METRES + r / ORACLE_DEGREES


def nearest_pose_oracle(T_world_cam_train: torch.Tensor, T_world_cam_gt: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """The training pose nearest to each query's ground truth (:func:`pose_distance`): an oracle.

    Args:
        T_world_cam_train: ``(M, 4, 4)`` training poses.
        T_world_cam_gt: ``(N, 4, 4)`` ground-truth poses of the queries.

    Returns:
        ``(N, 4, 4)`` float64 chosen training poses and ``(N,)`` their training indices.
    """
    _nonempty("T_world_cam_train", T_world_cam_train)
    check_shape("T_world_cam_gt", T_world_cam_gt, (None, 4, 4))
    nearest = pose_distance(T_world_cam_gt, T_world_cam_train).argmin(dim=1)
    return T_world_cam_train.double()[nearest], nearest
