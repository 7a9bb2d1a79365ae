"""Evaluating absolute pose estimators on a dataset split: PoseNet and the retrieval baseline, reported alike.

Both write ``RUN_DIR/eval/<method>.{csv,tum,gt.tum,json}`` (see :mod:`posekit.evaluation.results`).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import torch
from torch.utils.data import DataLoader

from posekit.baselines.retrieval import RetrievalIndex
from posekit.data import AbsolutePoseDataset, DatasetIndex, Split, SplitPolicy, load_index
from posekit.models import Backbone, BackboneName, create_backbone
from posekit.evaluation.results import write_absolute_evaluation
from posekit.evaluation.summary import summary_header
from posekit.training.common import cover_and_crop, held_out_split
from posekit.training.posenet import load_posenet


def _dataset(index: DatasetIndex, split: Split, policy: SplitPolicy, image_size: tuple[int, int], cache_dir: str | None) -> AbsolutePoseDataset:
    return AbsolutePoseDataset(index, split, transform=cover_and_crop(index, *image_size), normalize=False,
                               cache=True, cache_dir=cache_dir, split_policy=policy)


@torch.no_grad()
def _run(dataset: AbsolutePoseDataset, function: Callable[[torch.Tensor], torch.Tensor], batch_size: int):
    """Apply ``function`` to every image batch; return its outputs, the GT poses and the frame names."""
    outputs, poses, names = [], [], []
    for batch in DataLoader(dataset, batch_size=batch_size, shuffle=False):
        outputs.append(function(batch["image"]))
        poses.append(batch["T_world_cam"].double())
        names.extend(f"{r}/{f}" for r, f in zip(batch["record"], batch["frame"]))
    return torch.cat(outputs), torch.cat(poses), names


def evaluate_posenet(
    model_path: str | Path, dataset_format: str, data: str | Path, out: str | Path,
    split: Split | str | None = None, split_policy: str | None = None, batch_size: int = 32, cache_dir: str | None = None,
) -> dict:
    """Evaluate a trained PoseNet on a split (default: the held-out one of the split policy it was trained with)
    and write ``out/eval/posenet.*``."""
    module = load_posenet(model_path)
    index = load_index(dataset_format, data)
    policy = SplitPolicy.parse(split_policy or module.config.split)
    split = Split(split) if split is not None else held_out_split(index, policy, cache_dir)
    dataset = _dataset(index, split, policy, tuple(module.config.image_size), cache_dir)
    estimated, ground_truth, names = _run(dataset, lambda images: module.predict_T_world_cam(images).double(), batch_size)
    header = summary_header("posenet", index.format, str(index.root), split.value, len(names), str(model_path))
    return write_absolute_evaluation(out, header, ground_truth, estimated, names)


def evaluate_retrieval(
    dataset_format: str, data: str | Path, out: str | Path, *, model_path: str | Path | None = None,
    backbone: BackboneName | str = BackboneName.EFFICIENTNET_LITE0, weights: str | None = None,
    image_size: tuple[int, int] = (128, 160), split: Split | str | None = None, split_policy: str | None = None,
    batch_size: int = 32, cache_dir: str | None = None, method: str = "retrieval",
) -> dict:
    """Predict each held-out image's pose as that of its nearest training image (global backbone features).

    The features are those of a trained PoseNet's backbone when ``model_path`` is given (and its image size),
    otherwise of the ImageNet backbone ``backbone``.
    """
    policy_text = split_policy
    if model_path is not None:
        module = load_posenet(model_path)
        encoder: Backbone = module.model.backbone
        image_size = tuple(module.config.image_size)
        policy_text = split_policy or module.config.split
    else:
        encoder = create_backbone(backbone, pretrained=weights is None, weights_path=weights)
    encoder.eval()
    index = load_index(dataset_format, data)
    policy = SplitPolicy.parse(policy_text or "auto")
    split = Split(split) if split is not None else held_out_split(index, policy, cache_dir)
    database = _dataset(index, Split.TRAIN, policy, image_size, cache_dir)
    database_features, database_poses, database_names = _run(database, encoder.forward_pooled, batch_size)
    retrieval = RetrievalIndex.build(database_features, database_poses, database_names)
    queries = _dataset(index, split, policy, image_size, cache_dir)
    query_features, ground_truth, names = _run(queries, encoder.forward_pooled, batch_size)
    estimated, _ = retrieval.query(query_features)
    header = summary_header(method, index.format, str(index.root), split.value, len(names),
                            str(model_path) if model_path else None)
    extra = {"database_frames": len(database_names),
             "features": str(model_path) if model_path else str(BackboneName(backbone).value)}
    return write_absolute_evaluation(out, header, ground_truth, estimated, names, extra=extra)
