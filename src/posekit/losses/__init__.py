"""Training losses: pose (PoseNet, learned weighting, geometric reprojection, relative pose), supervised depth,
edge-aware smoothness, the photometric error (``posekit.losses.photometric``) and the self-supervised objectives
built on it (``posekit.losses.selfsup``: known depth, monocular depth and pose)."""

from posekit.losses.depth import (
    DepthLossKind,
    SupervisedDepthLoss,
    masked_l1_depth_loss,
    scale_invariant_log_loss,
    valid_depth_mask,
)
from posekit.losses.pose import (
    GeometricReprojectionLoss,
    LearnedPoseLoss,
    Norm,
    PoseLossOutput,
    PoseNetLoss,
    RelativePoseLoss,
    RelativePoseLossKind,
    RobustKernel,
    quaternion_distance,
    sample_scene_points,
    vector_distance,
)
from posekit.losses.smoothness import edge_aware_smoothness

__all__ = [
    "DepthLossKind",
    "GeometricReprojectionLoss",
    "LearnedPoseLoss",
    "Norm",
    "PoseLossOutput",
    "PoseNetLoss",
    "RelativePoseLoss",
    "RelativePoseLossKind",
    "RobustKernel",
    "SupervisedDepthLoss",
    "edge_aware_smoothness",
    "masked_l1_depth_loss",
    "quaternion_distance",
    "sample_scene_points",
    "scale_invariant_log_loss",
    "valid_depth_mask",
    "vector_distance",
]
