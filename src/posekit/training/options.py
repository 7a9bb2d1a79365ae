"""The options every training task shares (:class:`TrainerOptions`), declared once with one help text each, and
the :func:`option` helper every configuration field is declared with.

A task configuration is ``TaskConfig(TrainerOptions, FrameDataConfig)`` (:mod:`posekit.training.frame_data` has
the dataset options) and declares only what differs: its own fields, and the shared fields whose default differs,
as ``option(new_default)`` without a help text (the shared one is used;
:func:`~posekit.training.config.field_help`).

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
from typing import Any

from posekit.models import Backbone, BackboneName, create_backbone
from posekit.training.common import OptimizerKind, ScheduleKind
from posekit.training.run_export import ExportChoice


def option(default: Any, help: str | None = None) -> Any:  # noqa: A002 (the name users see)
    """A configuration field: its default and its ``--help`` text (``None``: the text of the field it overrides)."""
    return dataclasses.field(default=default, metadata={} if help is None else {"help": help})


@dataclass
class TrainerOptions:
    """Options of every training task: the backbone's initialisation, the optimiser and schedule, the run
    (folder, seed, devices, resume) and which weights are exported."""

    backbone: BackboneName = option(BackboneName.EFFICIENTNET_LITE0, "image encoder")
    pretrained: bool = option(True, "start the backbone from ImageNet weights (else random)")
    weights: str | None = option(None, "backbone weights file instead of ImageNet's (torchvision .pth for ResNets)")
    optimizer: OptimizerKind = option(OptimizerKind.ADAM, "adam, or sgd with momentum 0.9")
    lr: float = option(1e-4, "learning rate")
    weight_decay: float = option(0.0, "weight decay")
    lr_schedule: ScheduleKind = option(ScheduleKind.NONE, "none, cosine (to 1%) or step (x0.1 at 2/3 of the epochs)")
    max_epochs: int = option(10, "epochs")
    max_steps: int = option(-1, "stop after this many steps (-1: no limit)")
    augment: bool = option(False, "random colour jitter after the cache (the same for all images of a sample)")
    export: ExportChoice = option(ExportChoice.LAST, "weights to export: last, or best (selected on the validation frames, --val-frames)")
    keep_best: bool = option(False, "also keep checkpoints/best.ckpt, selected on the validation frames (needs --val-frames)")
    save_optimizer: bool = option(False, "save the optimiser state in the checkpoints (3x larger with Adam; needed for an exact --resume)")
    seed: int = option(0, "random seed")
    out: str = option("runs/run", "run folder")
    devices: int = option(1, "devices (processes) to train on")
    strategy: str = option("auto", "Lightning strategy (auto, ddp, ...)")
    accelerator: str = option("auto", "Lightning accelerator (auto, cpu, gpu)")
    resume: str | None = option(None, "checkpoint to resume from, or 'last'")
    progress: bool = option(True, "show progress bars")


def create_task_backbone(options: TrainerOptions, load_weights: bool, **kwargs: Any) -> Backbone:
    """The backbone of ``options``; ImageNet (or ``options.weights``) weights only when ``load_weights`` and
    ``options.pretrained`` (``load_weights=False`` when a checkpoint's weights follow). ``kwargs`` go to
    :func:`~posekit.models.create_backbone` (``in_channels``, ``batchnorm``)."""
    load = load_weights and options.pretrained
    return create_backbone(options.backbone, pretrained=load, weights_path=options.weights if load else None,
                           progress=options.progress, **kwargs)
