"""Evaluating a trained depth network on held-out frames with sensor depth: the metrics of
:mod:`posekit.metrics.depth_metrics`, as predicted (metres) and with per-image median scaling, written to
``RUN_DIR/eval/depth.json``.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import torch
import torch.nn.functional as F

from posekit.data import load_index
from posekit.evaluation.frames import EvalFrames, eval_data_config, evaluated_side
from posekit.evaluation.results import write_method_results
from posekit.evaluation.summary import summary_header
from posekit.metrics.depth_metrics import DepthMetricsAccumulator
from posekit.training.common import cover_and_crop
from posekit.training.depth import depth_frames, load_depth_model
from posekit.training.frame_data import paired_batches, resolve_frame_sides

METHOD = "depth"


@torch.no_grad()
def evaluate_depth(dataset_format: str, data: str | Path, out: str | Path, model_path: str | Path,
                   frames: EvalFrames = EvalFrames()) -> dict:
    """Evaluate a depth model on the held-out frames (default: the model's) and write ``out/eval/depth.json``.

    Predictions are made at the model's input size and upsampled (bilinear) to the evaluation size
    ``frames.image_size`` (default: the model's) where the sensor depth is compared. Keys: ``abs_rel``,
    ``sq_rel``, ``rmse``, ``rmse_log``, ``delta1..3`` (as predicted) and the same prefixed ``median_scaled_``.
    """
    module = load_depth_model(model_path)
    model = module.config
    config = eval_data_config(dataset_format, data, frames, model, tuple(model.image_size))
    index = load_index(config.dataset, config.data)
    sides = resolve_frame_sides(config, index)
    sides = dataclasses.replace(sides, test=evaluated_side(sides, frames))
    images = depth_frames(sides, config, held_out=True)
    net_images = None
    if tuple(config.image_size) != tuple(model.image_size):
        net_sides = dataclasses.replace(sides, transform=cover_and_crop(index, *model.image_size))
        net_images = depth_frames(net_sides, config, held_out=True)
    raw = DepthMetricsAccumulator(median_scaling=False, max_depth=model.max_depth)
    scaled = DepthMetricsAccumulator(median_scaling=True, max_depth=model.max_depth)
    for batch, net_batch in paired_batches(images, net_images, frames.batch_size):
        depth = module.predict_depth(net_batch["image"])
        depth = F.interpolate(depth, size=batch["depth"].shape[-2:], mode="bilinear", align_corners=False)
        raw.update(depth, batch["depth"])
        scaled.update(depth, batch["depth"])
    summary = summary_header(METHOD, index.format, str(index.root), sides.test.description, len(images), str(model_path))
    summary.update(image_size=list(config.image_size), backbone=model.backbone.value, decoder=model.decoder.value)
    summary.update(raw.compute().as_dict())
    summary.update(scaled.compute().as_dict("median_scaled_"))
    return write_method_results(out, summary)
