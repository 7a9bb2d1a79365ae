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



# Relative pose and depth (issue 6). Imported here, beside their commands, to keep this block self-contained.
from posekit.training.depth import DepthTrainConfig, train_depth  # noqa: E402
from posekit.training.relpose import RelativePoseTrainConfig, train_relpose  # noqa: E402


@command.command("relpose")
@config_options(RelativePoseTrainConfig)
def relpose(config_path: str | None, **values) -> None:
    """Train a relative-pose network (modes: supervised, photometric with sensor depth, monocular depth + pose);
    writes RUN_DIR (--out) with config.yaml, logs/, checkpoints/{best,last}.ckpt and model.safetensors."""
    config = resolve_config(RelativePoseTrainConfig, config_path, values)
    run_dir = train_relpose(config)
    click.echo(f"posekit: trained a {config.mode.value} relative-pose network; run folder {run_dir}")


@command.command("depth")
@config_options(DepthTrainConfig)
def depth(config_path: str | None, **values) -> None:
    """Train a depth network on sensor depth (masked L1 or scale-invariant log loss); writes RUN_DIR (--out) with
    config.yaml, logs/, checkpoints/{best,last}.ckpt and model.safetensors."""
    config = resolve_config(DepthTrainConfig, config_path, values)
    run_dir = train_depth(config)
    click.echo(f"posekit: trained a depth network; run folder {run_dir}")
