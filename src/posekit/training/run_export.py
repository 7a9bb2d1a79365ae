"""Fitting a LightningModule into a run folder, exporting it at the end, and loading it back, for every task
(PoseNet, relative pose, depth: the modules whose hyper-parameters hold ``{posekit_kind, config, ...}``).

By default the **last** weights are exported and only ``checkpoints/last.ckpt`` is kept, without the optimiser
state (``--save-optimizer`` adds it: an exact ``--resume`` needs it). A "best" checkpoint (``--keep-best``,
``--export best``) is chosen on the **validation** frames (``--val-frames``), never on the test frames: without
validation frames both are refused.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Callable
from enum import Enum
from pathlib import Path
from typing import TypeVar

import lightning as L
import torch
from lightning.pytorch.callbacks import EarlyStopping, ModelCheckpoint

from posekit.errors import CheckpointError, ConfigError
from posekit.runs import CONFIG_FILE, EXPORTED_MODEL
from posekit.training.checkpoints import KIND_KEY, export_model, load_lightning_checkpoint, load_model_file
from posekit.training.common import make_trainer, resolve_resume
from posekit.training.config import save_config, stability_options

ModuleT = TypeVar("ModuleT", bound=L.LightningModule)

# Lightning's advertisements ("💡 Tip: ... litlogger / litmodels"), logged at INFO through this logger.
LIGHTNING_INFO_LOGGER = "lightning.pytorch.utilities.rank_zero"
ADVERT_PREFIX = "💡 Tip:"
# A deprecation inside Lightning (its pytree helper builds torch's deprecated LeafSpec): nothing a user can act on.
LIGHTNING_DEPRECATION = r"`isinstance\(treespec, LeafSpec\)` is deprecated"


class DropAdverts(logging.Filter):
    """Drops Lightning's advertisement records; every other record passes."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not record.getMessage().startswith(ADVERT_PREFIX)


def quiet_third_party() -> None:
    """Silence, precisely, what a user cannot act on during training: Lightning's adverts (a filter on its info
    logger) and its internal use of torch's deprecated ``LeafSpec`` (a warning filter on that message only)."""
    logger = logging.getLogger(LIGHTNING_INFO_LOGGER)
    if not any(isinstance(f, DropAdverts) for f in logger.filters):
        logger.addFilter(DropAdverts())
    warnings.filterwarnings("ignore", message=LIGHTNING_DEPRECATION, category=FutureWarning)


class ExportChoice(str, Enum):
    """Which weights become ``model.safetensors``: the last epoch's, or the best on the held-out frames."""

    LAST = "last"
    BEST = "best"


def export_run_model(run_dir: str | Path, kind: str, module: L.LightningModule, checkpoint: ModelCheckpoint,
                     choice: ExportChoice) -> Path:
    """Write ``run_dir/model.safetensors`` from the module's last weights or the best checkpoint."""
    state = module.state_dict()
    if choice is ExportChoice.BEST and checkpoint.best_model_path:
        state = load_lightning_checkpoint(checkpoint.best_model_path, kind)["state_dict"]
    path = Path(run_dir) / EXPORTED_MODEL
    export_model(path, kind, state, {k: v for k, v in module.hparams.items() if k != KIND_KEY})
    return path


def fit_and_export(config, kind: str, module: L.LightningModule, data: L.LightningDataModule, monitor: str) -> Path:
    """Fit ``module`` on ``data`` into ``config.out`` (saving the resolved config first) and export the weights
    chosen by ``config.export``. ``config`` is a task configuration with the usual trainer fields (out,
    max_epochs, max_steps, devices, strategy, accelerator, progress, resume, export)."""
    quiet_third_party()
    run_dir = Path(config.out)
    keep_best = bool(getattr(config, "keep_best", False)) or config.export is ExportChoice.BEST
    if keep_best and getattr(config, "val_frames", None) is None:
        raise ConfigError("export best / keep_best choose weights on the validation frames: give val_frames "
                          "(--val-frames; the test frames are never used for model selection)")
    resume = resolve_resume(run_dir, config.resume, kind, module, require_optimizer_state=True)
    stopping = early_stopping(config, monitor)
    trainer, checkpoint = make_trainer(
        run_dir, kind, monitor=monitor, max_epochs=config.max_epochs, max_steps=config.max_steps,
        devices=config.devices, strategy=config.strategy, accelerator=config.accelerator, progress=config.progress,
        divergence_hint=stability_options(config), keep_best=keep_best,
        save_optimizer=bool(getattr(config, "save_optimizer", True)), extra_callbacks=stopping,
    )
    if trainer.is_global_zero:
        save_config(config, run_dir / CONFIG_FILE)
    trainer.fit(module, datamodule=data, ckpt_path=resume)
    if trainer.is_global_zero:
        export_run_model(run_dir, kind, module, checkpoint, config.export)
    return run_dir


def early_stopping(config, monitor: str) -> list[EarlyStopping]:
    """``[EarlyStopping]`` on ``monitor`` (lower is better) when ``config.early_stop_patience`` > 0, else ``[]``.

    Raises:
        ConfigError: early stopping without validation frames (``val_frames``): the test frames never decide
            when training ends.
    """
    patience = int(getattr(config, "early_stop_patience", 0))
    if patience <= 0:
        return []
    if getattr(config, "val_frames", None) is None:
        raise ConfigError("early_stop_patience: early stopping watches the validation frames: give val_frames "
                          "(--val-frames; the test frames never decide when training ends)")
    return [EarlyStopping(monitor=monitor, mode="min", patience=patience)]


def load_trained_module(path: str | Path, kind: str, build: Callable[[dict], ModuleT]) -> ModuleT:
    """Load ``model.safetensors`` or a ``.ckpt`` of ``kind``: ``build(metadata)`` makes the module (without
    initial weights) from the file's metadata (``config`` and what else the module saved as hyper-parameters),
    the file's weights are loaded strictly; the module is returned in eval mode.

    Raises:
        CheckpointError: the file is corrupt, of another kind, or does not fit its configuration.
    """
    exported = load_model_file(path, kind)
    try:
        module = build(exported.metadata)
    except (KeyError, TypeError) as error:
        raise CheckpointError(f"{path}: no usable {kind} configuration in the file ({error})") from error
    try:
        module.load_state_dict(exported.state_dict, strict=True)
    except RuntimeError as error:
        raise CheckpointError(f"{path}: the weights do not fit the configured network ({error})") from error
    return module.eval()
