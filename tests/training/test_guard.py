"""Training guards (issue 11): a non-finite loss stops training and keeps the last good checkpoint, no checkpoint
with non-finite weights is ever written, and the one checkpoint check of ``--resume`` and ``eval`` refuses
corrupt, foreign and code-carrying files; ``--resume last`` falls back to the newest complete checkpoint."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import lightning as L
import pytest
import torch
from torch.utils.data import DataLoader, TensorDataset

from posekit.errors import CheckpointError, ConfigError
from posekit.runs import CHECKPOINT_DIR
from posekit.training.checkpoints import AtomicCheckpointIO, check_checkpoint, load_model_file
from posekit.training.common import make_trainer, resolve_resume
from posekit.training.config import resolve_config, stability_options
from posekit.training.posenet import PoseNetTrainConfig
from posekit.training.relpose import RelativePoseTrainConfig

KIND = "toy"


class ToyModule(L.LightningModule):
    """A linear model whose loss turns NaN from step ``nan_loss_at`` on, or whose weight turns NaN (with a finite
    loss) at step ``nan_weight_at``."""

    def __init__(self, nan_loss_at: int | None = None, nan_weight_at: int | None = None):
        super().__init__()
        self.save_hyperparameters({"posekit_kind": KIND})
        self.layer = torch.nn.Linear(2, 1)
        self.bias = torch.nn.Parameter(torch.ones(()))
        self.nan_loss_at, self.nan_weight_at = nan_loss_at, nan_weight_at

    def training_step(self, batch, batch_idx):
        (x,) = batch
        if self.nan_weight_at is not None and self.global_step >= self.nan_weight_at:
            with torch.no_grad():
                self.layer.weight.fill_(float("nan"))
            return self.bias**2
        loss = (self.layer(x) ** 2).mean() + self.bias**2
        if self.nan_loss_at is not None and self.global_step >= self.nan_loss_at:
            loss = loss * float("nan")
        return loss

    def validation_step(self, batch, batch_idx):
        self.log("val/loss", (self.layer(batch[0]) ** 2).mean())

    def configure_optimizers(self):
        return torch.optim.SGD(self.parameters(), lr=0.01)


def _fit(tmp_path: Path, module: ToyModule, max_epochs: int = 4, keep_best: bool = True) -> None:
    data = DataLoader(TensorDataset(torch.randn(4, 2)), batch_size=2)  # 2 steps per epoch
    trainer, _ = make_trainer(tmp_path, KIND, monitor="val/loss", max_epochs=max_epochs, progress=False,
                              accelerator="cpu", divergence_hint="lr=0.01", keep_best=keep_best, save_optimizer=True)
    trainer.fit(module, train_dataloaders=data, val_dataloaders=data)


def _all_finite(path: Path) -> bool:
    state = torch.load(path, weights_only=True)["state_dict"]
    return all(bool(torch.isfinite(v).all()) for v in state.values())


def test_a_nan_loss_stops_training_and_keeps_the_last_good_checkpoint(tmp_path):
    module = ToyModule(nan_loss_at=3)  # epoch 0 (steps 0, 1) is good; step 3 in epoch 1 diverges
    with pytest.raises(ConfigError, match=r"diverged: the loss is nan at step 3 .*Likely options: lr=0\.01") as info:
        _fit(tmp_path, module)
    assert "\n" not in str(info.value)
    assert "last.ckpt" in str(info.value)
    checkpoints = sorted(p.name for p in (tmp_path / CHECKPOINT_DIR).iterdir())
    assert checkpoints == ["best.ckpt", "last.ckpt"]
    last = tmp_path / CHECKPOINT_DIR / "last.ckpt"
    assert torch.load(last, weights_only=True)["global_step"] == 2
    assert _all_finite(last) and _all_finite(tmp_path / CHECKPOINT_DIR / "best.ckpt")
    assert all(bool(torch.isfinite(p).all()) for p in module.parameters())  # stopped before the NaN update


def test_by_default_last_ckpt_alone_is_kept_after_every_epoch(tmp_path):
    with pytest.raises(ConfigError, match=r"diverged: the loss is nan at step 3 .*Kept: .*last\.ckpt"):
        _fit(tmp_path, ToyModule(nan_loss_at=3), keep_best=False)
    assert sorted(p.name for p in (tmp_path / CHECKPOINT_DIR).iterdir()) == ["last.ckpt"]
    assert torch.load(tmp_path / CHECKPOINT_DIR / "last.ckpt", weights_only=True)["global_step"] == 2


def test_a_checkpoint_with_nan_weights_is_never_written(tmp_path):
    with pytest.raises(ConfigError, match=r"weight layer\.weight is not finite .*no checkpoint written"):
        _fit(tmp_path, ToyModule(nan_weight_at=1))
    folder = tmp_path / CHECKPOINT_DIR
    assert not folder.exists() or not any(p.suffix == ".ckpt" for p in folder.iterdir())


def test_the_divergence_message_names_each_task_s_likely_options():
    assert stability_options(PoseNetTrainConfig()) == "lr=0.0001, feature_dim=2048, loss=learned, beta=512.0"
    relpose = stability_options(RelativePoseTrainConfig())
    for name in ("lr=", "output_scale=", "beta=", "ssim_weight=", "smoothness_weight="):
        assert name in relpose


# -- checkpoint checks -------------------------------------------------------------------------------------


def _checkpoint(path: Path, kind: str | None = KIND, step: int = 5, module: torch.nn.Module | None = None) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    state = (module or ToyModule()).state_dict()
    torch.save({"state_dict": state, "hyper_parameters": {"posekit_kind": kind} if kind else {}, "global_step": step}, path)
    return path


class _RunsCode:
    """A pickle that would create ``marker`` when unpickled."""

    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self):
        return (Path.touch, (self.marker,))


def test_corrupt_foreign_and_code_carrying_checkpoints_give_one_line(tmp_path):
    good = _checkpoint(tmp_path / "good.ckpt")
    assert check_checkpoint(good, KIND, ToyModule())["global_step"] == 5

    truncated = tmp_path / "truncated.ckpt"
    truncated.write_bytes(good.read_bytes()[:100])
    garbage = tmp_path / "garbage.ckpt"
    garbage.write_bytes(os.urandom(300))
    marker = tmp_path / "pwned"
    pickled = tmp_path / "pickled.ckpt"
    torch.save({"state_dict": {}, "payload": _RunsCode(marker)}, pickled)
    tensor = tmp_path / "tensor.ckpt"
    torch.save(torch.zeros(3), tensor)
    foreign = _checkpoint(tmp_path / "foreign.ckpt", kind="depth")
    no_kind = _checkpoint(tmp_path / "no_kind.ckpt", kind=None)
    other_net = _checkpoint(tmp_path / "other.ckpt", module=torch.nn.Sequential(torch.nn.Linear(3, 3)))

    cases = {
        truncated: "not a readable checkpoint", garbage: "not a readable checkpoint",
        pickled: "refused, loading it would run code", tensor: "no state_dict",
        foreign: "found a 'depth' model", no_kind: "found no posekit model", other_net: "do not fit this network",
        tmp_path / "missing.ckpt": "not found",
    }
    for path, message in cases.items():
        with pytest.raises(CheckpointError) as info:
            check_checkpoint(path, KIND, ToyModule())
        text = str(info.value)
        assert message in text and str(path) in text and "\n" not in text, text
        if path != other_net:  # the evaluation path uses the same check (load_trained_module checks the fit)
            with pytest.raises(CheckpointError):
                load_model_file(path, KIND)
    assert not marker.exists()


def test_resume_last_falls_back_to_the_newest_complete_checkpoint(tmp_path, capsys):
    folder = tmp_path / CHECKPOINT_DIR
    best = _checkpoint(folder / "best.ckpt", step=4)
    last = folder / "last.ckpt"
    # a kill during the first write of last.ckpt: the final name holds nothing, a stale temporary beside it
    assert resolve_resume(tmp_path, "last", KIND, ToyModule()) == str(best)
    assert "resuming from" in capsys.readouterr().err
    last.write_bytes(b"\x80\x02truncated")
    assert resolve_resume(tmp_path, "last", KIND, ToyModule()) == str(best)
    err = capsys.readouterr().err
    assert "last.ckpt" in err and "best.ckpt" in err
    _checkpoint(last, step=6)
    assert resolve_resume(tmp_path, "last", KIND, ToyModule()) == str(last)
    assert capsys.readouterr().err == ""
    best.write_bytes(b"")
    last.write_bytes(b"")
    with pytest.raises(CheckpointError, match="no complete checkpoint"):
        resolve_resume(tmp_path, "last", KIND, ToyModule())
    with pytest.raises(CheckpointError, match="not found"):
        resolve_resume(tmp_path, str(tmp_path / "nope.ckpt"), KIND)


def test_the_next_checkpoint_write_removes_stale_temporaries(tmp_path):
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    stale = tmp_path / f".last.ckpt.{int(dead.stdout)}.abc123.tmp"
    stale.write_bytes(b"partial")
    AtomicCheckpointIO().save_checkpoint({"state_dict": {}}, tmp_path / "last.ckpt")
    assert not stale.exists()
    assert (tmp_path / "last.ckpt").is_file()


def test_a_saved_configuration_is_checked_when_read_back():
    with pytest.raises(ConfigError, match="--batch-size"):
        resolve_config(PoseNetTrainConfig, None, {"batch_size": 0})
    # host checks (files, folders, devices) are not run on a configuration read back from a model file
    config = resolve_config(PoseNetTrainConfig, None, {"weights": "/nonexistent.pth", "accelerator": "gpu"})
    assert config.weights == "/nonexistent.pth"


class _FlatValidation(ToyModule):
    """Validation loss that never improves: early stopping must end training after ``patience`` more checks."""

    def validation_step(self, batch, batch_idx):
        self.log("val/loss", torch.tensor(1.0))


def test_early_stopping_watches_the_validation_frames_only(tmp_path):
    from types import SimpleNamespace

    from posekit.training.run_export import early_stopping

    assert early_stopping(SimpleNamespace(early_stop_patience=0, val_frames=None), "val/loss") == []
    with pytest.raises(ConfigError, match="early_stop_patience: .*val_frames"):
        early_stopping(SimpleNamespace(early_stop_patience=2, val_frames=None), "val/loss")
    callbacks = early_stopping(SimpleNamespace(early_stop_patience=2, val_frames="10-19"), "val/loss")
    data = DataLoader(TensorDataset(torch.randn(4, 2)), batch_size=2)
    trainer, _ = make_trainer(tmp_path, KIND, monitor="val/loss", max_epochs=20, progress=False, accelerator="cpu",
                              extra_callbacks=callbacks)
    trainer.fit(_FlatValidation(), train_dataloaders=data, val_dataloaders=data)
    assert trainer.current_epoch == 3  # epoch 0 sets the best, epochs 1 and 2 do not improve: stop


def test_early_stop_patience_is_an_option_of_every_training_task():
    for config in (PoseNetTrainConfig, RelativePoseTrainConfig):
        assert resolve_config(config, None, {"early_stop_patience": 3}).early_stop_patience == 3
        with pytest.raises(ConfigError, match="early_stop_patience"):
            resolve_config(config, None, {"early_stop_patience": -1})
