"""Which frames an evaluation uses: the options every ``evaluate_*`` function takes (:class:`EvalFrames`), resolved
against the trained model's own choice (its split policy, frame ranges, records and input size).

Every evaluation has the same signature shape::

    evaluate_<task>(dataset_format, data, out, model_path, frames=EvalFrames(), *, <task options>)

``model_path`` is ``None`` for a method that learns nothing (retrieval on ImageNet features, the relative-pose
baselines).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from posekit.data import Split
from posekit.training.frame_data import FrameDataConfig, FrameSide, FrameSides, policy_text


@dataclass
class EvalFrames:
    """The held-out frames of an evaluation; ``None`` means the model's choice (or the default without a model).

    Attributes:
        split: split policy, ``auto`` or ``blocks:N:K`` (as ``posekit train --split``).
        test_frames: held-out frames (:data:`~posekit.data.selection.FRAME_RANGE_GRAMMAR`) instead of the held-out split.
        train_frames: the frames the model was trained on, instead of the model's own ``train_frames``: for an
            evaluation on other data, where the model's numbers mean other frames; the overlap check uses it.
        records: comma-separated record ids to keep.
        image_size: ``(H, W)`` evaluation size.
        held_out: the split to evaluate instead of the policy's held-out one (``train``, ``val``, ``test``).
        batch_size: samples per batch (does not change the results).
        cache_dir: the transform cache folder.
    """

    split: str | None = None
    test_frames: str | None = None
    records: str | None = None
    image_size: tuple[int, int] | None = None
    held_out: Split | str | None = None
    batch_size: int = 16
    cache_dir: str | None = None
    train_frames: str | None = None


def eval_data_config(dataset_format: str, data: str | Path, frames: EvalFrames, model: FrameDataConfig | None,
                     default_image_size: tuple[int, int]) -> FrameDataConfig:
    """The dataset options of an evaluation: ``frames`` where given, else the model's, else the defaults."""

    def chosen(value, model_value, default):
        if value is not None:
            return value
        return model_value if model is not None else default

    image_size = chosen(frames.image_size, None if model is None else tuple(model.image_size), default_image_size)
    return FrameDataConfig(
        dataset=dataset_format, data=str(data),
        records=chosen(frames.records, None if model is None else model.records, None),
        split=chosen(frames.split, None if model is None else model.split, "auto"),
        train_frames=chosen(frames.train_frames, None if model is None else model.train_frames, None),
        test_frames=chosen(frames.test_frames, None if model is None else model.test_frames, None),
        image_size=tuple(image_size), cache=True, cache_dir=frames.cache_dir,
    )


def evaluated_side(sides: FrameSides, frames: EvalFrames) -> FrameSide:
    """The held-out side, or the split ``frames.held_out`` names (a frame range, if given, takes precedence)."""
    if frames.held_out is None or sides.test.split is Split.ALL:
        return sides.test
    split = Split(frames.held_out)
    return FrameSide(sides.test.index, split, f"{split.value} split ({policy_text(sides.policy)})")
