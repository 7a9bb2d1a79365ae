"""What every training task shares: the trainer (loggers, checkpoints, seeding, devices), image sizing,
held-out split choice, the data loaders and augmentation, optimisers and schedules."""

from __future__ import annotations

import hashlib
from enum import Enum
from pathlib import Path

import lightning as L
import torch
from lightning.pytorch.callbacks import Callback, ModelCheckpoint
from lightning.pytorch.loggers import CSVLogger, TensorBoardLogger

from torch.utils.data import DataLoader, Dataset

from posekit.data import ColorJitter, DatasetIndex, FrameTransform, Split, SplitPolicy
from posekit.data.splits import assign_splits
from posekit.errors import ConfigError
from posekit.fileio import atomic_write_text
from posekit.runs import BEST_CHECKPOINT, CHECKPOINT_DIR, CHECKPOINT_SUFFIX, LAST_CHECKPOINT, LOGS_DIR
from posekit.training.checkpoints import AtomicCheckpointIO


class OptimizerKind(str, Enum):
    ADAM = "adam"
    SGD = "sgd"


class ScheduleKind(str, Enum):
    """Learning-rate schedule: constant, cosine decay to 1% over the run, or x0.1 at 2/3 of the epochs."""

    NONE = "none"
    COSINE = "cosine"
    STEP = "step"


def make_optimizer(parameters, kind: OptimizerKind, lr: float, weight_decay: float) -> torch.optim.Optimizer:
    """Adam, or SGD with momentum 0.9."""
    params = [p for p in parameters if p.requires_grad]
    if kind is OptimizerKind.ADAM:
        return torch.optim.Adam(params, lr=lr, weight_decay=weight_decay)
    return torch.optim.SGD(params, lr=lr, momentum=0.9, weight_decay=weight_decay)


