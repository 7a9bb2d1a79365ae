"""``posekit res FILE...``: compare saved evaluation results (``eval-traj --save-results`` files, and evo's
``--save_results`` zips): one table of their statistics, optionally a CSV and a box plot (evo's ``evo_res``)."""

from __future__ import annotations

import json
from pathlib import Path

import click

from posekit.errors import TrajectoryError
from posekit.fileio import atomic_write_text
from posekit.metrics.results import load_record

STATS = ("rmse", "mean", "median", "std", "min", "max", "sse")


@click.command("res")
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--save-table", "--save_table", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Also write the table as CSV.")
@click.option("--save-plot", "--save_plot", "--plot", "plot_path", type=click.Path(dir_okay=False, path_type=Path),
              default=None, help="Box plot of the errors of each result (PNG).")
@click.option("--json", "as_json", is_flag=True, help="One JSON object: {file: statistics}.")
def command(paths: tuple[Path, ...], save_table: Path | None, plot_path: Path | None, as_json: bool) -> None:
    """One row per result file: its statistics (and the number of errors)."""
    records = [load_record(path) for path in paths]
    units = {record.unit for record in records}
    if len({(record.metric, record.pose_relation) for record in records}) > 1:
        click.echo("posekit: warning: the results measure different things; compare with care", err=True)
    labels = [path.stem for path in paths]
    if len(set(labels)) < len(labels):
        labels = [str(path) for path in paths]
    if as_json:
        click.echo(json.dumps({label: r.statistics for label, r in zip(labels, records)}))
    else:
        width = max(len(label) for label in labels)
        click.echo(f"{'result':<{width}}  " + "  ".join(f"{s:>11}" for s in STATS) + f"  {'values':>7}  unit")
        for label, record in zip(labels, records):
            values = "  ".join(f"{record.statistics.get(s, float('nan')):>11.6f}" for s in STATS)
            click.echo(f"{label:<{width}}  {values}  {record.errors.size:>7}  {record.unit}")
    if save_table is not None:
        rows = ["result," + ",".join(STATS) + ",values,unit"]
        rows += [f"{label}," + ",".join(repr(r.statistics.get(s, float('nan'))) for s in STATS) + f",{r.errors.size},{r.unit}"
                 for label, r in zip(labels, records)]
        atomic_write_text(save_table, "\n".join(rows) + "\n")
    if plot_path is not None:
        if any(record.errors.size == 0 for record in records):
            raise TrajectoryError("--save-plot needs the per-pose errors in every result file")
        from posekit.viz.eval_traj_plots import save_comparison_plot  # matplotlib only when asked for

        save_comparison_plot(plot_path, labels, [r.errors for r in records], units.pop() if len(units) == 1 else "")
