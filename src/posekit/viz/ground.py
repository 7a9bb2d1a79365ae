"""The display frame of a route: two ground-plane axes and "up", whatever the dataset's world frame is.

Datasets disagree on which world axis points up: z for Apolloscape and most driving logs, -y for KITTI (its
world is the first camera's frame, y pointing down), none at all for a hand-held 7-Scenes sequence. Routes
are drawn in a right-handed display frame ``(e1, e2, up)``: the top view shows ``(e1, e2)`` and the 3-D view
puts ``up`` vertical. :attr:`DisplayUpAxis.AUTO` takes the world axis along which the camera moved least.
"""

from __future__ import annotations

from enum import Enum

import numpy as np
import torch

from posekit.errors import ShapeError


class DisplayUpAxis(Enum):
    """Which world axis points up in the display (the sign says which way)."""

    X = "x"
    NEG_X = "-x"
    Y = "y"
    NEG_Y = "-y"
    Z = "z"
    NEG_Z = "-z"
    AUTO = "auto"


_AXIS_NAMES = ("x", "y", "z")


def as_positions(positions: torch.Tensor | np.ndarray, name: str = "positions") -> np.ndarray:
    """``(N, 3)`` float64 numpy copy of camera centres given as a tensor or an array.

    Raises:
        ShapeError: not of shape ``(N, 3)``.
    """
    array = positions.detach().cpu().numpy() if isinstance(positions, torch.Tensor) else np.asarray(positions)
    if array.ndim != 2 or array.shape[1] != 3:
        raise ShapeError(f"{name}: expected shape (N, 3), got {tuple(array.shape)}")
    return array.astype(np.float64)


def resolve_up_axis(positions: np.ndarray, up: DisplayUpAxis) -> DisplayUpAxis:
    """``up`` itself, or for :attr:`DisplayUpAxis.AUTO` the positive axis of least spread (z when there is none)."""
    if up is not DisplayUpAxis.AUTO:
        return up
    finite = positions[np.all(np.isfinite(positions), axis=1)]
    spread = np.ptp(finite, axis=0) if len(finite) >= 2 else np.zeros(3)
    if not np.any(spread > 0):
        return DisplayUpAxis.Z
    return DisplayUpAxis(_AXIS_NAMES[int(np.argmin(spread))])


def _basis(up: DisplayUpAxis) -> tuple[np.ndarray, list[str]]:
    """Rows ``(e1, e2, up)`` of a right-handed frame in world coordinates, and their names."""
    name = up.value.lstrip("-")
    sign = -1.0 if up.value.startswith("-") else 1.0
    axis = _AXIS_NAMES.index(name)
    up_vector = np.zeros(3)
    up_vector[axis] = sign
    e1 = np.eye(3)[0 if axis != 0 else 1]
    e2 = np.cross(up_vector, e1)
    rows = np.stack([e1, e2, up_vector])
    labels = [_vector_name(row) for row in rows]
    return rows, labels


def _vector_name(vector: np.ndarray) -> str:
    index = int(np.argmax(np.abs(vector)))
    return ("-" if vector[index] < 0 else "") + _AXIS_NAMES[index]


def to_display_frame(positions: torch.Tensor | np.ndarray, up: DisplayUpAxis = DisplayUpAxis.AUTO) -> tuple[np.ndarray, list[str]]:
    """World positions in the display frame.

    Args:
        positions: ``(N, 3)`` world positions.
        up: the world's up axis, or :attr:`DisplayUpAxis.AUTO`.

    Returns:
        ``(N, 3)`` coordinates ``(e1, e2, up)`` and the three axis labels in world terms, e.g.
        ``["x", "z", "-y"]`` for KITTI.

    Example:
        >>> to_display_frame(np.array([[1.0, 2.0, 3.0]]), DisplayUpAxis.NEG_Y)[0].tolist()
        [[1.0, 3.0, -2.0]]
    """
    points = as_positions(positions)
    basis, labels = _basis(resolve_up_axis(points, up))
    return points @ basis.T, labels