def make_schedule(optimizer: torch.optim.Optimizer, kind: ScheduleKind, max_epochs: int):
    """A per-epoch learning-rate scheduler, or ``None``."""
    if kind is ScheduleKind.NONE:
        return None
    if kind is ScheduleKind.COSINE:
        return torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=max(1, max_epochs), eta_min=optimizer.defaults["lr"] * 0.01)
    return torch.optim.lr_scheduler.StepLR(optimizer, step_size=max(1, (2 * max_epochs) // 3), gamma=0.1)


def configure_optimization(parameters, config):
    """What a LightningModule's ``configure_optimizers`` returns for a task configuration (its ``optimizer``,
    ``lr``, ``weight_decay``, ``lr_schedule`` and ``max_epochs``): the optimiser, with its schedule if any."""
    optimizer = make_optimizer(parameters, config.optimizer, config.lr, config.weight_decay)
    schedule = make_schedule(optimizer, config.lr_schedule, config.max_epochs)
    return optimizer if schedule is None else {"optimizer": optimizer, "lr_scheduler": schedule}


def color_jitter(augment: bool) -> ColorJitter | None:
    """The training augmentation: colour jitter of brightness, contrast and saturation by up to 20%, or ``None``."""
    return ColorJitter(0.2, 0.2, 0.2) if augment else None


class SplitDataModule(L.LightningDataModule):
    """A training set and a held-out set, loaded as ``config`` says (``batch_size``, ``num_workers``); the
    training batches are shuffled and the last incomplete one dropped. Subclasses set ``train_set`` and ``val_set``."""

    train_set: Dataset
    val_set: Dataset

    def __init__(self, config):
        super().__init__()
        self.config = config

    def _loader(self, dataset: Dataset, shuffle: bool) -> DataLoader:
        return DataLoader(dataset, batch_size=self.config.batch_size, shuffle=shuffle, num_workers=self.config.num_workers,
                          persistent_workers=self.config.num_workers > 0,
                          drop_last=shuffle and len(dataset) > self.config.batch_size)

    def train_dataloader(self) -> DataLoader:
        return self._loader(self.train_set, shuffle=True)

    def val_dataloader(self) -> DataLoader:
        return self._loader(self.val_set, shuffle=False)


def cover_and_crop(index: DatasetIndex, height: int, width: int) -> FrameTransform:
    """Resize so the image covers ``height x width`` (aspect kept), then centre-crop to it.

    The stored size is read from the first frame's intrinsics (the index has every frame's).
    """
    if height <= 0 or width <= 0:
        raise ConfigError(f"image_size: expected positive H x W, got {height}x{width}")
    k = index.frames[0].intrinsics
    scale = max(height / k.height, width / k.width)
    resized = (max(height, round(k.height * scale)), max(width, round(k.width * scale)))
    return FrameTransform(resize=resized, crop=(height, width))


def held_out_split(index: DatasetIndex, policy: SplitPolicy, cache_dir: str | Path | None = None) -> Split:
    """The split to validate and evaluate on: ``test`` where there is one (7-Scenes, Cambridge, blocks), else ``val``."""
    names = assign_splits(index, policy, cache_dir=cache_dir, write=False).names
    return Split.TEST if Split.TEST in names else Split.VAL


def _digest(named_tensors) -> str:
    digest = hashlib.sha256()
    for name, tensor in sorted(named_tensors):
        digest.update(name.encode())
        digest.update(tensor.detach().cpu().contiguous().numpy().tobytes())
    return digest.hexdigest()


class WeightDigest(Callback):
    """At the end of fitting, every rank writes SHA-256 digests of its parameters and of its buffers
    (BatchNorm statistics) to ``RUN_DIR/ddp/rank<r>.sha256``, one ``name digest`` line each.

    With data-parallel training all ranks must end with identical weights; the files let a user (and the DDP
    test) check it.
    """

    def __init__(self, run_dir: str | Path):
        self.run_dir = Path(run_dir)

    def on_fit_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        lines = f"parameters {_digest(pl_module.named_parameters())}\nbuffers {_digest(pl_module.named_buffers())}\n"
        atomic_write_text(self.run_dir / "ddp" / f"rank{trainer.global_rank}.sha256", lines)


def make_trainer(
    run_dir: str | Path,
    task: str,
    *,
    monitor: str,
    max_epochs: int,
    max_steps: int = -1,
    devices: int = 1,
    strategy: str = "auto",
    accelerator: str = "auto",
    progress: bool = True,
    check_val_every_n_epoch: int = 1,
    extra_callbacks: list[Callback] | None = None,
    keep_best: bool = False,
    save_optimizer: bool = True,
) -> tuple[L.Trainer, ModelCheckpoint]:
    """A Lightning trainer writing into ``run_dir``: CSV and TensorBoard logs under ``logs/``, the last checkpoint
    (atomic; with ``keep_best`` also the best by ``monitor``; the optimiser state only with ``save_optimizer``)
    under ``checkpoints/``, and the per-rank weight digests."""
    run_dir = Path(run_dir)
    checkpoint = ModelCheckpoint(
        dirpath=run_dir / CHECKPOINT_DIR, filename=BEST_CHECKPOINT, monitor=monitor if keep_best else None, mode="min",
        save_last=True, save_top_k=1 if keep_best else 0, auto_insert_metric_name=False, enable_version_counter=False,
        save_weights_only=not save_optimizer,
    )
    loggers = [
        CSVLogger(save_dir=run_dir / LOGS_DIR, name=task),
        TensorBoardLogger(save_dir=run_dir / LOGS_DIR, name="tensorboard", default_hp_metric=False),
    ]
    trainer = L.Trainer(
        default_root_dir=run_dir,
        max_epochs=max_epochs,
        max_steps=max_steps,
        devices=devices,
        strategy=strategy,
        accelerator=accelerator,
        logger=loggers,
        callbacks=[checkpoint, WeightDigest(run_dir), *(extra_callbacks or [])],
        plugins=[AtomicCheckpointIO()],
        enable_progress_bar=progress,
        enable_model_summary=False,
        log_every_n_steps=1,
        check_val_every_n_epoch=check_val_every_n_epoch,
        num_sanity_val_steps=0,
        # With several GPU processes, BatchNorm statistics are synchronised too (SyncBatchNorm needs CUDA; on
        # CPU each rank keeps the running statistics of its own batches, while parameters stay identical).
        sync_batchnorm=devices > 1 and accelerator != "cpu" and torch.cuda.is_available(),
    )
    return trainer, checkpoint


def resolve_resume(run_dir: str | Path, resume: str | None) -> str | None:
    """``--resume``: ``None``, ``last`` (the run folder's last checkpoint) or a checkpoint path."""
    if resume is None:
        return None
    path = Path(run_dir) / CHECKPOINT_DIR / f"{LAST_CHECKPOINT}{CHECKPOINT_SUFFIX}" if resume == "last" else Path(resume)
    if not path.is_file():
        raise ConfigError(f"resume: checkpoint {path} not found")
    return str(path)
