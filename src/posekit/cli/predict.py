"""``posekit predict posenet|relpose``: poses from images alone, no ground truth needed.

Input: ``--images DIR`` (a folder of images, one record) or ``--dataset FORMAT --data DIR`` with the held-out
frame options of ``posekit eval`` (default: the model's held-out frames; ``--test-frames`` picks others). Output:
``OUT/<task>/<record>.tum`` per record and ``OUT/<task>.csv`` (see :mod:`posekit.evaluation.predict`).
A relative-pose model chains consecutive frames; the first frame of each record is the identity.
"""

from __future__ import annotations

import json

import click

from posekit.cli.options import FORMATS, eval_frames_options, model_option


def _options(function):
    function = eval_frames_options()(function)
    function = click.option("--data", default=None, type=click.Path(exists=True, file_okay=False),
                            help="dataset folder (with --dataset)")(function)
    function = click.option("--dataset", "dataset_format", default=None, type=click.Choice(FORMATS),
                            help="dataset format (with --data)")(function)
    function = click.option("--images", default=None, type=click.Path(exists=True, file_okay=False),
                            help="a folder of images (sorted by name; timestamps from names like 1305031102.175.png)")(function)
    function = click.option("--json", "as_json", is_flag=True, help="print one JSON object")(function)
    function = click.option("--out", required=True, help="output folder: OUT/<task>/<record>.tum, OUT/<task>.csv")(function)
    return function


def _run(task, model_path, images, dataset_format, data, frames, out, as_json) -> None:
    from posekit.evaluation.predict import predict

    if (dataset_format is None) != (data is None):
        raise click.UsageError("--dataset and --data go together")
    if (images is None) == (data is None):
        raise click.UsageError("give either --images DIR or --dataset FORMAT --data DIR")
    summary = predict(task, model_path, out, images=images, dataset_format=dataset_format, data=data, frames=frames,
                      batch_size=frames.batch_size)
    if as_json:
        click.echo(json.dumps(summary))
        return
    click.echo(f"{task}: {summary['frames']} poses written to {out}")
    for record, path in summary["trajectories"].items():
        click.echo(f"  {record}: {path}")
    if "chaining" in summary:
        click.echo(f"  note: {summary['chaining']}")


@click.group("predict")
def command() -> None:
    """Predict camera poses from images with a trained model (no ground truth needed)."""


@command.command("posenet")
@model_option(required=True, help="a trained PoseNet (model.safetensors or a .ckpt)")
@_options
def posenet(model_path, images, dataset_format, data, frames, out, as_json) -> None:
    """Each image's camera-to-world pose, in the training data's world frame."""
    _run("posenet", model_path, images, dataset_format, data, frames, out, as_json)


@command.command("relpose")
@model_option(required=True, help="a trained relative-pose model (model.safetensors or a .ckpt)")
@_options
def relpose(model_path, images, dataset_format, data, frames, out, as_json) -> None:
    """Consecutive frames chained into a trajectory; the first frame of each record is the identity."""
    _run("relpose", model_path, images, dataset_format, data, frames, out, as_json)
