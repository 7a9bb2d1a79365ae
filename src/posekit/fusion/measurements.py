"""The measurements a pose graph fuses, for one record (one continuous sequence of frames).

- :class:`AbsoluteMeasurements`: a ``T_world_cam`` per frame (PoseNet, localize, retrieval) with standard
  deviations; a frame may have none (``valid`` False), e.g. a failed localisation or the frames between the
  absolute fixes of the VO mode.
- :class:`RelativeMeasurements`: ``T_i_j = inv(T_world_i) @ T_world_j`` between frames of the same record
  (visual odometry, the relative network), with standard deviations.

Standard deviations are 6-vectors in posekit's order ``(t, omega)``: metres for the translation, radians for
the rotation, expressed in the body frame of the measured pose (gtsam's local coordinates; the graph module
reorders them to gtsam's ``(omega, t)``).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from posekit.errors import ShapeError, TrajectoryError
from posekit.geometry import relative_pose
from posekit.geometry.checks import check_shape


def sigma_vector(translation_m: float, rotation_deg: float) -> torch.Tensor:
    """``(6,)`` float64 standard deviations ``(t, omega)`` from an isotropic translation (m) and rotation (deg)
    standard deviation."""
    for name, value in (("translation sigma", translation_m), ("rotation sigma", rotation_deg)):
        if not (value == value and 0.0 < value < float("inf")):
            raise ShapeError(f"{name} must be a finite positive number, got {value!r}")
    rotation_rad = float(torch.deg2rad(torch.tensor(rotation_deg, dtype=torch.float64)))
    return torch.tensor([translation_m] * 3 + [rotation_rad] * 3, dtype=torch.float64)


def _check_sigmas(name: str, sigmas: torch.Tensor, n: int, rows: torch.Tensor | None = None) -> torch.Tensor:
    sigmas = torch.as_tensor(sigmas, dtype=torch.float64)
    if sigmas.shape == (6,):
        sigmas = sigmas.expand(n, 6).clone()
    check_shape(name, sigmas, (n, 6))
    used = sigmas if rows is None else sigmas[rows]
    bad = ~(torch.isfinite(used) & (used > 0)).all(dim=-1)
    if bool(bad.any()):
        i = int(bad.nonzero()[0])
        raise ShapeError(f"{name}: row {i} is not finite and positive: {used[i].tolist()}")
    return sigmas


@dataclass(eq=False)
class AbsoluteMeasurements:
    """Absolute pose measurements of the ``N`` frames of one record.

    Attributes:
        T_world_cam: ``(N, 4, 4)`` float64 camera-to-world estimates (rows where ``valid`` is False are ignored).
        sigmas: ``(N, 6)`` or ``(6,)`` standard deviations ``(t [m], omega [rad])``, finite and positive where valid.
        valid: ``(N,)`` bool, which frames carry an absolute factor (default: every frame with a finite pose).

    Raises:
        ShapeError: wrong shapes, or a non-finite / non-positive sigma on a valid frame.
    """

    T_world_cam: torch.Tensor
    sigmas: torch.Tensor
    valid: torch.Tensor | None = None

    def __post_init__(self) -> None:
        check_shape("T_world_cam", self.T_world_cam, (None, 4, 4))
        self.T_world_cam = self.T_world_cam.to(torch.float64)
        n = self.T_world_cam.shape[0]
        finite = torch.isfinite(self.T_world_cam).flatten(1).all(dim=1)
        if self.valid is None:
            self.valid = finite
        else:
            self.valid = torch.as_tensor(self.valid, dtype=torch.bool)
            check_shape("valid", self.valid, (n,))
            self.valid = self.valid & finite
        self.sigmas = _check_sigmas("absolute sigmas", self.sigmas, n, self.valid)

    def __len__(self) -> int:
        return int(self.T_world_cam.shape[0])

    def every(self, step: int) -> AbsoluteMeasurements:
        """The VO mode's fixes: keep the absolute factor only on frames ``0, step, 2 step, ...``."""
        if step < 1:
            raise ShapeError(f"absolute_every must be >= 1, got {step}")
        keep = torch.zeros(len(self), dtype=torch.bool)
        keep[::step] = True
        return AbsoluteMeasurements(self.T_world_cam, self.sigmas, self.valid & keep)


@dataclass(eq=False)
class RelativeMeasurements:
    """Relative pose measurements between frames of one record.

    Attributes:
        pairs: ``(M, 2)`` int64 frame indices ``(i, j)`` into the record (``i != j``).
        T_i_j: ``(M, 4, 4)`` float64, ``inv(T_world_i) @ T_world_j`` (maps frame-j points into frame i).
        sigmas: ``(M, 6)`` or ``(6,)`` standard deviations ``(t [m], omega [rad])`` in frame j.
    """

    pairs: torch.Tensor
    T_i_j: torch.Tensor
    sigmas: torch.Tensor

    def __post_init__(self) -> None:
        self.pairs = torch.as_tensor(self.pairs, dtype=torch.long)
        check_shape("pairs", self.pairs, (None, 2))
        m = self.pairs.shape[0]
        check_shape("T_i_j", self.T_i_j, (m, 4, 4))
        self.T_i_j = self.T_i_j.to(torch.float64)
        if not bool(torch.isfinite(self.T_i_j).all()):
            raise ShapeError("T_i_j: relative poses must be finite")
        if m and bool((self.pairs[:, 0] == self.pairs[:, 1]).any()):
            raise ShapeError("pairs: a relative measurement links a frame to itself")
        self.sigmas = _check_sigmas("relative sigmas", self.sigmas, m)

    def __len__(self) -> int:
        return int(self.pairs.shape[0])

    def check_frames(self, n: int) -> None:
        """Raise :class:`TrajectoryError` if a pair refers to a frame outside ``0 .. n-1``."""
        if len(self) and (int(self.pairs.min()) < 0 or int(self.pairs.max()) >= n):
            raise TrajectoryError(f"relative measurements refer to frames outside 0..{n - 1}")


def consecutive_relative_poses(T_world_cam: torch.Tensor, sigmas: torch.Tensor) -> RelativeMeasurements:
    """Relative measurements ``T_i_(i+1)`` between consecutive poses of a trajectory (e.g. a VO trajectory).

    Args:
        T_world_cam: ``(N, 4, 4)``.
        sigmas: ``(N-1, 6)`` or ``(6,)``.
    """
    check_shape("T_world_cam", T_world_cam, (None, 4, 4))
    n = T_world_cam.shape[0]
    pairs = torch.stack((torch.arange(n - 1), torch.arange(1, n)), dim=1)
    T = T_world_cam.to(torch.float64)
    return RelativeMeasurements(pairs, relative_pose(T[:-1], T[1:]), sigmas)


def chain_relative_poses(T_world_first: torch.Tensor, T_i_next: torch.Tensor) -> torch.Tensor:
    """Dead reckoning: ``T_world_(i+1) = T_world_i @ T_i_(i+1)`` from a first pose.

    Args:
        T_world_first: ``(4, 4)``.
        T_i_next: ``(N-1, 4, 4)`` consecutive relative poses.

    Returns:
        ``(N, 4, 4)`` float64 poses.
    """
    check_shape("T_world_first", T_world_first, (4, 4))
    check_shape("T_i_next", T_i_next, (None, 4, 4))
    poses = [T_world_first.to(torch.float64)]
    for step in T_i_next.to(torch.float64):
        poses.append(poses[-1] @ step)
    return torch.stack(poses)

