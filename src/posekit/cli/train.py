"""``posekit train TASK``: train a model; every option is a flag and can come from ``--config FILE``."""

from __future__ import annotations

import click

from posekit.training.config import config_options, resolve_config
from posekit.training.posenet import PoseNetTrainConfig, train_posenet


@click.group("train")
def command() -> None:
    """Train a model (options: defaults < --config YAML < flags; the resolved config is saved in the run folder)."""


@command.command("posenet")
@config_options(PoseNetTrainConfig)
def posenet(config_path: str | None, **values) -> None:
    """Train PoseNet (absolute pose regression) on a dataset; writes RUN_DIR (--out) with config.yaml, logs/,
    checkpoints/{best,last}.ckpt and model.safetensors."""
    config = resolve_config(PoseNetTrainConfig, config_path, values)
    run_dir = train_posenet(config)
    click.echo(f"posekit: trained PoseNet; run folder {run_dir}")
