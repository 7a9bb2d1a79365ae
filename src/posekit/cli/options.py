"""Options shared by the commands: one decorator per group of options, so each flag has one name, one
grammar and one help text everywhere.

- :func:`dataset_options`: ``--dataset FORMAT --data DIR``.
- :func:`eval_frames_options`: the held-out frames of an evaluation (``--split`` as in ``posekit train``,
  ``--test-frames``, ``--records``, ``--image-size HxW``, ``--held-out``, ``--batch-size``, ``--cache-dir``);
  the command receives them as one ``frames`` (:class:`~posekit.evaluation.frames.EvalFrames`).
- :func:`model_option`: ``--model FILE`` (an exported model; ``--checkpoint`` still works, deprecated).
- :func:`output_options`: ``--out DIR`` and ``--json``.
- :data:`IMAGE_SIZE`: the one ``HxW`` size type (height first, as ``--image-size`` in training);
  anything else is refused with a message.
"""

from __future__ import annotations

import functools
from collections.abc import Callable

import click

from posekit.data import DatasetFormat
from posekit.data.records import Split
from posekit.training.config import IMAGE_SIZE, IMAGE_SIZE_HELP

__all__ = ["IMAGE_SIZE", "IMAGE_SIZE_HELP", "dataset_options", "eval_frames_options", "model_option", "output_options"]

FORMATS = [f.value for f in DatasetFormat]


def _apply(function: Callable, options: list[Callable]) -> Callable:
    for option in reversed(options):
        function = option(function)
    return function


def dataset_options(function: Callable) -> Callable:
    """``--dataset FORMAT`` and ``--data DIR`` (both required), passed as ``dataset_format`` and ``data``."""
    return _apply(function, [
        click.option("--dataset", "dataset_format", required=True, type=click.Choice(FORMATS), help="dataset format"),
        click.option("--data", required=True, type=click.Path(exists=True, file_okay=False), help="dataset folder"),
    ])


def eval_frames_options(default_batch_size: int = 16) -> Callable[[Callable], Callable]:
    """The held-out frames of an evaluation, passed to the command as ``frames`` (an ``EvalFrames``).

    ``--split`` is the split policy, as in ``posekit train`` (``--split-policy`` is its deprecated name).
    """

    def decorate(function: Callable) -> Callable:
        @functools.wraps(function)
        def wrapper(*args, split, split_policy, test_frames, records, image_size, held_out, batch_size, cache_dir,
                    train_frames=None, **kwargs):
            from posekit.evaluation.frames import EvalFrames

            kwargs["frames"] = EvalFrames(split=split or split_policy, test_frames=test_frames, records=records,
                                          image_size=image_size, held_out=held_out, batch_size=batch_size,
                                          cache_dir=cache_dir, train_frames=train_frames)
            return function(*args, **kwargs)

        return _apply(wrapper, [
            click.option("--split", default=None,
                         help="split policy: auto or blocks:N:K, as in posekit train [default: the model's, else auto]"),
            click.option("--split-policy", default=None, hidden=True, help="deprecated name of --split"),
            click.option("--test-frames", default=None,
                         help="held-out frames: A-B frame numbers, @A-B positions in every record, REC:A-B positions "
                              "in record REC, comma-separated [default: the model's]"),
            click.option("--train-frames", default=None,
                         help="the frames the model was trained on, for the overlap check when the evaluation data "
                              "differs from the training data (same grammar) [default: the model's]"),
            click.option("--records", default=None, help="comma-separated record ids [default: the model's]"),
            click.option("--image-size", type=IMAGE_SIZE, default=None,
                         help=f"evaluation size {IMAGE_SIZE_HELP} [default: the model's]"),
            click.option("--held-out", type=click.Choice([s.value for s in (Split.TRAIN, Split.VAL, Split.TEST)]),
                         default=None, help="evaluate this split instead of the policy's held-out one"),
            click.option("--batch-size", default=default_batch_size, show_default=True, type=click.IntRange(min=1)),
            click.option("--cache-dir", default=None, help="transform cache folder [default: the user cache folder]"),
        ])

    return decorate


def model_option(required: bool, help: str) -> Callable[[Callable], Callable]:  # noqa: A002
    """``--model FILE`` (``model.safetensors`` or a Lightning ``.ckpt``), passed as ``model_path``; the old name
    ``--checkpoint`` is accepted (hidden, deprecated)."""

    def decorate(function: Callable) -> Callable:
        @functools.wraps(function)
        def wrapper(*args, model_path, checkpoint, **kwargs):
            if model_path is None and checkpoint is not None:
                click.echo("posekit: --checkpoint is deprecated; use --model", err=True)
                model_path = checkpoint
            if required and model_path is None:
                raise click.UsageError("Missing option '--model'.")
            return function(*args, model_path=model_path, **kwargs)

        path = click.Path(exists=True, dir_okay=False)
        suffix = "  [required]" if required else ""
        return _apply(wrapper, [
            click.option("--model", "model_path", default=None, type=path, help=help + suffix),
            click.option("--checkpoint", default=None, type=path, hidden=True, help="deprecated name of --model"),
        ])

    return decorate


def output_options(default_help: str) -> Callable[[Callable], Callable]:
    """``--out DIR`` (run folder of the results; ``default_help`` says the default) and ``--json``."""

    def decorate(function: Callable) -> Callable:
        return _apply(function, [
            click.option("--out", default=None, help=f"run folder to write eval/ into [default: {default_help}]"),
            click.option("--json", "as_json", is_flag=True, help="print one JSON object"),
        ])

    return decorate
