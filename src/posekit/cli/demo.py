"""``posekit demo``: the whole toolkit on built-in data, and ``posekit demo plane`` for the geometry core alone."""

from __future__ import annotations

from pathlib import Path

import click

from posekit.cli.options import IMAGE_SIZE, IMAGE_SIZE_HELP
from posekit.demo.plane import SAMPLE_IMAGES, format_plane_demo, run_plane_demo

DEMO_HELP = """Render a synthetic scene (train and test trajectories), train a small PoseNet and a small
relative-pose network on CPU, evaluate both against the retrieval and classical baselines, build a TSDF map of
the training trajectories and localise the test trajectory in it (full demo only: --quick skips map + localize,
which take a minute or more), write the HTML report, and print one line per result and the report's path. Run it again into the same folder: the earlier
demo's output there is replaced (its rendered scene re-used).

\b
The same on a real dataset (here the 7-Scenes layout; see `posekit data info` for the formats):
  posekit train posenet --dataset 7scenes --data PATH --out runs/posenet
  posekit eval posenet --model runs/posenet/model.safetensors --dataset 7scenes --data PATH
  posekit eval retrieval --dataset 7scenes --data PATH --out runs/posenet
  posekit train relpose --dataset 7scenes --data PATH --out runs/relpose
  posekit eval relpose --model runs/relpose/model.safetensors --dataset 7scenes --data PATH
  posekit map build --dataset 7scenes --data PATH --records seq-01,seq-02 --out runs/map
  posekit localize --map runs/map --dataset 7scenes --data PATH --records seq-03 --out runs/localize
  posekit report runs/posenet
"""


@click.group("demo", invoke_without_command=True, help=DEMO_HELP)
@click.option("--out", default="runs/demo", show_default=True, type=click.Path(file_okay=False),
              help="run folder: new, empty, or an earlier demo's (replaced)")
@click.option("--seed", default=0, show_default=True, type=int)
@click.option("--quick", is_flag=True, help="the smallest settings: every step in seconds, numbers meaningless")
@click.option("--progress/--no-progress", default=True, help="progress bars for the long steps")
@click.pass_context
def command(ctx: click.Context, out: str, seed: int, quick: bool, progress: bool) -> None:
    if ctx.invoked_subcommand is not None:
        return
    from posekit.demo.pipeline import DemoConfig, run_demo

    settings = dict(out=Path(out), seed=seed, progress=progress)
    result = run_demo(DemoConfig.quick(**settings) if quick else DemoConfig(**settings), echo=click.echo)
    click.echo("\nposekit demo results (test data never seen in training):")
    for line in result.lines:
        click.echo(f"  {line}")
    click.echo(f"report: {result.report}")


@command.command("plane")
@click.option("--image", "image_name", type=click.Choice(SAMPLE_IMAGES), default="astronaut", show_default=True,
              help="scikit-image sample photograph used as the plane's texture.")
@click.option("--size", type=IMAGE_SIZE, default="240x320", show_default=True, help=f"image size {IMAGE_SIZE_HELP}.")
def plane(image_name: str, size: tuple[int, int]) -> None:
    """The geometry core alone: synthesise a second view of a textured plane with a known 6-DoF motion, then
    recover the motion from the two images and the depth by minimising the masked photometric error through
    the warp layer."""
    height, width = size
    click.echo(format_plane_demo(run_plane_demo(image_name, width, height)))
