"""``posekit eval TASK``: evaluate a trained model (or a baseline) on a dataset split."""

from __future__ import annotations

import json
from pathlib import Path

import click

from posekit.data import DatasetFormat
from posekit.models import BackboneName
from posekit.training.absolute_eval import evaluate_posenet, evaluate_retrieval
from posekit.training.common import CHECKPOINT_DIR

FORMATS = [f.value for f in DatasetFormat]
SUMMARY_KEYS = ("median_t_m", "median_r_deg", "mean_t_m", "mean_r_deg")


def run_folder_of(model_path: str | Path) -> Path:
    """The run folder a model file belongs to (``RUN/model.safetensors``, ``RUN/checkpoints/x.ckpt``)."""
    parent = Path(model_path).resolve().parent
    return parent.parent if parent.name == CHECKPOINT_DIR else parent


def echo_summary(title: str, summary: dict, as_json: bool) -> None:
    """Print an evaluation summary as a small table, or as one JSON object."""
    if as_json:
        click.echo(json.dumps(summary))
        return
    click.echo(title)
    for key, value in summary.items():
        click.echo(f"  {key:>18}: {value:.4f}" if isinstance(value, float) else f"  {key:>18}: {value}")


def _dataset_options(function):
    function = click.option("--data", required=True, type=click.Path(exists=True, file_okay=False), help="dataset folder")(function)
    function = click.option("--dataset", "dataset_format", required=True, type=click.Choice(FORMATS), help="dataset format")(function)
    function = click.option("--split", default=None, help="split to evaluate (default: the held-out one)")(function)
    function = click.option("--split-policy", default=None, help="auto or blocks:N:K (default: the model's)")(function)
    function = click.option("--cache-dir", default=None, help="transform cache folder")(function)
    function = click.option("--batch-size", default=32, show_default=True, type=int)(function)
    return click.option("--json", "as_json", is_flag=True, help="print one JSON object")(function)


@click.group("eval")
def command() -> None:
    """Evaluate a trained model or a baseline; results go to RUN_DIR/eval/<method>.{json,csv,tum}."""


@command.command("posenet")
@click.option("--checkpoint", required=True, type=click.Path(exists=True, dir_okay=False), help="model.safetensors or a .ckpt")
@click.option("--out", default=None, help="run folder to write eval/ into (default: the checkpoint's)")
@_dataset_options
def posenet(checkpoint, out, dataset_format, data, split, split_policy, cache_dir, batch_size, as_json) -> None:
    """Per-frame errors (CSV), predicted trajectory (TUM) and the summary (median/mean metres and degrees)."""
    out = out or run_folder_of(checkpoint)
    summary = evaluate_posenet(checkpoint, dataset_format, data, out, split=split, split_policy=split_policy,
                               batch_size=batch_size, cache_dir=cache_dir)
    echo_summary(f"PoseNet on {data} ({summary['split']}, {summary['frames']} frames); written to {Path(out) / 'eval'}", summary, as_json)


@command.command("retrieval")
@click.option("--checkpoint", default=None, type=click.Path(exists=True, dir_okay=False),
              help="use this PoseNet's backbone features (default: the ImageNet backbone)")
@click.option("--backbone", type=click.Choice([b.value for b in BackboneName]), default=BackboneName.EFFICIENTNET_LITE0.value, show_default=True)
@click.option("--weights", default=None, help="backbone weights file")
@click.option("--image-size", default="128x160", show_default=True, help="HxW")
@click.option("--out", default=None, help="run folder (default: the checkpoint's, else runs/retrieval)")
@_dataset_options
def retrieval(checkpoint, backbone, weights, image_size, out, dataset_format, data, split, split_policy, cache_dir,
              batch_size, as_json) -> None:
    """The retrieval baseline: each held-out image gets the pose of its nearest training image."""
    try:
        height, width = (int(v) for v in image_size.lower().split("x"))
    except ValueError:
        raise click.BadParameter(f"expected HxW, got {image_size!r}", param_hint="--image-size") from None
    out = out or (run_folder_of(checkpoint) if checkpoint else Path("runs") / "retrieval")
    summary = evaluate_retrieval(dataset_format, data, out, model_path=checkpoint, backbone=backbone, weights=weights,
                                 image_size=(height, width), split=split, split_policy=split_policy,
                                 batch_size=batch_size, cache_dir=cache_dir)
    echo_summary(f"Retrieval on {data} ({summary['split']}, {summary['frames']} frames); written to {Path(out) / 'eval'}", summary, as_json)
