"""The options every training task shares (:class:`TrainerOptions`), declared once with one help text each, and
the :func:`option` helper every configuration field is declared with.

A task configuration is ``TaskConfig(TrainerOptions, FrameDataConfig)`` (:mod:`posekit.training.frame_data` has
the dataset options) and declares only what differs: its own fields, and the shared fields whose default differs,
as ``option(new_default)`` without a help text (the shared one and the shared checks are used;
:func:`~posekit.training.config.field_help`).

Each field declares its valid values (``check=``, run by :func:`~posekit.training.config.resolve_config` on every
flag, YAML key and saved configuration), the checks of the machine (``host_check=``, run by :func:`check_run`
when training starts) and whether it is a likely cause of a diverging loss (``stability=True``: the options the
divergence message names, :func:`~posekit.training.config.stability_options`).

Example:
    >>> from dataclasses import dataclass
    >>> @dataclass
    ... class ToyConfig(TrainerOptions):
    ...     max_epochs: int = option(3)
    >>> from posekit.training.config import field_help
    >>> field_help(ToyConfig, "max_epochs")
    'epochs'
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from enum import Enum
from typing import Any

from posekit.errors import ConfigError
from posekit.models import Backbone, BackboneName, create_backbone
from posekit.training.common import OptimizerKind, ScheduleKind
from posekit.training.config import (
    AT_LEAST_ONE, EXISTING_FILE, FOLDER, NON_NEGATIVE, POSITIVE, UNLIMITED_OR_POSITIVE, Check, check_host, in_range,
    option_name,
)
from posekit.training.run_export import ExportChoice


class GreyImages(str, Enum):
    """What a run does with grey datasets (KITTI odometry's ``image_0``): ``replicate`` decodes every image as RGB,
    so a grey image becomes 3 equal channels (Pillow's ``L`` to ``RGB``) for the 3-channel ImageNet encoders, in
    training and evaluation alike (:func:`~posekit.training.common.cover_and_crop`). Recorded in ``config.yaml``."""

    REPLICATE = "replicate"


def option(default: Any, help: str | None = None, *, check: Check | tuple[Check, ...] | None = None,  # noqa: A002
           host_check: Check | tuple[Check, ...] | None = None, stability: bool = False) -> Any:
    """A configuration field: its default, its ``--help`` text (``None``: the text of the field it overrides), the
    checks of its value (``check``) and of the machine (``host_check``), and ``stability``: whether the divergence
    message names it. An override without checks keeps those of the field it overrides."""
    metadata: dict[str, Any] = {} if help is None else {"help": help}
    if check is not None:
        metadata["check"] = check
    if host_check is not None:
        metadata["host_check"] = host_check
    if stability:
        metadata["stability"] = True
    return dataclasses.field(default=default, metadata=metadata)


def lightning_accelerators() -> set[str]:
    """Accelerator names Lightning knows (``auto``, ``gpu`` and its registry: cpu, cuda, mps, tpu)."""
    from lightning.pytorch.accelerators import AcceleratorRegistry

    return {"auto", "gpu", *AcceleratorRegistry.available_accelerators()}


def lightning_strategies() -> set[str]:
    """Strategy names Lightning knows (``auto`` and its registry: ddp, ddp_spawn, fsdp, ...)."""
    from lightning.pytorch.strategies import StrategyRegistry

    return {"auto", *StrategyRegistry.available_strategies()}


def accelerator_available(name: str) -> bool:
    """Whether this machine has the accelerator ``name`` (``auto`` and ``cpu`` always)."""
    import torch

    if name in ("auto", "cpu"):
        return True
    if name == "gpu":
        return torch.cuda.is_available() or torch.backends.mps.is_available()
    from lightning.pytorch.accelerators import AcceleratorRegistry

    return bool(AcceleratorRegistry[name]["accelerator"].is_available())


ACCELERATOR = Check(lambda v: v in lightning_accelerators(), "one of auto, cpu, gpu, cuda, mps, tpu")
STRATEGY = Check(lambda v: v in lightning_strategies(), "auto or a Lightning strategy (ddp, ddp_spawn, fsdp, ...)")
AVAILABLE_ACCELERATOR = Check(accelerator_available, "an accelerator this machine has (none found; use cpu or auto)")
SEED = in_range(0, 2**32 - 1)


@dataclass
class TrainerOptions:
    """Options of every training task: the backbone's initialisation, the optimiser and schedule, the run
    (folder, seed, devices, resume) and which weights are exported."""

    backbone: BackboneName = option(BackboneName.EFFICIENTNET_LITE0, "image encoder")
    pretrained: bool = option(True, "start the backbone from ImageNet weights (else random)")
    weights: str | None = option(None, "backbone weights file instead of ImageNet's (torchvision .pth for ResNets); "
                                       "refused with --no-pretrained", host_check=EXISTING_FILE)
    optimizer: OptimizerKind = option(OptimizerKind.ADAM, "adam, adamw (decoupled weight decay), or sgd with momentum 0.9")
    lr: float = option(1e-4, "learning rate", check=POSITIVE, stability=True)
    weight_decay: float = option(0.0, "weight decay", check=NON_NEGATIVE)
    lr_schedule: ScheduleKind = option(ScheduleKind.NONE, "none, cosine (to 1%) or step (x0.1 at 2/3 of the epochs)")
    max_epochs: int = option(10, "epochs", check=AT_LEAST_ONE)
    max_steps: int = option(-1, "stop after this many steps (-1: no limit)", check=UNLIMITED_OR_POSITIVE)
    augment: bool = option(False, "random colour jitter after the cache (the same for all images of a sample)")
    export: ExportChoice = option(ExportChoice.LAST, "weights to export: last, or best (selected on the validation frames, --val-frames)")
    keep_best: bool = option(False, "also keep checkpoints/best.ckpt, selected on the validation frames (needs --val-frames)")
    early_stop_patience: int = option(0, "stop when the validation loss has not improved for this many validations "
                                         "(0: off; needs --val-frames)", check=NON_NEGATIVE)
    save_optimizer: bool = option(False, "save the optimiser state in the checkpoints (3x larger with Adam; needed for an exact --resume)")
    seed: int = option(0, "random seed", check=SEED)
    out: str = option("runs/run", "run folder", host_check=FOLDER)
    devices: int = option(1, "devices (processes) to train on", check=AT_LEAST_ONE)
    strategy: str = option("auto", "Lightning strategy (auto, ddp, ...)", check=STRATEGY)
    accelerator: str = option("auto", "Lightning accelerator (auto, cpu, gpu)", check=ACCELERATOR,
                              host_check=AVAILABLE_ACCELERATOR)
    resume: str | None = option(None, "checkpoint to resume from, or 'last' (the newest complete checkpoint of --out)")
    progress: bool = option(True, "show progress bars")
    grey_images: GreyImages = option(GreyImages.REPLICATE, "grey (1-channel) images: replicated to 3 channels, as "
                                                         "the ImageNet encoders expect (the only mode)")


def check_run(config: Any) -> None:
    """Every check of a configuration about to train on this machine: its values, its ``host_check`` fields (files,
    folders, accelerator) and the combinations they cannot be in.

    Raises:
        ConfigError: naming the option.
    """
    check_host(config)
    if getattr(config, "weights", None) is not None and not config.pretrained:
        raise ConfigError(f"{option_name('weights')}: a weights file with --no-pretrained would be ignored (the "
                          "backbone starts random): drop --no-pretrained to load it, or drop --weights")
    if getattr(config, "accelerator", "auto") in ("gpu", "cuda"):
        import torch

        if config.devices > torch.cuda.device_count():
            raise ConfigError(f"{option_name('devices')}: {config.devices} requested, this machine has "
                              f"{torch.cuda.device_count()} CUDA device(s)")


def create_task_backbone(options: TrainerOptions, load_weights: bool, **kwargs: Any) -> Backbone:
    """The backbone of ``options``; ImageNet (or ``options.weights``) weights only when ``load_weights`` and
    ``options.pretrained`` (``load_weights=False`` when a checkpoint's weights follow). ``kwargs`` go to
    :func:`~posekit.models.create_backbone` (``in_channels``, ``batchnorm``)."""
    load = load_weights and options.pretrained
    return create_backbone(options.backbone, pretrained=load, weights_path=options.weights if load else None,
                           progress=options.progress, **kwargs)
