"""``posekit eval TASK``: evaluate a trained model (or a baseline) on a dataset split."""

from __future__ import annotations

import json
from pathlib import Path

import click

from posekit.data import DatasetFormat
from posekit.evaluation.absolute import evaluate_posenet, evaluate_retrieval
from posekit.models import BackboneName
from posekit.runs import CHECKPOINT_DIR

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
    echo_summary(f"PoseNet on {data} ({summary['held_out']}, {summary['frames']} frames); written to {Path(out) / 'eval'}", summary, as_json)


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
    echo_summary(f"Retrieval on {data} ({summary['held_out']}, {summary['frames']} frames); written to {Path(out) / 'eval'}", summary, as_json)


# Relative pose and depth (issue 6). Imported here, beside their commands, to keep this block self-contained.
from posekit.baselines.direct_alignment import DirectAlignmentConfig  # noqa: E402
from posekit.evaluation.depth import evaluate_depth  # noqa: E402
from posekit.evaluation.relative import RelPoseEvalSettings, RelPoseMethod, evaluate_relpose  # noqa: E402


def _image_size(text: str | None, option: str = "--image-size") -> tuple[int, int] | None:
    if text is None:
        return None
    try:
        height, width = (int(v) for v in text.lower().replace(",", "x").split("x"))
    except ValueError:
        raise click.BadParameter(f"expected HxW, got {text!r}", param_hint=option) from None
    return height, width


def _frame_options(function):
    function = click.option("--data", required=True, type=click.Path(exists=True, file_okay=False), help="dataset folder")(function)
    function = click.option("--dataset", "dataset_format", required=True, type=click.Choice(FORMATS), help="dataset format")(function)
    function = click.option("--test-frames", default=None, help="held-out frames FIRST-LAST (default: the model's)")(function)
    function = click.option("--split-policy", default=None, help="auto or blocks:N:K (default: the model's)")(function)
    function = click.option("--records", default=None, help="comma-separated record ids (default: the model's)")(function)
    function = click.option("--image-size", default=None, help="evaluation size HxW (default: the model's)")(function)
    function = click.option("--cache-dir", default=None, help="transform cache folder")(function)
    function = click.option("--batch-size", default=16, show_default=True, type=int)(function)
    return click.option("--json", "as_json", is_flag=True, help="print one JSON object")(function)


@command.command("relpose")
@click.option("--checkpoint", default=None, type=click.Path(exists=True, dir_okay=False),
              help="a trained relative-pose model (model.safetensors or a .ckpt); not needed for the baselines")
@click.option("--method", "methods", multiple=True, type=click.Choice([m.value for m in RelPoseMethod]),
              help="estimator(s) to evaluate, repeatable [default: network with --checkpoint, else direct and orb_pnp]")
@click.option("--distances", default="1,5,10", show_default=True, help="frame distances of the pairs")
@click.option("--primary-distance", default=None, type=int, help="distance of the top-level numbers and the trajectory")
@click.option("--direct-levels", default=3, show_default=True, type=int, help="pyramid levels of the direct alignment")
@click.option("--direct-iterations", default=30, show_default=True, type=int, help="iterations per level of the direct alignment")
@click.option("--out", default=None, help="run folder (default: the checkpoint's, else runs/relpose-baselines)")
@_frame_options
def relpose(checkpoint, methods, distances, primary_distance, direct_levels, direct_iterations, out, dataset_format,
            data, test_frames, split_policy, records, image_size, cache_dir, batch_size, as_json) -> None:
    """RPE (m, deg; rmse and median) over held-out pairs at each distance, the chained trajectory (TUM) and its
    ATE, depth metrics for monocular models; eval/<method>.{json,csv,tum,gt.tum} per method."""
    try:
        distance_values = tuple(int(d) for d in distances.split(",") if d.strip())
    except ValueError:
        raise click.BadParameter(f"expected comma-separated integers, got {distances!r}", param_hint="--distances") from None
    chosen = tuple(RelPoseMethod(m) for m in methods) or (
        (RelPoseMethod.NETWORK,) if checkpoint else (RelPoseMethod.DIRECT, RelPoseMethod.ORB_PNP))
    settings = RelPoseEvalSettings(
        methods=chosen, distances=distance_values, primary_distance=primary_distance, image_size=_image_size(image_size),
        test_frames=test_frames, split_policy=split_policy, records=records, batch_size=batch_size, cache_dir=cache_dir,
        direct=DirectAlignmentConfig(levels=direct_levels, iterations=direct_iterations),
    )
    out = out or (run_folder_of(checkpoint) if checkpoint else Path("runs") / "relpose-baselines")
    summaries = evaluate_relpose(dataset_format, data, out, settings, model_path=checkpoint)
    if as_json:
        click.echo(json.dumps(summaries))
        return
    for method, summary in summaries.items():
        title = (f"{method} on {data} ({summary['held_out']}, {summary['pairs']} pairs at distance {summary['distance']}); "
                 f"written to {Path(out) / 'eval'}")
        echo_summary(title, {k: v for k, v in summary.items() if k != "by_distance" and not isinstance(v, (list, dict))}, False)
        for d, values in summary["by_distance"].items():
            click.echo(f"  distance {d:>3}: {values['pairs']:4d} pairs, t rmse {values['rpe_t_rmse_m']:.4f} m "
                       f"median {values['rpe_t_median_m']:.4f} m, r rmse {values['rpe_r_rmse_deg']:.3f} deg "
                       f"median {values['rpe_r_median_deg']:.3f} deg")


@command.command("depth")
@click.option("--checkpoint", required=True, type=click.Path(exists=True, dir_okay=False), help="a trained depth model")
@click.option("--out", default=None, help="run folder to write eval/ into (default: the checkpoint's)")
@_frame_options
def depth(checkpoint, out, dataset_format, data, test_frames, split_policy, records, image_size, cache_dir, batch_size,
          as_json) -> None:
    """Depth metrics (AbsRel, SqRel, RMSE, RMSE log, delta < 1.25^k) as predicted and median-scaled."""
    out = out or run_folder_of(checkpoint)
    summary = evaluate_depth(checkpoint, dataset_format, data, out, test_frames=test_frames, split_policy=split_policy,
                             records=records, image_size=_image_size(image_size), batch_size=batch_size, cache_dir=cache_dir)
    echo_summary(f"Depth on {data} ({summary['held_out']}, {summary['images']} images); written to {Path(out) / 'eval'}",
                 summary, as_json)
