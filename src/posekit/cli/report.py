"""``posekit report RUN_DIR``: one self-contained HTML file of a training/evaluation run."""

from __future__ import annotations

import click

from posekit.viz import DisplayUpAxis, write_report


@click.command("report")
@click.argument("run_dir", type=click.Path(exists=True, file_okay=False))
@click.option("--out", default=None, type=click.Path(dir_okay=False), help="HTML file (default RUN_DIR/report.html)")
@click.option("--up", type=click.Choice([u.value for u in DisplayUpAxis]), default="auto", show_default=True, help="world up axis")
@click.option("--title", default=None, help="page title")
def command(run_dir, out, up, title) -> None:
    """Configuration, metric tables, figures and an interactive 3-D trajectory view, with images embedded:
    opens without a server and without network access."""
    click.echo(f"wrote {write_report(run_dir, out, up=DisplayUpAxis(up), title=title)}")
