"""``posekit eval TASK``: evaluate a trained model (or a baseline) on held-out frames.

Every task takes the same options (:mod:`posekit.cli.options`): ``--model`` (an exported model), ``--dataset``
and ``--data``, the held-out frames (``--split``, ``--test-frames``, ``--records``, ``--image-size``,
``--held-out``) and ``--out``/``--json``; ``posekit eval traj`` is ``posekit eval-traj``.
"""

from __future__ import annotations

import json
from pathlib import Path

import click

from posekit.cli.eval_traj import command as eval_traj_command
from posekit.cli.options import dataset_options, eval_frames_options, model_option, output_options
from posekit.evaluation.methods import RelativePoseMethod
from posekit.models import BackboneName
from posekit.runs import CHECKPOINT_DIR, EVAL_DIR


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
        if isinstance(value, (dict, list)):
            continue
        click.echo(f"  {key:>18}: {value:.4f}" if isinstance(value, float) else f"  {key:>18}: {value}")
    for name, values in summary.get("baselines", {}).items():
        if "median_t_m" in values:
            numbers = f"median {values['median_t_m']:.4f} m, {values['median_r_deg']:.3f} deg"
        else:
            numbers = f"RPE median {values['rpe_t_median_m']:.4f} m, {values['rpe_r_median_deg']:.3f} deg"
        click.echo(f"  baseline {name}: {numbers}")
    for record, statistics in summary.get("ate_per_record", summary.get("ate_per_segment", {})).items():
        click.echo(f"  ATE {record}: rmse {statistics['rmse']:.4f} m, median {statistics['median']:.4f} m")


def _title(task: str, data: str, summary: dict, out: Path, count: str) -> str:
    return f"{task} on {data} ({summary['held_out']}, {count}); written to {out / EVAL_DIR}"


@click.group("eval")
def command() -> None:
    """Evaluate a trained model or a baseline; results go to RUN_DIR/eval/<method>.{json,csv,tum}."""


command.add_command(eval_traj_command, "traj")


@command.command("posenet")
@model_option(required=True, help="a trained PoseNet (model.safetensors or a .ckpt)")
@dataset_options
@eval_frames_options()
@output_options("the model's run folder")
def posenet(model_path, dataset_format, data, frames, out, as_json) -> None:
    """Per-frame errors (CSV), predicted trajectory per record (TUM) and the summary (median/mean metres and
    degrees), with the mean training pose and the nearest training frame by ground truth (an oracle) beside."""
    from posekit.evaluation.absolute import evaluate_posenet

    out = Path(out or run_folder_of(model_path))
    summary = evaluate_posenet(dataset_format, data, out, model_path, frames)
    echo_summary(_title("PoseNet", data, summary, out, f"{summary['frames']} frames"), summary, as_json)


@command.command("retrieval")
@model_option(required=False, help="use this PoseNet's backbone features (default: the ImageNet backbone)")
@click.option("--backbone", type=click.Choice([b.value for b in BackboneName]), default=BackboneName.EFFICIENTNET_LITE0.value,
              show_default=True, help="ImageNet backbone (without --model)")
@click.option("--weights", default=None, help="backbone weights file (without --model)")
@dataset_options
@eval_frames_options()
@output_options("the model's run folder, else runs/retrieval")
def retrieval(model_path, backbone, weights, dataset_format, data, frames, out, as_json) -> None:
    """The retrieval baseline: each held-out image gets the pose of its nearest training image."""
    from posekit.evaluation.absolute import evaluate_retrieval

    out = Path(out or (run_folder_of(model_path) if model_path else Path("runs") / "retrieval"))
    summary = evaluate_retrieval(dataset_format, data, out, model_path, frames, backbone=backbone, weights=weights)
    echo_summary(_title("Retrieval", data, summary, out, f"{summary['frames']} frames"), summary, as_json)


@command.command("relpose")
@model_option(required=False, help="a trained relative-pose model (model.safetensors or a .ckpt); not needed for the baselines")
@click.option("--method", "methods", multiple=True, type=click.Choice([m.value for m in RelativePoseMethod]),
              help="estimator(s) to evaluate, repeatable [default: network with --model, else direct and orb_pnp]")
@click.option("--distances", default="1,5,10", show_default=True, help="frame distances of the pairs, comma-separated")
@click.option("--primary-distance", default=None, type=int, help="distance of the top-level numbers and the trajectory")
@click.option("--direct-levels", default=3, show_default=True, type=int, help="pyramid levels of the direct alignment")
@click.option("--direct-iterations", default=30, show_default=True, type=int, help="iterations per level of the direct alignment")
@dataset_options
@eval_frames_options()
@output_options("the model's run folder, else runs/relpose-baselines")
def relpose(model_path, methods, distances, primary_distance, direct_levels, direct_iterations, dataset_format, data,
            frames, out, as_json) -> None:
    """RPE (m, deg; rmse and median) over held-out pairs at each distance with zero motion and constant velocity
    beside, the chained trajectory per segment (TUM, as estimated) and its ATE, depth metrics for monocular
    models; eval/<method>.{json,csv} and eval/<method>/<segment>.tum per method."""
    from posekit.baselines.direct_alignment import DirectAlignmentConfig
    from posekit.evaluation.relative import RelativePoseEvalSettings, evaluate_relpose

    try:
        distance_values = tuple(int(d) for d in distances.split(",") if d.strip())
    except ValueError:
        raise click.BadParameter(f"expected comma-separated integers, got {distances!r}", param_hint="--distances") from None
    chosen = tuple(RelativePoseMethod(m) for m in methods) or (
        (RelativePoseMethod.NETWORK,) if model_path else (RelativePoseMethod.DIRECT, RelativePoseMethod.ORB_PNP))
    settings = RelativePoseEvalSettings(methods=chosen, distances=distance_values, primary_distance=primary_distance,
                                   direct=DirectAlignmentConfig(levels=direct_levels, iterations=direct_iterations))
    out = Path(out or (run_folder_of(model_path) if model_path else Path("runs") / "relpose-baselines"))
    summaries = evaluate_relpose(dataset_format, data, out, model_path, frames, settings=settings)
    if as_json:
        click.echo(json.dumps(summaries))
        return
    for method, summary in summaries.items():
        count = f"{summary['pairs']} pairs at distance {summary['distance']}"
        echo_summary(_title(method, data, summary, out, count), summary, False)
        for d, values in summary["by_distance"].items():
            click.echo(f"  distance {d:>3}: {values['pairs']:4d} pairs, t rmse {values['rpe_t_rmse_m']:.4f} m "
                       f"median {values['rpe_t_median_m']:.4f} m, r rmse {values['rpe_r_rmse_deg']:.3f} deg "
                       f"median {values['rpe_r_median_deg']:.3f} deg")


@command.command("depth")
@model_option(required=True, help="a trained depth model (model.safetensors or a .ckpt)")
@dataset_options
@eval_frames_options()
@output_options("the model's run folder")
def depth(model_path, dataset_format, data, frames, out, as_json) -> None:
    """Depth metrics (AbsRel, SqRel, RMSE, RMSE log, delta < 1.25^k) as predicted and median-scaled."""
    from posekit.evaluation.depth import evaluate_depth

    out = Path(out or run_folder_of(model_path))
    summary = evaluate_depth(dataset_format, data, out, model_path, frames)
    echo_summary(_title("Depth", data, summary, out, f"{summary['images']} images"), summary, as_json)
