"""The ``posekit`` command. Each sub-command lives in its own module here and only parses arguments and
calls the library; bad input (any :class:`posekit.errors.PosekitError`) becomes a one-line message on stderr
and exit code 2.
"""

from __future__ import annotations

import importlib
import sys

import click

from posekit import __version__
from posekit.errors import PosekitError

# Modules of this package that each define ``command`` (a click command or group), in help order.
COMMAND_MODULES = ("demo", "synth", "data", "train", "eval", "eval_traj", "viz", "report", "map", "localize")


class _PosekitGroup(click.Group):
    """A click group that turns posekit's typed errors into a one-line message and exit code 2."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except PosekitError as error:
            click.echo(f"posekit: error: {error}", err=True)
            ctx.exit(2)


@click.group(cls=_PosekitGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="posekit")
def cli() -> None:
    """posekit: learned camera pose estimation (absolute pose, relative pose, depth)."""


for _name in COMMAND_MODULES:
    cli.add_command(importlib.import_module(f"posekit.cli.{_name}").command)


def main(argv: list[str] | None = None) -> None:
    """Entry point of the ``posekit`` console script and ``python -m posekit``."""
    cli.main(args=argv if argv is not None else sys.argv[1:], prog_name="posekit")
