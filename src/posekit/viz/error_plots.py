"""Distributions of per-frame pose errors: histograms and cumulative curves, in metres and in degrees.

Several methods can share one figure (PoseNet against the baselines); each is an :class:`ErrorSeries`.
Infinite errors (frames a method gave no estimate for) stay out of the histograms but count in the
cumulative curves' denominators, so a curve that ends below 1 shows the frames that were never localised.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from posekit.errors import ShapeError
from posekit.metrics.pose_errors import PoseErrors
from posekit.viz.canvas import new_figure, save_figure
from posekit.viz.style import series_colour

MAX_BINS = 40
# The x axes stop at this percentile of the finite errors, so that a few outliers do not squash the rest.
X_RANGE_PERCENTILE = 99.0


def _as_vector(name: str, values: torch.Tensor | np.ndarray | Sequence[float]) -> np.ndarray:
    array = values.detach().cpu().numpy() if isinstance(values, torch.Tensor) else np.asarray(values, dtype=float)
    if array.ndim != 1:
        raise ShapeError(f"{name}: expected shape (N,), got {tuple(array.shape)}")
    return array.astype(np.float64)


@dataclass
class ErrorSeries:
    """Per-frame errors of one method: ``translation_m`` and ``rotation_deg``, both ``(N,)`` (inf = missing)."""

    name: str
    translation_m: np.ndarray
    rotation_deg: np.ndarray

    def __post_init__(self) -> None:
        self.translation_m = _as_vector(f"{self.name}: translation_m", self.translation_m)
        self.rotation_deg = _as_vector(f"{self.name}: rotation_deg", self.rotation_deg)
        if self.translation_m.shape != self.rotation_deg.shape:
            raise ShapeError(f"{self.name}: translation_m and rotation_deg lengths differ, "
                             f"{len(self.translation_m)} and {len(self.rotation_deg)}")

    @classmethod
    def from_pose_errors(cls, name: str, errors: PoseErrors) -> ErrorSeries:
        """From :class:`posekit.metrics.pose_errors.PoseErrors`."""
        return cls(name, errors.translation.reshape(-1), errors.rotation_deg.reshape(-1))


def _finite(values: np.ndarray) -> np.ndarray:
    return values[np.isfinite(values)]


def _x_limit(arrays: list[np.ndarray]) -> float:
    finite = np.concatenate([_finite(a) for a in arrays]) if arrays else np.zeros(0)
    if finite.size == 0:
        return 1.0
    limit = float(np.percentile(finite, X_RANGE_PERCENTILE))
    return limit * 1.05 if limit > 0 else max(float(finite.max()), 1e-6)


def _histogram(ax: Axes, series: Sequence[ErrorSeries], values: list[np.ndarray], unit: str, limit: float) -> None:
    in_range = [v[np.isfinite(v) & (v <= limit)] for v in values]
    pooled = np.concatenate(in_range)
    if pooled.size == 0:
        ax.text(0.5, 0.5, "no finite errors", ha="center", va="center", transform=ax.transAxes)
    else:
        bins = np.histogram_bin_edges(pooled, bins=min(MAX_BINS, max(1, int(np.sqrt(pooled.size)) + 1)),
                                      range=(0.0, limit))
        for number, (s, v) in enumerate(zip(series, in_range)):
            if v.size:
                ax.hist(v, bins=bins, histtype="step", linewidth=1.6, color=series_colour(number), label=s.name)
        ax.legend(fontsize=8)
    ax.set_xlim(0.0, limit)
    ax.set_xlabel(f"error [{unit}]")
    ax.set_ylabel("frames")
    ax.grid(alpha=0.3)


def cumulative_curve(values: np.ndarray, limit: float) -> tuple[np.ndarray, np.ndarray]:
    """The step curve of the fraction of ``values`` that are <= x: from (0, 0) up through each sorted finite
    value, held at its final fraction out to ``limit`` (non-finite values never count as reached)."""
    ordered = np.sort(_finite(values))
    if ordered.size == 0:
        return np.array([0.0, limit]), np.zeros(2)
    fraction = np.arange(1, len(ordered) + 1) / len(values)
    before = np.concatenate([[0.0], fraction[:-1]])
    x = np.concatenate([[0.0], np.repeat(ordered, 2), [max(limit, ordered[-1])]])
    y = np.concatenate([[0.0], np.column_stack([before, fraction]).ravel(), [fraction[-1]]])
    return x, y


def _cumulative(ax: Axes, series: Sequence[ErrorSeries], values: list[np.ndarray], unit: str, limit: float) -> None:
    for number, (s, v) in enumerate(zip(series, values)):
        colour = series_colour(number)
        if v.size == 0:
            continue
        x, y = cumulative_curve(v, limit)
        med = float(np.median(v))
        ax.plot(x, y, color=colour, linewidth=1.6, label=f"{s.name} (median {med:.3g} {unit})")
        if np.isfinite(med):
            ax.axvline(med, color=colour, linestyle=":", linewidth=1.0)
    ax.set_xlim(0.0, limit)
    ax.set_ylim(0.0, 1.02)
    ax.set_xlabel(f"error [{unit}]")
    ax.set_ylabel("fraction of frames with error <= x")
    ax.grid(alpha=0.3)
    if any(v.size for v in values):
        ax.legend(fontsize=8, loc="lower right")


def plot_error_distributions(series: Sequence[ErrorSeries], title: str | None = None) -> Figure:
    """2 x 2 figure: histograms (top) and cumulative curves (bottom) of translation (m, left) and rotation
    (deg, right) errors, one colour per series.

    Raises:
        ShapeError: no series.
    """
    if not series:
        raise ShapeError("series: expected at least one error series")
    figure = new_figure(11.0, 7.5)
    axes = figure.subplots(2, 2)
    for column, (attribute, unit, what) in enumerate(
        (("translation_m", "m", "translation"), ("rotation_deg", "deg", "rotation"))
    ):
        values = [getattr(s, attribute) for s in series]
        limit = _x_limit(values)
        _histogram(axes[0, column], series, values, unit, limit)
        axes[0, column].set_title(f"{what} error")
        _cumulative(axes[1, column], series, values, unit, limit)
        axes[1, column].set_title(f"{what} error, cumulative")
    if title:
        figure.suptitle(title)
    return figure


def save_error_distributions_png(path: str | Path, series: Sequence[ErrorSeries], title: str | None = None) -> Path:
    """:func:`plot_error_distributions` written to ``path`` as PNG, atomically. Returns the path."""
    return save_figure(plot_error_distributions(series, title), path)
