"""Helpers for 3-D route axes: equal scale on the three axes, a floor to project routes onto."""

from __future__ import annotations

import numpy as np
from matplotlib.ticker import MaxNLocator
from mpl_toolkits.mplot3d.axes3d import Axes3D

# The vertical axis is drawn at least this fraction of the horizontal extent, so flat routes stay readable.
MIN_VERTICAL_FRACTION = 0.2
# Half-width of the box drawn around a route that does not move (one frame, or a camera standing still).
MIN_HALF_EXTENT = 0.5


def display_bounds(points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Lower and upper corners ``(3,), (3,)`` of a box around the finite ``(N, 3)`` points, never empty."""
    finite = points[np.all(np.isfinite(points), axis=1)] if len(points) else points
    if len(finite) == 0:
        return np.full(3, -MIN_HALF_EXTENT), np.full(3, MIN_HALF_EXTENT)
    low, high = finite.min(axis=0), finite.max(axis=0)
    centre = (low + high) / 2.0
    half = (high - low) / 2.0
    horizontal = max(half[0], half[1])
    if horizontal <= 1e-12:
        horizontal = half[2] if half[2] > 1e-12 else MIN_HALF_EXTENT
    half[:2] = horizontal
    half[2] = max(half[2], horizontal * MIN_VERTICAL_FRACTION)
    half = half * 1.05
    return centre - half, centre + half


def setup_route_axes(ax: Axes3D, points: np.ndarray, labels: list[str]) -> float:
    """Limits, equal scale and axis labels for ``(N, 3)`` display-frame points; returns the floor height."""
    low, high = display_bounds(points)
    ax.set_xlim(low[0], high[0])
    ax.set_ylim(low[1], high[1])
    ax.set_zlim(low[2], high[2])
    ax.set_box_aspect(tuple(high - low))
    ax.set_xlabel(f"{labels[0]} [m]")
    ax.set_ylabel(f"{labels[1]} [m]")
    ax.set_zlabel(f"{labels[2]} [m]")
    for axis in (ax.xaxis, ax.yaxis, ax.zaxis):
        axis.set_major_locator(MaxNLocator(5))
    ax.zaxis.set_major_locator(MaxNLocator(3))
    return float(low[2])


def on_floor(points: np.ndarray, floor: float) -> np.ndarray:
    """The ``(N, 3)`` points projected onto the horizontal plane at height ``floor``."""
    projected = points.copy()
    projected[:, 2] = floor
    return projected
