"""Colours and colour maps shared by the figures, so that a record or a method keeps its colour everywhere."""

from __future__ import annotations

import matplotlib as mpl

GROUND_TRUTH_COLOUR = "#444444"
ERROR_CMAP = "plasma"
DEPTH_CMAP = "turbo"
PHOTOMETRIC_ERROR_CMAP = "inferno"
MASK_CMAP = "gray"
INVALID_COLOUR = "#9a9a9a"  # pixels without a value (unknown depth, outside the warp)

_CYCLE = mpl.colormaps["tab10"].colors + mpl.colormaps["Dark2"].colors


def series_colour(index: int) -> str:
    """The colour of the ``index``-th record or method, as ``#rrggbb`` (cycles after 18)."""
    return mpl.colors.to_hex(_CYCLE[index % len(_CYCLE)])
