"""Training curves from a Lightning ``CSVLogger`` ``metrics.csv``.

The file has a header ``epoch,step,<metric>,...`` and one row per logging call, with empty cells for the
metrics not logged in that call (``train_loss_step`` every few steps, ``val_loss`` once an epoch, ...).
Each metric becomes a :class:`MetricCurve` over the global step. The plot puts the variants of one quantity
in one panel: ``train_loss_step``, ``train_loss_epoch`` and ``val_loss`` (or ``train/loss``, ``val/loss``)
all go to the panel "loss".
"""

from __future__ import annotations

import csv
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure

from posekit.errors import FileFormatError, ShapeError
from posekit.viz.canvas import new_figure, save_figure
from posekit.viz.style import series_colour

INDEX_COLUMNS = ("epoch", "step")
MAX_PANELS = 9
_SPLIT_PREFIX = re.compile(r"^(train|val|valid|validation|test)[_/]")
_REDUCTION_SUFFIX = re.compile(r"_(step|epoch)$")
# A loss panel switches to a log scale when its positive values span more than this ratio.
LOG_SCALE_RATIO = 50.0


@dataclass
class MetricCurve:
    """One logged metric: ``steps`` and ``values``, both ``(K,)`` (``epochs`` too, NaN where not logged)."""

    name: str
    steps: np.ndarray
    values: np.ndarray
    epochs: np.ndarray


def _number(path: Path, line: int, column: str, text: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise FileFormatError(path, f"column {column!r}: expected a number, got {text!r}", line) from None


def read_lightning_metrics(path: str | Path) -> dict[str, MetricCurve]:
    """Read a Lightning ``CSVLogger`` ``metrics.csv`` into one curve per metric column.

    Rows without a ``step`` use their row number as the step. Metrics are returned in column order.

    Raises:
        FileFormatError: the file is missing, has no header, a row has more cells than the header, or a
            cell is not a number (naming the file and line).
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise FileFormatError(path, f"cannot read the metrics file: {error.strerror or error}") from None
    rows = list(csv.reader(text.splitlines()))
    if not rows or not any(cell.strip() for cell in rows[0]):
        raise FileFormatError(path, "expected a CSV header (epoch,step,<metric>,...)", 1)
    header = [cell.strip() for cell in rows[0]]
    metrics = [name for name in header if name and name not in INDEX_COLUMNS]
    collected: dict[str, list[tuple[float, float, float]]] = {name: [] for name in metrics}
    for number, row in enumerate(rows[1:], start=2):
        if not any(cell.strip() for cell in row):
            continue
        if len(row) > len(header):
            raise FileFormatError(path, f"expected at most {len(header)} cells, got {len(row)}", number)
        cells = dict(zip(header, (cell.strip() for cell in row)))
        step = _number(path, number, "step", cells["step"]) if cells.get("step") else float(number - 2)
        epoch = _number(path, number, "epoch", cells["epoch"]) if cells.get("epoch") else math.nan
        for name in metrics:
            if cells.get(name):
                collected[name].append((step, _number(path, number, name, cells[name]), epoch))
    curves = {}
    for name, points in collected.items():
        table = np.array(points, dtype=np.float64).reshape(-1, 3)
        curves[name] = MetricCurve(name, table[:, 0], table[:, 1], table[:, 2])
    return curves



def lowest_logged_value(run_dir: str | Path, metric: str) -> float:
    """The lowest value of ``metric`` (e.g. ``val/loss``, what ``export: best`` selects on) over every
    ``run_dir/logs/**/metrics.csv``; ``inf`` when it was never logged."""
    lowest = math.inf
    for path in sorted(Path(run_dir, "logs").rglob("metrics.csv")):
        curve = read_lightning_metrics(path).get(metric)
        if curve is not None and curve.values.size:
            lowest = min(lowest, float(np.min(curve.values)))
    return lowest


def panel_name(metric: str) -> str:
    """The quantity a metric measures: ``"val/loss"``, ``"train_loss_step"`` -> ``"loss"``."""
    return _REDUCTION_SUFFIX.sub("", _SPLIT_PREFIX.sub("", metric)) or metric


def plot_training_curves(
    curves: Mapping[str, MetricCurve], title: str | None = None, max_panels: int = MAX_PANELS
) -> Figure:
    """One panel per quantity (see :func:`panel_name`), the train/val variants as lines over the step.

    Panels beyond ``max_panels`` are left out (named in the figure's footnote). Curves without values are
    skipped; if none has any, the figure says so.

    Raises:
        ShapeError: ``max_panels`` < 1.
    """
    if max_panels < 1:
        raise ShapeError(f"max_panels: expected at least 1, got {max_panels}")
    panels: dict[str, list[MetricCurve]] = {}
    for curve in curves.values():
        if len(curve.values):
            panels.setdefault(panel_name(curve.name), []).append(curve)
    shown = list(panels)[:max_panels]
    columns = min(3, max(1, len(shown)))
    rows = max(1, math.ceil(len(shown) / columns))
    figure = new_figure(4.2 * columns + 0.6, 3.2 * rows + 0.4)
    if not shown:
        ax = figure.add_subplot()
        ax.text(0.5, 0.5, "no logged values", ha="center", va="center", transform=ax.transAxes)
        ax.set_axis_off()
    colour_of = {name: series_colour(i) for i, name in enumerate(curves)}
    for number, panel in enumerate(shown):
        ax = figure.add_subplot(rows, columns, number + 1)
        for curve in panels[panel]:
            style = "o-" if len(curve.values) <= 30 else "-"
            ax.plot(curve.steps, curve.values, style, color=colour_of[curve.name], label=curve.name,
                    markersize=3, linewidth=1.3)
        positive = np.concatenate([c.values[c.values > 0] for c in panels[panel]])
        all_values = np.concatenate([c.values for c in panels[panel]])
        if ("loss" in panel and positive.size == all_values.size and positive.size
                and positive.max() / positive.min() > LOG_SCALE_RATIO):
            ax.set_yscale("log")
        ax.set_title(panel)
        ax.set_xlabel("step")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7)
    left_out = list(panels)[max_panels:]
    if left_out:
        figure.text(0.01, 0.005, f"not shown: {', '.join(left_out)}", fontsize=7)
    if title:
        figure.suptitle(title)
    return figure


def save_training_curves_png(path: str | Path, curves: Mapping[str, MetricCurve], title: str | None = None) -> Path:
    """:func:`plot_training_curves` written to ``path`` as PNG, atomically. Returns the path."""
    return save_figure(plot_training_curves(curves, title), path)
