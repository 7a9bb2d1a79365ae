"""Render-and-compare panels of a localised frame: the query | the map rendered at the estimated pose |
their absolute difference, side by side in one image.

The difference is the mean over the three colour channels of ``|query - rendering|``, drawn grey from black
(0) to white (:data:`DIFFERENCE_FULL_SCALE` or more); pixels where the rendering sees no map surface are drawn
in :data:`NO_SURFACE_RGB` and left out of the statistics. A localisation run keeps its panels in
``RUN/panels/`` with an index ``RUN/panels/panels.json`` that the HTML report reads.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from posekit.errors import ShapeError

PANELS_DIR = "panels"
PANELS_INDEX = "panels.json"
DIFFERENCE_FULL_SCALE = 0.5
NO_SURFACE_RGB = (255, 0, 255)
GAP_PX = 4


@dataclass
class RenderComparison:
    """One panel and its numbers.

    Attributes:
        panel: ``(H, 3W + 2 * GAP_PX, 3)`` uint8 RGB: query | rendering | difference.
        difference: ``(H, W)`` float32 mean absolute colour difference (NaN where the map has no surface).
        mean_abs_difference: its mean over the covered pixels (NaN when none is covered).
        coverage: share of pixels where the rendering sees the map.
    """

    panel: np.ndarray
    difference: np.ndarray
    mean_abs_difference: float
    coverage: float


def _hwc(image: torch.Tensor, name: str) -> np.ndarray:
    if image.dim() == 4 and image.shape[0] == 1:
        image = image[0]
    if image.dim() != 3 or image.shape[0] != 3:
        raise ShapeError(f"{name}: expected (1, 3, H, W) or (3, H, W), got {tuple(image.shape)}")
    return image.detach().cpu().float().clamp(0, 1).permute(1, 2, 0).numpy()


def compare_rendering(query: torch.Tensor, rendering: torch.Tensor, covered: torch.Tensor) -> RenderComparison:
    """The panel of ``query`` and ``rendering`` (``(1, 3, H, W)`` in [0, 1]); ``covered`` ``(1, 1, H, W)`` or
    ``(H, W)`` bool: where the rendering sees the map (e.g. its depth > 0).

    Raises:
        ShapeError: the images differ in size or are not RGB.
    """
    query_hwc, rendering_hwc = _hwc(query, "query"), _hwc(rendering, "rendering")
    if query_hwc.shape != rendering_hwc.shape:
        raise ShapeError(f"query {query_hwc.shape[:2]} and rendering {rendering_hwc.shape[:2]} differ in size")
    mask = covered.detach().cpu().reshape(query_hwc.shape[:2]).numpy().astype(bool)
    difference = np.abs(query_hwc - rendering_hwc).mean(axis=2).astype(np.float32)
    difference[~mask] = np.nan
    grey = np.clip(np.nan_to_num(difference, nan=0.0) / DIFFERENCE_FULL_SCALE, 0, 1)
    difference_rgb = np.repeat((grey * 255 + 0.5).astype(np.uint8)[..., None], 3, axis=2)
    difference_rgb[~mask] = NO_SURFACE_RGB
    height = query_hwc.shape[0]
    gap = np.full((height, GAP_PX, 3), 255, np.uint8)
    panel = np.concatenate([(query_hwc * 255 + 0.5).astype(np.uint8), gap, (rendering_hwc * 255 + 0.5).astype(np.uint8),
                            gap, difference_rgb], axis=1)
    mean = float(np.nanmean(difference)) if mask.any() else float("nan")
    return RenderComparison(panel, difference, mean, float(mask.mean()))


def panel_parts(panel: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The query, rendering and difference images ``(H, W, 3)`` of a panel (its three equal columns)."""
    width = (panel.shape[1] - 2 * GAP_PX) // 3
    if panel.ndim != 3 or 3 * width + 2 * GAP_PX != panel.shape[1]:
        raise ShapeError(f"not a render-and-compare panel: shape {panel.shape}")
    step = width + GAP_PX
    return panel[:, :width], panel[:, step:step + width], panel[:, 2 * step:2 * step + width]
