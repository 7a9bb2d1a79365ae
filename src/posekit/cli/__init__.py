"""The ``posekit`` command. Each sub-command lives in its own module here and only parses arguments and
calls the library; bad input (any :class:`posekit.errors.PosekitError`) becomes a one-line message on stderr
and exit code 2.

Start-up is lazy: ``posekit --help`` lists the commands from :data:`COMMAND_HELP` without importing them, and
``posekit CMD`` imports only ``posekit.cli.<module of CMD>`` (so ``eval-traj`` never loads Lightning and
``--help`` never loads torch). ``--threads`` / ``POSEKIT_THREADS`` set the CPU threads before a heavy command.
"""

from __future__ import annotations

import importlib
import sys

import click

from posekit import __version__
from posekit.cli.threads import HEAVY_COMMANDS, LIGHT_SUBCOMMANDS, apply_threads
from posekit.errors import PosekitError

# Modules of this package that each define ``command`` (a click command or group), in help order.
COMMAND_MODULES = ("demo", "synth", "data", "train", "eval", "eval_traj", "traj", "res", "predict", "map", "localize", "fuse", "viz", "report")

# One line of help per command, shown by ``posekit --help`` without importing the command's module.
COMMAND_HELP = {
    "demo": "The whole toolkit on built-in data; `demo plane` for the geometry core alone.",
    "synth": "Render a synthetic dataset (scene, trajectory, exact depth and poses).",
    "data": "Inspect or validate a dataset folder.",
    "train": "Train a model (posenet, relpose, depth).",
    "eval": "Evaluate a trained model or a baseline on a dataset split.",
    "eval-traj": "APE, RPE or the KITTI metric of a trajectory file against ground truth (evo_ape/evo_rpe).",
    "traj": "Inspect, convert, transform and merge trajectory files (evo_traj).",
    "res": "Compare saved eval-traj results: a table and a plot (evo_res).",
    "map": "Build a map of a scene from posed frames (TSDF mesh + keyframes): `map build`.",
    "localize": "Localise query images against a map (retrieval, PnP, direct refinement).",
    "fuse": "Pose-graph fusion of absolute and relative estimates per record (gtsam).",
    "viz": "Figures and videos of a dataset.",
    "report": "One self-contained HTML report of a run folder.",
    "predict": "Poses from images alone (no ground truth needed).",
}


def command_name(module: str) -> str:
    """The command a module defines: its name with ``_`` read as ``-`` (``eval_traj`` -> ``eval-traj``)."""
    return module.replace("_", "-")


class _PosekitGroup(click.Group):
    """A click group that loads a sub-command's module only when the command runs, applies ``--threads``
    before heavy commands, and turns posekit's typed errors into a one-line message and exit code 2."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return [command_name(module) for module in COMMAND_MODULES]

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        modules = {command_name(module): module for module in COMMAND_MODULES}
        if cmd_name not in modules:
            return None
        return importlib.import_module(f"posekit.cli.{modules[cmd_name]}").command

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = [(name, COMMAND_HELP.get(name, "")) for name in self.list_commands(ctx)]
        with formatter.section("Commands"):
            formatter.write_dl(rows)

    def resolve_command(self, ctx: click.Context, args: list[str]):
        name, command, rest = super().resolve_command(ctx, args)
        light = bool(rest) and (name, rest[0]) in LIGHT_SUBCOMMANDS
        if name in HEAVY_COMMANDS and not light and not any(arg in ("-h", "--help") for arg in rest):
            apply_threads(ctx.params.get("threads"), announce=True)
        return name, command, rest

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except PosekitError as error:
            click.echo(f"posekit: error: {error}", err=True)
            ctx.exit(2)


@click.group(cls=_PosekitGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="posekit")
@click.option(
    "--threads", type=click.IntRange(min=1), default=None, envvar="POSEKIT_THREADS",
    help="CPU threads for heavy commands (train, eval, demo, synth, predict); env POSEKIT_THREADS. "
    "Default: 1 on a busy machine, else the idle cores (see docs/results.md).",
)
def cli(threads: int | None) -> None:
    """posekit: learned camera pose estimation (absolute pose, relative pose, depth)."""


def main(argv: list[str] | None = None) -> None:
    """Entry point of the ``posekit`` console script and ``python -m posekit``."""
    cli.main(args=argv if argv is not None else sys.argv[1:], prog_name="posekit")
