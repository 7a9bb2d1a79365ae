"""Dataset views: the route of one record or of all records in 3-D, with its shadow on the ground plane,
coloured by record, and a sampled camera frame beside it (the founding article's ``draw_record``).

The caller loads the data; this module takes plain arrays::

    routes = [RecordRoute("Record008", T_world_cam[:, :3, 3]), ...]
    sample = SampleFrame("Record008", index=40, image=image_chw)
    save_routes_png("routes.png", routes, sample)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from matplotlib.figure import Figure

from posekit.errors import ShapeError
from posekit.viz.canvas import new_figure, save_figure
from posekit.viz.ground import DisplayUpAxis, as_positions, resolve_up_axis, to_display_frame
from posekit.viz.images import to_rgb_float
from posekit.viz.plot3d import on_floor, setup_route_axes
from posekit.viz.style import series_colour

# Beyond this many records the legend would hide the plot; the title gives the count instead.
MAX_LEGEND_ENTRIES = 12


@dataclass
class RecordRoute:
    """The camera centres of one record (sequence).

    Attributes:
        record_id: the record's name, e.g. ``"Record008"`` or ``"seq-01"``.
        positions: ``(N, 3)`` world positions (the translation of ``T_world_cam``), tensor or array.
    """

    record_id: str
    positions: torch.Tensor | np.ndarray


@dataclass
class SampleFrame:
    """A camera frame shown beside the routes; its position is starred on its record's route.

    Attributes:
        record_id: the record it belongs to (one of the routes).
        index: its index in that record's positions.
        image: ``(C, H, W)`` tensor or ``(H, W[, C])`` array (see :mod:`posekit.viz.images`).
        label: caption, e.g. the image file name.
    """

    record_id: str
    index: int
    image: torch.Tensor | np.ndarray
    label: str | None = None


def _sample_route(routes: Sequence[RecordRoute], sample: SampleFrame) -> int:
    for number, route in enumerate(routes):
        if route.record_id == sample.record_id:
            length = len(route.positions)
            if not -length <= sample.index < length:
                raise ShapeError(f"sample: index {sample.index} is out of range for record "
                                 f"{sample.record_id!r} of {length} frames")
            return number
    names = ", ".join(repr(r.record_id) for r in routes)
    raise ShapeError(f"sample: record {sample.record_id!r} is not among the routes ({names})")


def plot_routes(
    routes: Sequence[RecordRoute],
    sample: SampleFrame | None = None,
    up: DisplayUpAxis = DisplayUpAxis.AUTO,
    title: str | None = None,
) -> Figure:
    """Draw the routes in 3-D with their ground-plane projections, and ``sample`` beside them.

    Args:
        routes: one or more records; each gets its own colour.
        sample: a frame to show on the right, or ``None``.
        up: the world's up axis (see :class:`~posekit.viz.ground.DisplayUpAxis`); ``AUTO`` is decided on all routes.
        title: figure title (default: the record name, or the number of records).

    Raises:
        ShapeError: no routes, positions not ``(N, 3)``, or a sample that is not on a route.
    """
    if not routes:
        raise ShapeError("routes: expected at least one route to draw")
    world = [as_positions(r.positions, f"positions of {r.record_id!r}") for r in routes]
    sample_number = _sample_route(routes, sample) if sample is not None else None
    all_world = np.concatenate(world)
    up = resolve_up_axis(all_world, up)  # one display frame for every route
    labels = to_display_frame(all_world, up)[1]
    display = [to_display_frame(w, up)[0] for w in world]

    figure = new_figure(12.0 if sample is not None else 7.0, 5.5)
    grid = figure.add_gridspec(1, 2 if sample is not None else 1, width_ratios=[1.1, 1] if sample else None)
    ax = figure.add_subplot(grid[0, 0], projection="3d")
    floor = setup_route_axes(ax, np.concatenate(display), labels)
    for number, (route, points) in enumerate(zip(routes, display)):
        colour = series_colour(number)
        if len(points) == 0:
            continue
        shadow = on_floor(points, floor)
        ax.plot(shadow[:, 0], shadow[:, 1], shadow[:, 2], color=colour, alpha=0.35, linewidth=1.0)
        ax.plot(points[:, 0], points[:, 1], points[:, 2], color=colour, linewidth=1.8,
                label=route.record_id if len(routes) <= MAX_LEGEND_ENTRIES else None)
        ax.scatter(*points[0], color=colour, s=18, marker="o", depthshade=False)
    if sample is not None:
        point = display[sample_number][sample.index]
        ax.scatter(*point, color="red", s=120, marker="*", depthshade=False, label="sampled frame", zorder=5)
    if ax.get_legend_handles_labels()[0]:
        ax.legend(loc="upper left", fontsize=8)
    if title is None:
        title = routes[0].record_id if len(routes) == 1 else f"{len(routes)} records"
    frames = sum(len(w) for w in world)
    ax.set_title(f"{title}  ({frames} frame{'' if frames == 1 else 's'})")

    if sample is not None:
        image_ax = figure.add_subplot(grid[0, 1])
        image_ax.imshow(to_rgb_float(sample.image, "sample image"))
        caption = sample.label or f"{sample.record_id} frame {sample.index}"
        image_ax.set_title(caption, fontsize=9)
        image_ax.set_axis_off()
    return figure


def save_routes_png(
    path: str | Path,
    routes: Sequence[RecordRoute],
    sample: SampleFrame | None = None,
    up: DisplayUpAxis = DisplayUpAxis.AUTO,
    title: str | None = None,
) -> Path:
    """:func:`plot_routes` written to ``path`` as PNG, atomically. Returns the path."""
    return save_figure(plot_routes(routes, sample, up, title), path)
