"""Warp panel for an image pair: how well does a pose explain the target view?

The source image is warped into the target view (:func:`posekit.geometry.warp_source_to_target`, with the
target's depth) once with the ground-truth relative pose and once with the predicted one. The panel shows
the source, the target, both warps, both photometric error maps ``|warped - target|`` (mean over channels)
and both validity masks, with the mean error over valid pixels in the titles::

    comparison = compare_warps(source, target, target_depth, T_src_tgt_gt, T_src_tgt_pred, intrinsics)
    save_warp_panel_png("pair_0042.png", comparison)
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import matplotlib as mpl
import numpy as np
import torch
from matplotlib.figure import Figure

from posekit.errors import ShapeError
from posekit.geometry import PinholeIntrinsics, warp_source_to_target
from posekit.geometry.checks import check_floating
from posekit.viz.canvas import new_figure, save_figure
from posekit.viz.images import to_rgb_float
from posekit.viz.style import INVALID_COLOUR, MASK_CMAP, PHOTOMETRIC_ERROR_CMAP


@dataclass
class WarpComparison:
    """The images of a warp panel, as ``(H, W, 3)`` float RGB in [0, 1] and ``(H, W)`` maps.

    Attributes:
        source, target: the two input images (the source at its own size).
        warped_gt, warped_pred: the source seen from the target view with the ground-truth / predicted pose.
        error_gt, error_pred: ``|warped - target|`` averaged over channels, NaN where not valid.
        valid_gt, valid_pred: bool validity masks (depth known, in front of the source, inside it).
    """

    source: np.ndarray
    target: np.ndarray
    warped_gt: np.ndarray
    warped_pred: np.ndarray
    error_gt: np.ndarray
    error_pred: np.ndarray
    valid_gt: np.ndarray
    valid_pred: np.ndarray

    @property
    def mean_error_gt(self) -> float:
        """Mean photometric error over the valid pixels of the ground-truth warp (NaN if none is valid)."""
        return _masked_mean(self.error_gt)

    @property
    def mean_error_pred(self) -> float:
        """Mean photometric error over the valid pixels of the predicted warp (NaN if none is valid)."""
        return _masked_mean(self.error_pred)


def _masked_mean(error: np.ndarray) -> float:
    finite = error[np.isfinite(error)]
    return float(finite.mean()) if finite.size else float("nan")


def _batch_of_one(name: str, tensor: torch.Tensor, dims: int) -> torch.Tensor:
    """``tensor`` with a leading batch dimension of 1 added if it has ``dims`` dimensions."""
    if not isinstance(tensor, torch.Tensor):
        raise ShapeError(f"{name}: expected a torch.Tensor, got {type(tensor).__name__}")
    if tensor.dim() == dims:
        tensor = tensor.unsqueeze(0)
    if tensor.dim() != dims + 1 or tensor.shape[0] != 1:
        raise ShapeError(f"{name}: expected one sample, shape {dims}-D or (1, ...) {dims + 1}-D, "
                         f"got {tuple(tensor.shape)}")
    check_floating(name, tensor)
    return tensor.detach().cpu()


def compare_warps(
    source_image: torch.Tensor,
    target_image: torch.Tensor,
    target_depth: torch.Tensor,
    T_src_tgt_gt: torch.Tensor,
    T_src_tgt_pred: torch.Tensor,
    intrinsics: torch.Tensor | PinholeIntrinsics,
    source_intrinsics: torch.Tensor | PinholeIntrinsics | None = None,
) -> WarpComparison:
    """Warp the source into the target view with both poses and measure the photometric error.

    Args:
        source_image: ``(C, Hs, Ws)`` or ``(1, C, Hs, Ws)`` float in [0, 1].
        target_image: ``(C, H, W)`` or ``(1, C, H, W)``, same channels as the source.
        target_depth: ``(1, H, W)`` or ``(1, 1, H, W)`` metres, 0 = unknown.
        T_src_tgt_gt, T_src_tgt_pred: ``(4, 4)`` or ``(1, 4, 4)``: map target points into the source frame,
            ``T_src_tgt = inv(T_world_src) @ T_world_tgt``.
        intrinsics: target intrinsics (and the source's, unless ``source_intrinsics`` is given).

    Raises:
        ShapeError: shapes that do not fit together.
    """
    source = _batch_of_one("source_image", source_image, 3)
    target = _batch_of_one("target_image", target_image, 3)
    depth = _batch_of_one("target_depth", target_depth, 3)
    if depth.shape[1] != 1 or depth.shape[-2:] != target.shape[-2:]:
        raise ShapeError(f"target_depth: expected shape (1, 1, {target.shape[-2]}, {target.shape[-1]}) to match "
                         f"the target image, got {tuple(depth.shape)}")
    if source.shape[1] != target.shape[1]:
        raise ShapeError(f"source_image and target_image: channel counts differ, {source.shape[1]} and "
                         f"{target.shape[1]}")
    warps = []
    for name, pose in (("T_src_tgt_gt", T_src_tgt_gt), ("T_src_tgt_pred", T_src_tgt_pred)):
        pose = _batch_of_one(name, pose, 2)
        result = warp_source_to_target(source, depth, pose, intrinsics, source_intrinsics)
        valid = result.valid[0, 0].numpy()
        error = (result.warped - target.to(result.warped.dtype)).abs().mean(dim=1)[0].numpy()
        warps.append((to_rgb_float(result.warped[0]), np.where(valid, error, np.nan).astype(np.float32), valid))
    (warped_gt, error_gt, valid_gt), (warped_pred, error_pred, valid_pred) = warps
    return WarpComparison(
        to_rgb_float(source[0]), to_rgb_float(target[0]), warped_gt, warped_pred, error_gt, error_pred,
        valid_gt, valid_pred,
    )


def plot_warp_panel(comparison: WarpComparison, title: str | None = None) -> Figure:
    """A 2 x 4 panel: source, target, warped (GT), warped (predicted) over mask (GT), mask (predicted),
    error (GT), error (predicted). Both error maps share one colour scale."""
    c = comparison
    height, width = c.target.shape[:2]
    figure = new_figure(13.0, 13.0 * 2 * height / (4 * width) + 0.9)
    axes = figure.subplots(2, 4)
    finite = np.concatenate([c.error_gt[np.isfinite(c.error_gt)], c.error_pred[np.isfinite(c.error_pred)]])
    error_max = float(np.percentile(finite, 99)) if finite.size else 1.0
    error_max = max(error_max, 1e-6)
    panels = [
        (c.source, "source", None),
        (c.target, "target", None),
        (c.warped_gt, "source warped, ground-truth pose", None),
        (c.warped_pred, "source warped, predicted pose", None),
        (c.valid_gt, f"valid (GT) {c.valid_gt.mean():.0%}", MASK_CMAP),
        (c.valid_pred, f"valid (pred) {c.valid_pred.mean():.0%}", MASK_CMAP),
        (c.error_gt, f"photometric error (GT) mean {c.mean_error_gt:.3f}", PHOTOMETRIC_ERROR_CMAP),
        (c.error_pred, f"photometric error (pred) mean {c.mean_error_pred:.3f}", PHOTOMETRIC_ERROR_CMAP),
    ]
    error_image = None
    for ax, (image, label, cmap) in zip(axes.ravel(), panels):
        if cmap is None:
            ax.imshow(image)
        elif cmap == MASK_CMAP:
            ax.imshow(image.astype(np.float32), cmap=cmap, vmin=0.0, vmax=1.0)
        else:  # invalid pixels (NaN) in grey
            colours = mpl.colormaps[cmap].with_extremes(bad=INVALID_COLOUR)
            error_image = ax.imshow(image, cmap=colours, vmin=0.0, vmax=error_max)
        ax.set_title(label, fontsize=9)
        ax.set_axis_off()
    if error_image is not None:
        figure.colorbar(error_image, ax=axes[1, 2:].tolist(), shrink=0.8, label="|warped - target|")
    if title:
        figure.suptitle(title)
    return figure


def save_warp_panel_png(path: str | Path, comparison: WarpComparison, title: str | None = None) -> Path:
    """:func:`plot_warp_panel` written to ``path`` as PNG, atomically. Returns the path."""
    return save_figure(plot_warp_panel(comparison, title), path)
