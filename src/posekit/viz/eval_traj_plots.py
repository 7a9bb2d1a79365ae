"""Figures of ``posekit eval-traj`` and ``posekit res`` (Agg canvas, PNG): the trajectories seen from above
with the estimate coloured by its error, the error over time, and a comparison of saved results.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from posekit.viz.canvas import new_figure, save_figure


def _top_view_axes(positions: np.ndarray) -> tuple[int, int]:
    """The two axes of largest extent (a ground-plane view whatever the up axis: KITTI x-z, TUM x-y)."""
    extent = positions.max(axis=0) - positions.min(axis=0)
    first, second = sorted(np.argsort(extent)[-2:])
    return int(first), int(second)


def save_evaluation_plot(
    path: str | Path,
    ref_positions: np.ndarray,
    est_positions: np.ndarray,
    errors: np.ndarray,
    error_positions: np.ndarray,
    x_values: np.ndarray,
    x_label: str,
    title: str,
    unit: str,
) -> Path:
    """One PNG: (left) reference and estimate from above, the estimate's error points coloured by error;
    (right) the error against ``x_values`` with its mean and median.

    Args:
        ref_positions, est_positions: ``(N, 3)`` positions (the estimate after alignment).
        errors: ``(K,)`` errors; ``error_positions``: ``(K, 3)`` where each error is drawn.
        x_values: ``(K,)`` time (s) or index of each error; ``x_label`` names it.
    """
    figure = new_figure(12.0, 5.0)
    top, curve = figure.subplots(1, 2)
    a, b = _top_view_axes(np.concatenate([ref_positions, est_positions]))
    names = "xyz"
    top.plot(ref_positions[:, a], ref_positions[:, b], "--", color="0.5", label="reference")
    top.plot(est_positions[:, a], est_positions[:, b], "-", color="tab:blue", linewidth=0.8, label="estimate")
    points = top.scatter(error_positions[:, a], error_positions[:, b], c=errors, s=6, cmap="viridis", zorder=3)
    figure.colorbar(points, ax=top, label=f"error ({unit})" if unit else "error")
    top.set_xlabel(f"{names[a]} (m)")
    top.set_ylabel(f"{names[b]} (m)")
    top.set_aspect("equal", adjustable="datalim")
    top.legend(loc="best")
    curve.plot(x_values, errors, color="tab:blue", linewidth=0.8, label="error")
    curve.axhline(float(np.mean(errors)), color="tab:orange", label=f"mean {np.mean(errors):.4g}")
    curve.axhline(float(np.median(errors)), color="tab:green", label=f"median {np.median(errors):.4g}")
    curve.set_xlabel(x_label)
    curve.set_ylabel(f"error ({unit})" if unit else "error")
    curve.legend(loc="best")
    figure.suptitle(title)
    return save_figure(figure, path)


def save_comparison_plot(path: str | Path, labels: Sequence[str], error_arrays: Sequence[np.ndarray], unit: str) -> Path:
    """One PNG comparing saved results: a box plot of each result's errors (whiskers 5-95 %)."""
    figure = new_figure(max(6.0, 1.2 * len(labels) + 2.0), 4.5)
    axes = figure.subplots()
    axes.boxplot([np.asarray(e) for e in error_arrays], whis=(5, 95), showfliers=False)
    axes.set_xticks(range(1, len(labels) + 1), labels, rotation=20, ha="right")
    axes.set_ylabel(f"error ({unit})" if unit else "error")
    axes.grid(axis="y", alpha=0.3)
    return save_figure(figure, path)
