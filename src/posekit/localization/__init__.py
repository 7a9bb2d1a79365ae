"""Localisation of RGB queries in a map (level 5): retrieval or a given initial pose, then refinement by
ORB + PnP with the map's depth and/or direct photometric alignment to keyframes and to the rendered mesh."""

from posekit.localization.localizer import LocalizationResult, Localizer, LocalizerConfig, Refinement
from posekit.localization.run import localize_frames, summarise

__all__ = ["LocalizationResult", "Localizer", "LocalizerConfig", "Refinement", "localize_frames", "summarise"]
