"""The one adapter between the localiser and the feature baseline (its signature is changing: keep calls here)."""

from __future__ import annotations

import torch

from posekit.baselines.feature_matching import FeatureMatchingConfig, FeaturePoseResult, estimate_pose_pnp
from posekit.geometry.camera import PinholeIntrinsics


def pnp_query_to_keyframe(query: torch.Tensor, keyframe: torch.Tensor, keyframe_depth: torch.Tensor,
                          intrinsics: PinholeIntrinsics, config: FeatureMatchingConfig) -> FeaturePoseResult:
    """``T_query_keyframe`` by ORB + PnP-RANSAC with the keyframe's depth.

    Args:
        query, keyframe: ``(1, 3, H, W)`` colour in [0, 1]; keyframe_depth: ``(1, 1, H, W)`` metres.
    """
    return estimate_pose_pnp(query[0], keyframe[0], keyframe_depth[0], intrinsics, config)
