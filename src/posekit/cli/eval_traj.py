"""``posekit eval-traj GT EST``: APE, RPE or the KITTI devkit metric of an estimated trajectory, with evo's
options (``evo_ape`` / ``evo_rpe``; evo's underscore spellings such as ``--t_offset`` are accepted too).

Formats: ``tum``, ``kitti`` (13-number lines with frame indices allowed), ``euroc`` (GT an EuRoC CSV, the
estimate TUM). Prints the statistics table, or with ``--json`` one JSON object (rmse, mean, median, std, min,
max, sse; for ``--metric kitti`` the devkit numbers). ``--save-results`` writes the per-pose errors and
statistics (``.json`` / ``.npz``, read by ``posekit res``); ``--save-plot`` a PNG.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import click

from posekit.errors import TrajectoryError
from posekit.metrics import AlignmentType, KittiAlignment, PoseRelation, evaluate_kitti_odometry, save_record
from posekit.metrics.sync import DEFAULT_MAX_DIFF
from posekit.metrics.trajectory_files import TimestampOrder
from posekit.metrics.trajectory_eval import (
    RELATION_NAMES,
    UNIT_NAMES,
    SyncMethod,
    SyncOptions,
    TrajectoryFormat,
    error_positions,
    evaluate_trajectories,
    read_trajectory,
    synchronise,
)

METRICS = ("ape", "rpe", "kitti")
KITTI_ALIGNMENT = {
    AlignmentType.none: KittiAlignment.none,
    AlignmentType.se3: KittiAlignment.six_dof,
    AlignmentType.sim3: KittiAlignment.seven_dof,
    AlignmentType.scale: KittiAlignment.scale_7dof,
}


def format_table(statistics: dict[str, float], title: str, count: int | None = None) -> str:
    """The statistics as an aligned two-column table under ``title``."""
    lines = [title if count is None else f"{title}, {count} values"]
    lines += [f"  {name:>{max(6, len(name))}}  {value:.6f}" for name, value in statistics.items()]
    return "\n".join(lines)


def _kitti(traj_ref, traj_est, alignment: AlignmentType) -> tuple[dict[str, float], str]:
    result = evaluate_kitti_odometry(traj_ref, traj_est, KITTI_ALIGNMENT[alignment])
    numbers = {
        "translation_error_percent": result.translation_error_percent,
        "rotation_error_deg_per_100m": result.rotation_error_deg_per_100m,
        "ate": result.ate,
        "rpe_translation": result.rpe_translation,
        "rpe_rotation_deg": result.rpe_rotation_deg,
    }
    return numbers, f"KITTI odometry metric (devkit drift over 100-800 m; ATE, RPE), alignment {KITTI_ALIGNMENT[alignment].value}"


@click.command("eval-traj")
@click.argument("gt", type=click.Path(dir_okay=False, path_type=Path))
@click.argument("est", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--format", "file_format", type=click.Choice([f.value for f in TrajectoryFormat]), default="tum",
              show_default=True, help="File format: tum, kitti, or euroc (GT = EuRoC CSV, estimate = TUM).")
@click.option("--metric", type=click.Choice(METRICS), default="ape", show_default=True,
              help="Absolute (ape) or relative (rpe) pose error, or the KITTI devkit metric (kitti).")
@click.option("-r", "--pose-relation", "--pose_relation", "relation", type=click.Choice(list(RELATION_NAMES)),
              default=None, help="What is measured (evo's -r). Default trans_part.")
@click.option("--rotation", is_flag=True, help="Short for -r angle_deg.")
@click.option("-a", "--align", "alignment", type=click.Choice([a.value for a in AlignmentType]), default="none",
              show_default=True, help="Umeyama alignment of the estimate before the errors.")
@click.option("--align-origin", "--align_origin", "origin", is_flag=True,
              help="Move the estimate so that its first pose equals the GT's first pose.")
@click.option("--n-align", "--n_to_align", type=click.IntRange(min=1), default=None, help="Align on the first N poses only.")
@click.option("-d", "--delta", type=float, default=1.0, show_default=True, help="RPE spacing of the pose pairs.")
@click.option("-u", "--delta-unit", "--delta_unit", type=click.Choice(list(UNIT_NAMES)), default="f", show_default=True,
              help="Unit of --delta: f(rames), m (path length), d(eg) or r(ad) of rotation along the path.")
@click.option("--all-pairs", "--all_pairs", is_flag=True, help="RPE: all pairs at the spacing, not consecutive ones.")
@click.option("--pairs-from-reference", "--pairs_from_reference", is_flag=True,
              help="RPE: choose the pairs on the GT instead of the estimate.")
@click.option("--sync", type=click.Choice([s.value for s in SyncMethod]), default="nearest", show_default=True,
              help="Match stamps to the nearest (within --max-diff) or interpolate the GT at the estimate's stamps.")
@click.option("--max-diff", "--t_max_diff", type=float, default=DEFAULT_MAX_DIFF, show_default=True,
              help="Largest time difference (s) of associated poses (tum, euroc).")
@click.option("--t-offset", "--t_offset", type=float, default=0.0, show_default=True,
              help="Seconds added to the estimate's timestamps.")
@click.option("--timestamps", "timestamp_order", type=click.Choice([o.value for o in TimestampOrder]), default="repeats",
              show_default=True, help="Timestamp order a TUM/EuRoC file may have: repeats (never back; a repeated "
                                      "stamp is kept, as evo does), strict (increasing) or sort (sorted on reading).")
@click.option("--t-start", "--t_start", type=float, default=None, help="Use only poses at or after this time (s).")
@click.option("--t-end", "--t_end", type=float, default=None, help="Use only poses at or before this time (s).")
@click.option("--save-results", "--save_results", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Write per-pose errors + statistics (.json or .npz; read by `posekit res`).")
@click.option("--save-plot", "--save_plot", "--plot", "plot_path", type=click.Path(dir_okay=False, path_type=Path),
              default=None, help="Write trajectory + error plots as one PNG.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object of the statistics.")
def command(gt: Path, est: Path, file_format: str, metric: str, relation: str | None, rotation: bool, alignment: str,
            origin: bool, n_align: int | None, delta: float, delta_unit: str, all_pairs: bool,
            pairs_from_reference: bool, sync: str, max_diff: float, t_offset: float, t_start: float | None,
            t_end: float | None, timestamp_order: str, save_results: Path | None, plot_path: Path | None,
            as_json: bool) -> None:
    """Evaluate the trajectory EST against the ground truth GT (APE, RPE or KITTI statistics)."""
    if rotation and relation not in (None, "angle_deg"):
        raise TrajectoryError(f"--rotation means -r angle_deg; it contradicts -r {relation}")
    fmt = TrajectoryFormat(file_format)
    options = SyncOptions(SyncMethod(sync), max_diff, t_offset, t_start, t_end)
    order = TimestampOrder(timestamp_order)
    traj_ref, traj_est = read_trajectory(gt, fmt, True, order), read_trajectory(est, fmt, False, order)
    align = AlignmentType(alignment)
    if metric == "kitti":
        if fmt is not TrajectoryFormat.kitti or save_results or plot_path or origin:
            raise TrajectoryError(
                "--metric kitti needs --format kitti and prints the devkit numbers only (no --save-results, "
                "--save-plot, --align-origin)"
            )
        numbers, title = _kitti(traj_ref, traj_est, align)
        _check_finite(numbers)
        click.echo(json.dumps(numbers) if as_json else format_table(numbers, title))
        return
    traj_ref, traj_est = synchronise(traj_ref, traj_est, fmt, options)
    pose_relation = RELATION_NAMES["angle_deg" if rotation else relation or "trans_part"]
    evaluation = evaluate_trajectories(
        traj_ref, traj_est, metric, pose_relation, align, n_align, origin, delta, UNIT_NAMES[delta_unit],
        all_pairs, pairs_from_reference,
    )
    result = evaluation.result
    if save_results is not None:
        save_record(save_results, evaluation.record(str(gt), str(est), metric))
    if plot_path is not None:
        from posekit.viz.eval_traj_plots import save_evaluation_plot  # matplotlib only when asked for

        positions, x_values = error_positions(evaluation)
        save_evaluation_plot(
            plot_path, traj_ref.positions.numpy(), evaluation.traj_est_aligned.positions.numpy(),
            result.errors.numpy(), positions, x_values, "t (s)" if traj_ref.timestamps is not None else "pose index",
            evaluation.title, result.unit,
        )
    _check_finite(result.statistics)
    if as_json:
        click.echo(json.dumps(result.statistics))
    else:
        click.echo(format_table(result.statistics, evaluation.title, result.errors.numel()))


def _check_finite(statistics: dict[str, float]) -> None:
    """Refuse to print a non-finite statistic (``--json`` would not be JSON, a table would mislead)."""
    bad = [name for name, value in statistics.items() if not math.isfinite(value)]
    if bad:
        raise TrajectoryError(
            f"the {', '.join(bad)} of the errors overflowed to a non-finite number: the trajectories hold values "
            "too large to compare (check their units)"
        )


__all__ = ["PoseRelation", "command", "format_table"]
