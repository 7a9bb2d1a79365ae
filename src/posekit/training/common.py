"""What every training task shares: the trainer (loggers, checkpoints, seeding, devices), image sizing,
held-out split choice, the data loaders and augmentation, optimisers and schedules."""

from __future__ import annotations

import hashlib
import sys
from enum import Enum
from pathlib import Path

import lightning as L
import torch
from lightning.pytorch.callbacks import Callback, ModelCheckpoint
from lightning.pytorch.loggers import CSVLogger, TensorBoardLogger

from torch.utils.data import DataLoader, Dataset

from posekit.data import ColorJitter, DatasetIndex, FrameTransform, Split, SplitPolicy
from posekit.data.imaging import ImageMode
from posekit.data.splits import assign_splits
from posekit.errors import CheckpointError, ConfigError
from posekit.fileio import atomic_write_text
from posekit.runs import BEST_CHECKPOINT, CHECKPOINT_DIR, CHECKPOINT_SUFFIX, LAST_CHECKPOINT, LOGS_DIR
from posekit.training.checkpoints import AtomicCheckpointIO, check_checkpoint


class OptimizerKind(str, Enum):
    ADAM = "adam"
    ADAMW = "adamw"
    SGD = "sgd"


class ScheduleKind(str, Enum):
    """Learning-rate schedule: constant, cosine decay to 1% over the run, or x0.1 at 2/3 of the epochs."""

    NONE = "none"
    COSINE = "cosine"
    STEP = "step"


def make_optimizer(parameters, kind: OptimizerKind, lr: float, weight_decay: float) -> torch.optim.Optimizer:
    """Adam (weight decay as an L2 term), AdamW (decoupled weight decay), or SGD with momentum 0.9."""
    params = [p for p in parameters if p.requires_grad]
    if kind is OptimizerKind.ADAM:
        return torch.optim.Adam(params, lr=lr, weight_decay=weight_decay)
    if kind is OptimizerKind.ADAMW:
        return torch.optim.AdamW(params, lr=lr, weight_decay=weight_decay)
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
    """Resize so the image covers ``height x width`` (aspect kept), then centre-crop to it; images are decoded
    as RGB, so grey datasets (KITTI's ``image_0``) give 3 equal channels for the ImageNet encoders
    (:class:`~posekit.training.options.GreyImages`).

    The stored size is read from the first frame's intrinsics (the index has every frame's).
    """
    if height <= 0 or width <= 0:
        raise ConfigError(f"image_size: expected positive H x W, got {height}x{width}")
    k = index.frames[0].intrinsics
    scale = max(height / k.height, width / k.width)
    resized = (max(height, round(k.height * scale)), max(width, round(k.width * scale)))
    return FrameTransform(resize=resized, crop=(height, width), image_mode=ImageMode.RGB)


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


