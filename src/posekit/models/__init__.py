"""Networks: image backbones with ImageNet weights, PoseNet, relative-pose networks and depth networks.

Every network takes images as ``(B, C, H, W)`` floats in [0, 1] (RGB); the backbone normalises them for its
weights.
"""

from posekit.models.backbones import (
    DEFAULT_BACKBONE,
    Backbone,
    BackboneName,
    BatchNormMode,
    create_backbone,
    load_backbone_weights,
    parse_backbone_name,
)
from posekit.models.depth import DecoderKind, DepthNet, DepthOutput, disparity_to_depth
from posekit.errors import ConfigError
from posekit.models.posenet import PoseNet, PoseOutput, StereoPoseNet, StereoPoseOutput
from posekit.models.relpose import FusionMode, RelativePoseNet, RelativePoseOutput, relative_pose_net_on_encoder
from posekit.models.relpose_heads import CorrelationHead, PoseHeadKind, SpatialFusionHead

__all__ = [
    "DEFAULT_BACKBONE",
    "Backbone",
    "BackboneName",
    "BatchNormMode",
    "DecoderKind",
    "DepthNet",
    "DepthOutput",
    "FusionMode",
    "ConfigError",
    "CorrelationHead",
    "PoseHeadKind",
    "SpatialFusionHead",
    "PoseNet",
    "PoseOutput",
    "RelativePoseNet",
    "RelativePoseOutput",
    "StereoPoseNet",
    "StereoPoseOutput",
    "create_backbone",
    "disparity_to_depth",
    "load_backbone_weights",
    "parse_backbone_name",
    "relative_pose_net_on_encoder",
]
