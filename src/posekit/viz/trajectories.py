"""Predicted versus ground-truth trajectory: top view and 3-D, each predicted pose coloured by its error.

The two trajectories must already be associated (pose ``k`` of one belongs to pose ``k`` of the other; see
:func:`posekit.metrics.sync.associate_trajectories`) and expressed in one world frame (aligned, if the method
needs it). The colour is the translation error ``||c_gt - c_est||`` by default, or any per-frame values.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib as mpl
import numpy as np
import torch
from matplotlib.figure import Figure

from posekit.errors import ShapeError, TrajectoryError
from posekit.metrics.pose_errors import absolute_pose_errors
from posekit.metrics.trajectory import Trajectory
from posekit.viz.canvas import new_figure, save_figure
from posekit.viz.ground import DisplayUpAxis, resolve_up_axis, to_display_frame
from posekit.viz.plot3d import display_bounds, setup_route_axes
from posekit.viz.style import ERROR_CMAP, GROUND_TRUTH_COLOUR, INVALID_COLOUR

DEFAULT_ERROR_LABEL = "translation error [m]"


def _error_values(gt: Trajectory, pred: Trajectory, errors: torch.Tensor | np.ndarray | None) -> np.ndarray:
    if errors is None:
        return absolute_pose_errors(gt.poses, pred.poses).translation.numpy()
    values = errors.detach().cpu().numpy() if isinstance(errors, torch.Tensor) else np.asarray(errors, dtype=float)
    if values.shape != (len(gt),):
        raise ShapeError(f"errors: expected shape ({len(gt)},) (one per pose), got {tuple(values.shape)}")
    return values.astype(np.float64)


def plot_trajectory_comparison(
    gt: Trajectory,
    pred: Trajectory,
    errors: torch.Tensor | np.ndarray | None = None,
    up: DisplayUpAxis = DisplayUpAxis.AUTO,
    title: str | None = None,
    error_label: str = DEFAULT_ERROR_LABEL,
) -> Figure:
    """Top view (left) and 3-D view (right) of ``gt`` (grey, dashed) and ``pred`` (points coloured by error).

    Args:
        gt, pred: associated trajectories of the same length ``N``.
        errors: ``(N,)`` values for the colours (default: translation error in metres); non-finite ones
            are drawn grey.
        up: the world's up axis (decided on the ground truth for ``AUTO``).
        title: figure title.
        error_label: colour bar label.

    Raises:
        TrajectoryError: the lengths differ.
        ShapeError: ``errors`` is not ``(N,)``.
    """
    if len(gt) != len(pred):
        raise TrajectoryError(f"plot_trajectory_comparison: the trajectories must be associated first, got "
                              f"{len(gt)} ground-truth and {len(pred)} predicted poses")
    values = _error_values(gt, pred, errors)
    gt_world, pred_world = gt.positions.numpy(), pred.positions.numpy()
    up = resolve_up_axis(gt_world, up)
    gt_display, labels = to_display_frame(gt_world, up)
    pred_display = to_display_frame(pred_world, up)[0]

    finite = values[np.isfinite(values)]
    vmax = float(np.percentile(finite, 98)) if finite.size else 1.0
    norm = mpl.colors.Normalize(vmin=0.0, vmax=max(vmax, 1e-9))
    cmap = mpl.colormaps[ERROR_CMAP].with_extremes(bad=INVALID_COLOUR, over=mpl.colormaps[ERROR_CMAP](1.0))
    colours = cmap(norm(np.where(np.isfinite(values), values, np.nan)))
    size = 14.0 if len(gt) <= 500 else 5.0

    figure = new_figure(13.0, 5.5)
    grid = figure.add_gridspec(1, 2)
    top = figure.add_subplot(grid[0, 0])
    top.plot(gt_display[:, 0], gt_display[:, 1], "--", color=GROUND_TRUTH_COLOUR, linewidth=1.2, label="ground truth")
    top.plot(pred_display[:, 0], pred_display[:, 1], color="0.75", linewidth=0.6, zorder=1)
    top.scatter(pred_display[:, 0], pred_display[:, 1], c=colours, s=size, zorder=2, label="predicted")
    low, high = display_bounds(np.concatenate([gt_display, pred_display]))
    top.set_xlim(low[0], high[0])
    top.set_ylim(low[1], high[1])
    top.set_aspect("equal", adjustable="box")
    top.set_xlabel(f"{labels[0]} [m]")
    top.set_ylabel(f"{labels[1]} [m]")
    top.set_title("top view")
    top.legend(loc="best", fontsize=8)
    top.grid(alpha=0.3)

    view = figure.add_subplot(grid[0, 1], projection="3d")
    setup_route_axes(view, np.concatenate([gt_display, pred_display]), labels)
    view.plot(gt_display[:, 0], gt_display[:, 1], gt_display[:, 2], "--", color=GROUND_TRUTH_COLOUR, linewidth=1.0)
    view.scatter(pred_display[:, 0], pred_display[:, 1], pred_display[:, 2], c=colours, s=size, depthshade=False)
    view.set_title("3-D")

    mappable = mpl.cm.ScalarMappable(norm=norm, cmap=cmap)
    figure.colorbar(mappable, ax=[top, view], shrink=0.8, label=error_label, extend="max")
    summary = f"median {error_label}: {np.median(finite):.3g}" if finite.size else "no finite errors"
    figure.suptitle(f"{title + ': ' if title else ''}{len(gt)} poses, {summary}")
    return figure


def save_trajectory_comparison_png(path: str | Path, gt: Trajectory, pred: Trajectory, **kwargs) -> Path:
    """:func:`plot_trajectory_comparison` written to ``path`` as PNG, atomically. Returns the path."""
    return save_figure(plot_trajectory_comparison(gt, pred, **kwargs), path)
