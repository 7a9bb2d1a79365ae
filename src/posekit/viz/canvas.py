"""Matplotlib figures without pyplot: creating them on the Agg canvas, saving them, turning them into arrays.

Every figure function of :mod:`posekit.viz` returns a :class:`matplotlib.figure.Figure` attached to a
:class:`~matplotlib.backends.backend_agg.FigureCanvasAgg`. No pyplot state machine is involved, so nothing
needs a display, figures are freed when they go out of scope, and threads do not share a "current figure".
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Protocol

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from posekit.fileio import atomic_write_bytes

DEFAULT_DPI = 100


def new_figure(width_in: float, height_in: float, dpi: int = DEFAULT_DPI) -> Figure:
    """A blank figure of ``width_in x height_in`` inches on an Agg canvas, with constrained layout."""
    figure = Figure(figsize=(width_in, height_in), dpi=dpi, layout="constrained")
    FigureCanvasAgg(figure)
    return figure


def _canvas(figure: Figure) -> FigureCanvasAgg:
    canvas = figure.canvas
    if not isinstance(canvas, FigureCanvasAgg):
        canvas = FigureCanvasAgg(figure)
    return canvas


def figure_to_array(figure: Figure) -> np.ndarray:
    """Render ``figure`` and return its pixels as an ``(H, W, 3)`` uint8 RGB array."""
    canvas = _canvas(figure)
    canvas.draw()
    rgba = np.asarray(canvas.buffer_rgba())
    return np.ascontiguousarray(rgba[..., :3])


def figure_to_image(figure: Figure) -> np.ndarray:
    """``(3, H, W)`` uint8 RGB pixels of ``figure``: the layout ``SummaryWriter.add_image`` expects by default.

    Example:
        >>> writer.add_image("val/trajectory", figure_to_image(fig), global_step=step)  # doctest: +SKIP
    """
    return np.ascontiguousarray(figure_to_array(figure).transpose(2, 0, 1))


def figure_to_png_bytes(figure: Figure) -> bytes:
    """The figure encoded as PNG."""
    buffer = io.BytesIO()
    _canvas(figure).print_png(buffer)
    return buffer.getvalue()


def save_figure(figure: Figure, path: str | Path) -> Path:
    """Write ``figure`` to ``path`` as PNG, atomically (parent folders are created). Returns the path."""
    path = Path(path)
    atomic_write_bytes(path, figure_to_png_bytes(figure))
    return path


class ImageWriter(Protocol):
    """What :func:`log_figure` needs from a writer: TensorBoard's ``SummaryWriter`` has it."""

    def add_image(self, tag: str, img_tensor, global_step=None, walltime=None, dataformats: str = "CHW"): ...


def log_figure(writer: ImageWriter, tag: str, figure: Figure, step: int | None = None) -> None:
    """Send ``figure`` to ``writer.add_image`` as a ``(3, H, W)`` uint8 image under ``tag``."""
    writer.add_image(tag, figure_to_image(figure), global_step=step, dataformats="CHW")
