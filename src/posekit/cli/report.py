"""``posekit report RUN [RUN ...]``: one self-contained HTML file of a training/evaluation run, or of several
runs side by side (shared tables, trajectories and error plots; options that differ; each run's curves); of a
map folder (``posekit map build``: its points and keyframe cameras in the 3-D view, its manifest); or of a
``posekit localize`` run (the map with the estimated and true trajectories, render-and-compare panels)."""

from __future__ import annotations

import click

from posekit.viz import DisplayUpAxis, write_report


@click.command("report")
@click.argument("run_dirs", metavar="RUN [RUN ...]", nargs=-1, required=True,
                type=click.Path(exists=True, file_okay=False))
@click.option("--out", default=None, type=click.Path(dir_okay=False),
              help="HTML file (default RUN/report.html; required with several runs)")
@click.option("--up", type=click.Choice([u.value for u in DisplayUpAxis]), default="auto", show_default=True, help="world up axis")
@click.option("--title", default=None, help="page title")
def command(run_dirs, out, up, title) -> None:
    """Configuration, metric tables, figures and an interactive 3-D trajectory view, with images embedded:
    opens without a server and without network access. With several RUN folders, one comparison page: methods
    named RUN/METHOD in shared tables, one 3-D view and shared error plots, the options whose values differ,
    and each run's training curves. A map folder (MAP): its geometry (at most 50 000 coloured points) and
    keyframe cameras in the 3-D view, and its manifest. A localize run folder: its summary, the map with the
    estimated and ground-truth trajectories, error plots, and query | rendering | difference panels."""
    target = run_dirs[0] if len(run_dirs) == 1 else list(run_dirs)
    click.echo(f"wrote {write_report(target, out, up=DisplayUpAxis(up), title=title)}")
