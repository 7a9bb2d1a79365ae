"""Depth predictions beside sensor depth: image, sensor depth, predicted depth and their relative error.

All depth maps share one colour scale (percentiles of the sensor's known values, else the
predictions'). Unknown depth (0) is grey. A prediction at another resolution than the sensor is resized
(bilinear) to it for the error map.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib as mpl
import numpy as np
import torch
import torch.nn.functional as F
from matplotlib.figure import Figure

from posekit.errors import ShapeError
from posekit.geometry.checks import check_shape
from posekit.viz.canvas import new_figure, save_figure
from posekit.viz.images import depth_display_range, depth_to_array, to_rgb_float
from posekit.viz.style import DEPTH_CMAP, ERROR_CMAP, INVALID_COLOUR

DEFAULT_MAX_ROWS = 4
# The relative-error colour scale ends at this value (|pred - sensor| / sensor).
MAX_RELATIVE_ERROR = 0.5


def _batched(name: str, tensor: torch.Tensor | None, channels: int | None) -> torch.Tensor | None:
    if tensor is None:
        return None
    if isinstance(tensor, torch.Tensor) and tensor.dim() == 3:
        tensor = tensor.unsqueeze(0)
    check_shape(name, tensor, (None, channels, None, None))
    return tensor.detach().cpu().float()


def _relative_error(predicted: torch.Tensor, sensor: torch.Tensor) -> np.ndarray:
    """``(H, W)`` ``|pred - sensor| / sensor`` at the sensor's resolution, NaN where the sensor has no depth."""
    if predicted.shape[-2:] != sensor.shape[-2:]:
        predicted = F.interpolate(predicted[None], size=sensor.shape[-2:], mode="bilinear", align_corners=True)[0]
    known = torch.isfinite(sensor) & (sensor > 0)
    error = (predicted - sensor).abs() / torch.where(known, sensor, torch.ones_like(sensor))
    return torch.where(known, error, torch.full_like(error, float("nan")))[0].numpy()


def plot_depth_comparison(
    predicted_depth: torch.Tensor,
    sensor_depth: torch.Tensor | None = None,
    images: torch.Tensor | None = None,
    max_rows: int = DEFAULT_MAX_ROWS,
    title: str | None = None,
) -> Figure:
    """One row per sample: image, sensor depth, predicted depth, relative error (columns present as given).

    Args:
        predicted_depth: ``(B, 1, H, W)`` or ``(1, H, W)`` metres.
        sensor_depth: ``(B, 1, Hs, Ws)`` metres, 0 = unknown, or ``None``.
        images: ``(B, C, Hi, Wi)`` in [0, 1], or ``None``.
        max_rows: at most this many samples are drawn (the first ones).
        title: figure title.

    Raises:
        ShapeError: bad shapes or batch sizes that differ.
    """
    predicted = _batched("predicted_depth", predicted_depth, 1)
    sensor = _batched("sensor_depth", sensor_depth, 1)
    pictures = _batched("images", images, None)
    batch = predicted.shape[0]
    for name, other in (("sensor_depth", sensor), ("images", pictures)):
        if other is not None and other.shape[0] != batch:
            raise ShapeError(f"{name}: expected batch size {batch} like predicted_depth, got {other.shape[0]}")
    if batch == 0:
        raise ShapeError("predicted_depth: expected at least one sample, got batch size 0")
    rows = min(batch, max(1, max_rows))
    columns = ["image"] * (pictures is not None) + ["sensor depth"] * (sensor is not None) + ["predicted depth"]
    columns += ["relative error"] * (sensor is not None)
    height, width = predicted.shape[-2:]
    figure = new_figure(3.2 * len(columns) + 0.8, 3.2 * len(columns) * rows * height / (len(columns) * width) + 0.7)
    axes = np.atleast_2d(figure.subplots(rows, len(columns), squeeze=False))
    depth_cmap = mpl.colormaps[DEPTH_CMAP].with_extremes(bad=INVALID_COLOUR)
    error_cmap = mpl.colormaps[ERROR_CMAP].with_extremes(bad=INVALID_COLOUR)
    depth_artist = error_artist = None
    predicted_maps = [depth_to_array(predicted[row]) for row in range(rows)]
    sensor_maps = [depth_to_array(sensor[row]) for row in range(rows)] if sensor is not None else []
    vmin, vmax = depth_display_range(*(sensor_maps if any(np.isfinite(m).any() for m in sensor_maps)
                                       else predicted_maps))
    for row in range(rows):
        predicted_map = predicted_maps[row]
        sensor_map = sensor_maps[row] if sensor is not None else None
        cells = {"predicted depth": predicted_map}
        if pictures is not None:
            cells["image"] = to_rgb_float(pictures[row])
        if sensor is not None:
            cells["sensor depth"] = sensor_map
            cells["relative error"] = _relative_error(predicted[row], sensor[row])
        for column, name in enumerate(columns):
            ax = axes[row, column]
            heading = name if row == 0 else ""
            if name == "image":
                ax.imshow(cells[name])
            elif name == "relative error":
                error_artist = ax.imshow(cells[name], cmap=error_cmap, vmin=0.0, vmax=MAX_RELATIVE_ERROR)
                finite = cells[name][np.isfinite(cells[name])]
                heading = f"{name} (mean {finite.mean():.3f})" if finite.size else f"{name} (no sensor depth)"
            else:
                depth_artist = ax.imshow(cells[name], cmap=depth_cmap, vmin=vmin, vmax=vmax)
            ax.set_title(heading, fontsize=9)
            ax.set_axis_off()
    figure.colorbar(depth_artist, ax=axes[:, :len(columns) - (sensor is not None)].ravel().tolist(),
                    shrink=0.7, label="depth [m]")
    if error_artist is not None:
        figure.colorbar(error_artist, ax=axes[:, -1].ravel().tolist(), shrink=0.7, label="|pred - sensor| / sensor",
                        extend="max")
    if title:
        figure.suptitle(title)
    return figure


def save_depth_comparison_png(path: str | Path, predicted_depth: torch.Tensor, **kwargs) -> Path:
    """:func:`plot_depth_comparison` written to ``path`` as PNG, atomically. Returns the path."""
    return save_figure(plot_depth_comparison(predicted_depth, **kwargs), path)
