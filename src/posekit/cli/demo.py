"""``posekit demo``: the geometry core at work on built-in data (a scikit-image photograph)."""

from __future__ import annotations

import click

from posekit.demo import SAMPLE_IMAGES, format_plane_demo, run_plane_demo


@click.command("demo")
@click.option("--image", "image_name", type=click.Choice(SAMPLE_IMAGES), default="astronaut", show_default=True,
              help="scikit-image sample photograph used as the plane's texture.")
@click.option("--size", default="320x240", show_default=True, help="image size WxH.")
def command(image_name: str, size: str) -> None:
    """Synthesise a second view of a textured plane with a known 6-DoF motion, then recover the motion from the
    two images and the depth alone by minimising the masked photometric error through the warp layer."""
    try:
        width, height = (int(v) for v in size.lower().split("x"))
    except ValueError:
        raise click.BadParameter(f"expected WxH, got {size!r}", param_hint="--size") from None
    click.echo(format_plane_demo(run_plane_demo(image_name, width, height)))
