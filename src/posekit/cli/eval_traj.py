"""``posekit eval-traj GT EST``: APE or RPE of an estimated trajectory, as evo's ``evo_ape`` / ``evo_rpe``.

Formats: ``tum`` (both files TUM, associated by timestamp), ``kitti`` (both KITTI pose files, pose ``i``
against pose ``i``, or by the frame index column of 13-number files), ``euroc`` (GT an EuRoC ground-truth CSV, the estimate TUM, as evo). Prints the
statistics table, or with ``--json`` one JSON object with the keys rmse, mean, median, std, min, max, sse.
"""

from __future__ import annotations

import json
from enum import Enum
from pathlib import Path

import click

from posekit.metrics import (
    AlignmentType,
    MetricResult,
    PoseRelation,
    Trajectory,
    Unit,
    associate_trajectories,
    compute_ape,
    compute_rpe,
    read_euroc_csv,
    read_kitti,
    read_tum,
)
from posekit.metrics.sync import DEFAULT_MAX_DIFF
from posekit.metrics.trajectory_files import associate_kitti


class TrajectoryFormat(Enum):
    tum = "tum"
    kitti = "kitti"
    euroc = "euroc"


class TrajectoryMetric(Enum):
    ape = "ape"
    rpe = "rpe"


def load_trajectories(
    gt: Path, est: Path, file_format: TrajectoryFormat, max_diff: float
) -> tuple[Trajectory, Trajectory]:
    """Read GT and estimate in ``file_format`` and associate them (by timestamp where the format has them)."""
    if file_format is TrajectoryFormat.kitti:
        return associate_kitti(read_kitti(gt), read_kitti(est), str(gt), str(est))
    traj_gt = read_euroc_csv(gt) if file_format is TrajectoryFormat.euroc else read_tum(gt)
    return associate_trajectories(traj_gt, read_tum(est), max_diff=max_diff)


def format_table(result: MetricResult, title: str) -> str:
    """The statistics as an aligned two-column table under ``title``."""
    unit = f" ({result.unit})" if result.unit else ""
    lines = [f"{title}{unit}, {result.errors.numel()} values"]
    lines += [f"  {name:>6}  {value:.6f}" for name, value in result.statistics.items()]
    return "\n".join(lines)


@click.command("eval-traj")
@click.argument("gt", type=click.Path(dir_okay=False, path_type=Path))
@click.argument("est", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--format", "file_format", type=click.Choice([f.value for f in TrajectoryFormat]), default="tum",
    show_default=True, help="File format: tum, kitti, or euroc (GT = EuRoC CSV, estimate = TUM).",
)
@click.option(
    "--align", "alignment", type=click.Choice([a.value for a in AlignmentType]), default="none",
    show_default=True, help="Umeyama alignment of the estimate before the errors.",
)
@click.option("--n-align", type=click.IntRange(min=1), default=None, help="Align on the first N poses only.")
@click.option(
    "--metric", type=click.Choice([m.value for m in TrajectoryMetric]), default="ape", show_default=True,
    help="Absolute (ape) or relative (rpe) pose error.",
)
@click.option("--delta", type=float, default=1.0, show_default=True, help="RPE spacing of the pose pairs.")
@click.option(
    "--delta-unit", type=click.Choice([u.value for u in Unit]), default="frames", show_default=True,
    help="Unit of --delta: frames or m (path length).",
)
@click.option("--rotation", is_flag=True, help="Measure the rotation angle (deg) instead of the translation (m).")
@click.option("--all-pairs", is_flag=True, help="RPE: use all pairs at the spacing, not consecutive ones.")
@click.option(
    "--max-diff", type=float, default=DEFAULT_MAX_DIFF, show_default=True,
    help="Largest time difference (s) of associated poses (tum, euroc).",
)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object of the statistics.")
def command(
    gt: Path,
    est: Path,
    file_format: str,
    alignment: str,
    n_align: int | None,
    metric: str,
    delta: float,
    delta_unit: str,
    rotation: bool,
    all_pairs: bool,
    max_diff: float,
    as_json: bool,
) -> None:
    """Evaluate the trajectory EST against the ground truth GT (APE or RPE statistics)."""
    traj_gt, traj_est = load_trajectories(gt, est, TrajectoryFormat(file_format), max_diff)
    relation = PoseRelation.rotation_angle_deg if rotation else PoseRelation.translation_part
    align = AlignmentType(alignment)
    if TrajectoryMetric(metric) is TrajectoryMetric.ape:
        result = compute_ape(traj_gt, traj_est, relation, align, n_align)
        title = f"APE w.r.t. {relation.value}"
    else:
        result = compute_rpe(
            traj_gt, traj_est, relation, delta=delta, delta_unit=Unit(delta_unit), all_pairs=all_pairs,
            alignment=align, n_align=n_align,
        )
        pairs = "all pairs" if all_pairs else "consecutive pairs"
        title = f"RPE w.r.t. {relation.value}, delta = {delta:g} {delta_unit}, {pairs}"
    if as_json:
        click.echo(json.dumps(result.statistics))
    else:
        click.echo(format_table(result, f"{title}, alignment {align.value}"))