class DivergenceGuard(Callback):
    """Stops training when the loss stops being finite, before the optimiser step applies it, and refuses to
    write a checkpoint holding non-finite weights: the checkpoints under their final names stay the last good
    ones, and nothing is exported.

    Args:
        hint: the options likely to blame, with their values (``lr=0.1, feature_dim=2048``), for the message.
        run_dir: the run folder (the message says which checkpoint is left).
    """

    def __init__(self, hint: str = "", run_dir: str | Path | None = None):
        self.hint = hint
        self.run_dir = None if run_dir is None else Path(run_dir)

    def on_before_backward(self, trainer: L.Trainer, pl_module: L.LightningModule, loss: torch.Tensor) -> None:
        # every rank decides together: one rank stopping alone would leave the others waiting in the all-reduce
        here = bool(torch.isfinite(loss.detach()).all())
        if not trainer.strategy.reduce_boolean_decision(here, all=True):
            value = "another process's loss is not finite" if here else f"the loss is {loss.detach().float().flatten()[0].item()}"
            raise ConfigError(
                f"training diverged: {value} at step "
                f"{trainer.global_step} (epoch {trainer.current_epoch}); stopped before that update. "
                f"Likely options: {self.hint or 'lr'}: lower --lr first. Kept: {self._kept()}"
            )

    def on_save_checkpoint(self, trainer: L.Trainer, pl_module: L.LightningModule, checkpoint: dict) -> None:
        bad = next((name for name, value in checkpoint.get("state_dict", {}).items()
                    if torch.is_tensor(value) and value.is_floating_point() and not bool(torch.isfinite(value).all())), None)
        if bad is not None:
            raise ConfigError(
                f"training diverged: weight {bad} is not finite at step {trainer.global_step} (epoch "
                f"{trainer.current_epoch}); no checkpoint written. Likely options: {self.hint or 'lr'}: lower --lr "
                f"first. Kept: {self._kept()}"
            )

    def _kept(self) -> str:
        if self.run_dir is None:
            return "the checkpoints written before"
        folder = self.run_dir / CHECKPOINT_DIR
        names = sorted(p.name for p in folder.glob(f"*{CHECKPOINT_SUFFIX}")) if folder.is_dir() else []
        return f"{', '.join(str(folder / n) for n in names)} (resume with --resume last)" if names else "no checkpoint yet"


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
    divergence_hint: str = "",
    keep_best: bool = False,
    save_optimizer: bool = True,
) -> tuple[L.Trainer, ModelCheckpoint]:
    """A Lightning trainer writing into ``run_dir``: CSV and TensorBoard logs under ``logs/``, the last checkpoint
    (atomic; with ``keep_best`` also the best by ``monitor``; the optimiser state only with ``save_optimizer``)
    under ``checkpoints/``, the per-rank weight digests, and a :class:`DivergenceGuard` (``divergence_hint``: the
    options its message names)."""
    run_dir = Path(run_dir)
    common = dict(dirpath=run_dir / CHECKPOINT_DIR, auto_insert_metric_name=False, enable_version_counter=False,
                  save_weights_only=not save_optimizer)
    if keep_best:
        checkpoint = ModelCheckpoint(filename=BEST_CHECKPOINT, monitor=monitor, mode="min", save_last=True, save_top_k=1,
                                     **common)
    else:  # only last.ckpt, rewritten at every epoch end (Lightning writes no "last" file when it keeps no top-k)
        checkpoint = ModelCheckpoint(filename=LAST_CHECKPOINT, monitor=None, save_last=False, save_top_k=1, **common)
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
        callbacks=[DivergenceGuard(divergence_hint, run_dir), checkpoint, WeightDigest(run_dir), *(extra_callbacks or [])],
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


def resolve_resume(run_dir: str | Path, resume: str | None, kind: str | None = None,
                   module: torch.nn.Module | None = None, require_optimizer_state: bool = False) -> str | None:
    """``--resume``: ``None``, ``last`` or a checkpoint path, checked before Lightning reads it.

    The checkpoint goes through :func:`~posekit.training.checkpoints.check_checkpoint` (the check ``posekit eval``
    uses too): read with ``weights_only=True`` (a pickle never runs), of the model ``kind``, with the weights of
    ``module`` (names and shapes). ``last`` is the newest complete checkpoint of the run folder: ``last.ckpt``,
    or ``best.ckpt`` when ``last.ckpt`` is missing or unreadable (a kill during its first write), said on stderr.

    With ``require_optimizer_state`` the chosen checkpoint must hold the optimiser state (Lightning cannot resume
    without it; checked on the dictionary already read, so the file is read once here).

    Raises:
        CheckpointError: the checkpoint (or, for ``last``, every one of the run folder) is missing, corrupt,
            foreign or of another network.
        ConfigError: ``require_optimizer_state`` and the chosen checkpoint holds none.
    """
    if resume is None:
        return None
    if resume != "last":
        _check_optimizer_state(resume, check_checkpoint(resume, kind, module), require_optimizer_state)
        return str(resume)
    folder = Path(run_dir) / CHECKPOINT_DIR
    last = folder / f"{LAST_CHECKPOINT}{CHECKPOINT_SUFFIX}"
    candidates = {}
    problems = []
    for path in (last, folder / f"{BEST_CHECKPOINT}{CHECKPOINT_SUFFIX}"):
        try:
            candidates[path] = check_checkpoint(path, kind, module)
        except CheckpointError as error:
            problems.append(str(error))
    if not candidates:
        raise CheckpointError(f"resume last: no complete checkpoint in {folder} ({'; '.join(problems)})")
    newest = max(candidates, key=lambda p: (candidates[p].get("global_step", -1), p == last))
    if newest != last:
        reason = problems[0] if problems else f"{last} is older"
        print(f"posekit: --resume last: {reason}; resuming from {newest} (the newest complete checkpoint, "
              f"step {candidates[newest].get('global_step', '?')})", file=sys.stderr)
    _check_optimizer_state(newest, candidates[newest], require_optimizer_state)
    return str(newest)


def _check_optimizer_state(path: str | Path, state: dict, required: bool) -> None:
    """Refuse a checkpoint saved without optimiser state when one is ``required``."""
    if required and "optimizer_states" not in state:
        raise ConfigError(f"resume: {path} holds no optimiser state; train with --save-optimizer to resume exactly "
                          f"(or start a new run from the exported model)")
