"""Trivial initial poses reported beside the localiser: the mean training pose, and the nearest training frame
by ground-truth position (an oracle: it looks at the query's true pose, so it bounds what picking one training
frame can do; it is not a method)."""

from __future__ import annotations

import torch

from posekit.geometry.checks import check_shape
from posekit.geometry.lie import make_pose


def mean_pose(T_world_cam: torch.Tensor) -> torch.Tensor:
    """``(4, 4)``: mean position and the chordal mean rotation (SVD projection of the summed rotations) of
    ``(N, 4, 4)`` poses."""
    check_shape("T_world_cam", T_world_cam, (None, 4, 4))
    u, _, vh = torch.linalg.svd(T_world_cam[:, :3, :3].to(torch.float64).sum(0))
    d = torch.sign(torch.det(u @ vh))
    rotation = u @ torch.diag(torch.stack((torch.ones_like(d), torch.ones_like(d), d))) @ vh
    return make_pose(rotation, T_world_cam[:, :3, 3].to(torch.float64).mean(0))


def nearest_by_position(T_world_train: torch.Tensor, T_world_query: torch.Tensor) -> torch.Tensor:
    """``(M, 4, 4)``: for each of ``(M, 4, 4)`` (true) query poses, the training pose ``(N, 4, 4)`` nearest in
    position. Uses the ground truth of the queries: an oracle bound."""
    check_shape("T_world_train", T_world_train, (None, 4, 4))
    check_shape("T_world_query", T_world_query, (None, 4, 4))
    nearest = torch.cdist(T_world_query[:, :3, 3].double(), T_world_train[:, :3, 3].double()).argmin(1)
    return T_world_train[nearest].to(torch.float64)
