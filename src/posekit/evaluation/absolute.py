"""Evaluating absolute pose estimators on held-out frames: PoseNet and the retrieval baseline, reported alike.

Both write ``RUN_DIR/eval/<method>.{csv,json}`` and one trajectory per record ``RUN_DIR/eval/<method>/<record>.tum``
(the mean training pose and the nearest training frame by ground-truth pose, an oracle, beside the method in the
JSON's ``baselines``) (see :mod:`posekit.evaluation.results`). The frames
are the model's held-out frames unless :class:`~posekit.evaluation.frames.EvalFrames` says otherwise; a frame
the model trained on is never evaluated (:func:`~posekit.training.frame_data.resolve_frame_sides`).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import torch
from torch.utils.data import DataLoader

from posekit.baselines.retrieval import RetrievalIndex
from posekit.data import AbsolutePoseDataset, load_index
from posekit.evaluation.frames import EvalFrames, eval_data_config, evaluated_side
from posekit.data.records import FrameRecord
from posekit.evaluation.results import frame_timestamps, write_absolute_evaluation
from posekit.evaluation.summary import summary_header
from posekit.models import Backbone, BackboneName, create_backbone
from posekit.training.frame_data import FrameDataConfig, FrameSide, FrameSides, record_list, resolve_frame_sides
from posekit.training.posenet import load_posenet

RETRIEVAL_IMAGE_SIZE = (128, 160)


def evaluation_dataset(side: FrameSide, sides: FrameSides, config: FrameDataConfig, cameras: str | None = None,
             stereo: bool = False) -> AbsolutePoseDataset:
    return AbsolutePoseDataset(side.index, side.split, records=record_list(config.records), cameras=record_list(cameras),
                               stereo=stereo, transform=sides.transform, normalize=False, cache=True,
                               cache_dir=config.cache_dir, split_policy=sides.policy)


def view_frames(dataset: AbsolutePoseDataset) -> list[FrameRecord]:
    """The frame record of every evaluated view, in the order of :func:`_run`'s rows."""
    return [frame for sample in dataset.samples for frame in sample]


def view_records(dataset: AbsolutePoseDataset) -> list[str]:
    """The trajectory (file) of every view: its record, and its camera where there are several."""
    frames = view_frames(dataset)
    several = len({f.camera_id for f in frames}) > 1
    return [f"{f.record_id}.{f.camera_id}" if several else f.record_id for f in frames]


def training_poses(sides: FrameSides, config: FrameDataConfig, cameras: str | None = None,
                   stereo: bool = False) -> torch.Tensor:
    """``(M, 4, 4)`` float64 poses of the training views (for the baselines; no image is read)."""
    return torch.stack([f.T_world_cam.double() for f in view_frames(evaluation_dataset(sides.train, sides, config, cameras, stereo))])


def _absolute_extras(dataset: AbsolutePoseDataset, sides: FrameSides, config: FrameDataConfig,
                     cameras: str | None = None, stereo: bool = False) -> dict:
    """The keyword arguments of :func:`write_absolute_evaluation` every absolute evaluation passes: real
    timestamps (else frame numbers), the record of each view and the training poses of the baselines."""
    return dict(timestamps=frame_timestamps(view_frames(dataset)), records=view_records(dataset),
                T_world_cam_train=training_poses(sides, config, cameras, stereo))


@torch.no_grad()
def run_views(dataset: AbsolutePoseDataset, function: Callable[[torch.Tensor], torch.Tensor], batch_size: int):
    """Apply ``function`` to every image batch; return its outputs, the GT poses and the frame names (one row per
    view: a stereo sample gives its left and right view, named ``record/frame/camera``)."""
    outputs, poses, names = [], [], []
    for batch in DataLoader(dataset, batch_size=batch_size, shuffle=False):
        outputs.append(function(batch["image"]))
        if dataset.stereo:
            poses.append(batch["T_world_cam"].double().flatten(0, 1))
            names.extend(f"{r}/{f}/{c}" for r, f in zip(batch["record"], batch["frame"]) for c in dataset.cameras)
        else:
            poses.append(batch["T_world_cam"].double())
            names.extend(f"{r}/{f}" for r, f in zip(batch["record"], batch["frame"]))
    return torch.cat(outputs), torch.cat(poses), names


def evaluate_posenet(dataset_format: str, data: str | Path, out: str | Path, model_path: str | Path,
                     frames: EvalFrames = EvalFrames()) -> dict:
    """Evaluate a trained PoseNet on the held-out frames (default: the model's) and write ``out/eval/posenet.*``.

    A stereo PoseNet is evaluated on the camera pairs of its cameras, each view counting as one frame."""
    module = load_posenet(model_path)
    config = eval_data_config(dataset_format, data, frames, module.config, tuple(module.config.image_size))
    index = load_index(config.dataset, config.data)
    sides = resolve_frame_sides(config, index)
    side = evaluated_side(sides, frames)
    dataset = evaluation_dataset(side, sides, config, module.config.cameras, module.config.stereo)
    estimated, ground_truth, names = run_views(dataset, lambda images: module.predict_T_world_cam(images).double(),
                                          frames.batch_size)
    header = summary_header("posenet", index.format, str(index.root), side.description, len(names), str(model_path))
    return write_absolute_evaluation(out, header, ground_truth, estimated, names,
                                     extra={"stereo": module.config.stereo, "cameras": dataset.cameras},
                                     **_absolute_extras(dataset, sides, config, module.config.cameras,
                                                        module.config.stereo))


def evaluate_retrieval(dataset_format: str, data: str | Path, out: str | Path, model_path: str | Path | None = None,
                       frames: EvalFrames = EvalFrames(), *, backbone: BackboneName | str = BackboneName.EFFICIENTNET_LITE0,
                       weights: str | None = None, method: str = "retrieval") -> dict:
    """Predict each held-out image's pose as that of its nearest training image (global backbone features).

    The features are those of a trained PoseNet's backbone when ``model_path`` is given (its frames and input
    size are the defaults), otherwise of the ImageNet backbone ``backbone`` (or its ``weights`` file) at
    ``frames.image_size`` (default 128x160).
    """
    module = load_posenet(model_path) if model_path is not None else None
    if module is not None:
        encoder: Backbone = module.model.backbone
    else:
        encoder = create_backbone(backbone, pretrained=weights is None, weights_path=weights)
    encoder.eval()
    config = eval_data_config(dataset_format, data, frames, None if module is None else module.config,
                              RETRIEVAL_IMAGE_SIZE)
    index = load_index(config.dataset, config.data)
    sides = resolve_frame_sides(config, index)
    side = evaluated_side(sides, frames)
    database = evaluation_dataset(sides.train, sides, config)
    database_features, database_poses, database_names = run_views(database, encoder.forward_pooled, frames.batch_size)
    retrieval = RetrievalIndex.build(database_features, database_poses, database_names)
    queries = evaluation_dataset(side, sides, config)
    query_features, ground_truth, names = run_views(queries, encoder.forward_pooled, frames.batch_size)
    estimated, nearest = retrieval.query(query_features)
    header = summary_header(method, index.format, str(index.root), side.description, len(names),
                            None if model_path is None else str(model_path))
    extra = {"database_frames": len(database_names),
             "features": str(model_path) if model_path else str(BackboneName(backbone).value)}
    return write_absolute_evaluation(out, header, ground_truth, estimated.double(), names, extra=extra,
                                     columns={"retrieved_frame": [database_names[i] for i in nearest.tolist()]},
                                     **_absolute_extras(queries, sides, config))
