"""Poses from images alone (``posekit predict``): a trained PoseNet or relative-pose network on a folder of images
or on a dataset's frames, no ground truth used.

- PoseNet: each image's ``T_world_cam`` (metres, in the training data's world frame).
- Relative pose: consecutive frames of each sequence are chained, ``T_world_(k+1) = T_world_k @ inv(T_src_tgt)``
  with target ``k`` and source ``k + 1``; the **first frame of each sequence is the identity** (the world frame
  is the first camera's), and a monocular network's translations are up to scale.

Written to ``OUT/<method>/<record>.tum`` (one file per record or contiguous segment; timestamps from the image
names where every name is a number with a decimal point, or the dataset's, else frame numbers) and
``OUT/<method>.csv`` (``name, record, timestamp, tx, ty, tz, qw, qx, qy, qz``).
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import torch

from posekit.data.imaging import ImageMode, image_size, image_to_tensor, read_image
from posekit.data.transforms import FrameTransform
from posekit.errors import ConfigError, DatasetError
from posekit.evaluation.results import frame_timestamps, grouped_order
from posekit.fileio import atomic_write_text
from posekit.geometry import matrix_to_quaternion, se3_inverse
from posekit.metrics.records import write_record_trajectories
from posekit.metrics.trajectory import Trajectory

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".ppm", ".tif", ".tiff")
POSE_COLUMNS = ("name", "record", "timestamp", "tx", "ty", "tz", "qw", "qx", "qy", "qz")
FIRST_FRAME_NOTE = "relative poses chained from the first frame of each record, which is the identity"


@dataclass
class Views:
    """Images to predict from, in sequence order.

    Attributes:
        names: ``N`` frame names ``record/frame``.
        records: ``N`` record (trajectory file) keys; the rows of a record are contiguous.
        timestamps: ``(N,)`` float64 seconds or frame numbers.
        load: ``load(i)`` gives view ``i``'s ``(3, H, W)`` image at the network's size.
    """

    names: list[str]
    records: list[str]
    timestamps: torch.Tensor
    load: object

    def batches(self, rows: Sequence[int], batch_size: int):
        """``(rows, (B, 3, H, W) images)`` of ``rows`` in batches."""
        for start in range(0, len(rows), batch_size):
            chunk = list(rows[start:start + batch_size])
            yield chunk, torch.stack([self.load(i) for i in chunk])


def cover_crop(width: int, height: int, size: tuple[int, int]) -> FrameTransform:
    """Resize a ``width x height`` image so that it covers ``size`` (H, W), aspect kept, then centre-crop."""
    out_h, out_w = size
    scale = max(out_h / height, out_w / width)
    return FrameTransform(resize=(max(out_h, round(height * scale)), max(out_w, round(width * scale))), crop=(out_h, out_w))


def folder_views(folder: str | Path, size: tuple[int, int]) -> Views:
    """The images of ``folder`` (sorted by name; one record named after the folder) at ``size`` (H, W).

    Raises:
        DatasetError: the folder has no image.
    """
    folder = Path(folder)
    paths = sorted(p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)
    if not paths:
        raise DatasetError(f"{folder}: no image ({', '.join(IMAGE_SUFFIXES)})")
    try:
        stamps = [float(p.stem) for p in paths] if all("." in p.stem for p in paths) else None
    except ValueError:
        stamps = None
    timestamps = torch.tensor(stamps if stamps is not None else range(len(paths)), dtype=torch.float64)
    record = folder.resolve().name

    def load(i: int) -> torch.Tensor:
        width, height = image_size(paths[i])
        array = cover_crop(width, height, size).apply_image(read_image(paths[i], ImageMode.RGB))
        return image_to_tensor(array)

    return Views([f"{record}/{p.name}" for p in paths], [record] * len(paths), timestamps, load)


def dataset_views(dataset, records: Sequence[str] | None = None) -> Views:
    """The frames of an :class:`~posekit.data.AbsolutePoseDataset` (mono) as :class:`Views`; ``records`` overrides
    the record key of each frame (e.g. contiguous segments)."""
    frames = [sample[0] for sample in dataset.samples]
    keys = list(records) if records is not None else [f.record_id for f in frames]
    order = grouped_order(keys)
    return Views([f"{frames[i].record_id}/{frames[i].frame_id}" for i in order], [keys[i] for i in order],
                 frame_timestamps([frames[i] for i in order]), lambda i: dataset[order[i]]["image"])


@torch.no_grad()
def predict_absolute(module, views: Views, batch_size: int) -> torch.Tensor:
    """``(N, 4, 4)`` float64 ``T_world_cam`` of every view (a PoseNet module's ``predict_T_world_cam``)."""
    poses = [module.predict_T_world_cam(images).double() for _, images in views.batches(range(len(views.names)), batch_size)]
    return torch.cat(poses)


@torch.no_grad()
def predict_chained(module, views: Views, batch_size: int) -> torch.Tensor:
    """``(N, 4, 4)`` float64 poses chained from consecutive views of each record (first frame the identity) with
    a relative-pose module's ``predict_T_src_tgt`` (target ``k``, source ``k + 1``)."""
    n = len(views.names)
    same = [k for k in range(n - 1) if views.records[k] == views.records[k + 1]]  # pairs (k, k + 1) in one record
    T_src_tgt = torch.empty(n, 4, 4, dtype=torch.float64)
    for start in range(0, len(same), batch_size):
        chunk = same[start:start + batch_size]
        targets = torch.stack([views.load(k) for k in chunk])
        sources = torch.stack([views.load(k + 1) for k in chunk])
        T_src_tgt[chunk] = module.predict_T_src_tgt(sources, targets).double()
    poses = torch.empty(n, 4, 4, dtype=torch.float64)
    for k in range(n):
        if k == 0 or views.records[k] != views.records[k - 1]:
            poses[k] = torch.eye(4, dtype=torch.float64)
        else:
            poses[k] = poses[k - 1] @ se3_inverse(T_src_tgt[k - 1])
    return poses


def write_predictions(out: str | Path, method: str, views: Views, T_world_cam: torch.Tensor, info: dict) -> dict:
    """Write ``out/<method>/<record>.tum``, ``out/<method>.csv`` and ``out/<method>.json`` (``info`` plus the
    files); return the JSON summary."""
    out = Path(out)
    traj = Trajectory(T_world_cam, views.timestamps, views.names)
    paths = write_record_trajectories(out / method, "", traj, views.records)
    quaternion = matrix_to_quaternion(T_world_cam[:, :3, :3])
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(POSE_COLUMNS)
    for i, name in enumerate(views.names):
        values = [*T_world_cam[i, :3, 3].tolist(), *quaternion[i].tolist()]
        writer.writerow([name, views.records[i], repr(float(views.timestamps[i])), *(repr(float(v)) for v in values)])
    atomic_write_text(out / f"{method}.csv", buffer.getvalue())
    summary = {"method": method, **info, "frames": len(views.names),
               "trajectories": {record: str(path.relative_to(out)) for record, path in paths.items()}}
    atomic_write_text(out / f"{method}.json", json.dumps(summary, indent=2) + "\n")
    return summary


def _check_single_camera(module) -> None:
    if getattr(module.config, "stereo", False):
        raise ConfigError("posekit predict: stereo PoseNet models are not supported yet (predict per camera)")


def predict(task: str, model_path: str | Path, out: str | Path, *, images: str | Path | None = None,
            dataset_format: str | None = None, data: str | Path | None = None, frames=None,
            batch_size: int = 16) -> dict:
    """Predict the poses of a folder of ``images`` or of a dataset's evaluated frames (``frames``, an
    :class:`~posekit.evaluation.frames.EvalFrames`; default the model's held-out frames) with a trained
    ``posenet`` or ``relpose`` model; write them (module docstring) and return the summary."""
    if (images is None) == (data is None):
        raise ConfigError("posekit predict: give either --images DIR or --dataset FORMAT --data DIR")
    if task == "posenet":
        from posekit.training.posenet import load_posenet as load
    elif task == "relpose":
        from posekit.training.relpose import load_relpose as load
    else:
        raise ConfigError(f"posekit predict: unknown task {task!r} (posenet or relpose)")
    module = load(model_path)
    _check_single_camera(module)
    size = tuple(module.config.image_size)
    info: dict = {"model": str(model_path), "image_size": list(size)}
    if images is not None:
        views = folder_views(images, size)
        info["images"] = str(images)
    else:
        views = _dataset_views(module, dataset_format, data, frames, size, segments=task == "relpose")
        info.update(dataset=dataset_format, data=str(data))
    if task == "posenet":
        poses = predict_absolute(module, views, batch_size)
    else:
        poses = predict_chained(module, views, batch_size)
        info.update(chaining=FIRST_FRAME_NOTE, metric=bool(module.mode.metric),
                    training_distance=int(module.config.distance))
    return write_predictions(out, task, views, poses, info)


def _dataset_views(module, dataset_format, data, frames, size, segments: bool) -> Views:
    from posekit.data import load_index
    from posekit.evaluation.absolute import evaluation_dataset
    from posekit.evaluation.frames import EvalFrames, eval_data_config, evaluated_side
    from posekit.evaluation.segments import frame_key, segment_keys
    from posekit.training.frame_data import resolve_frame_sides

    frames = frames or EvalFrames()
    config = eval_data_config(dataset_format, data, frames, module.config, size)
    config.image_size = size  # the network's input size
    index = load_index(config.dataset, config.data)
    sides = resolve_frame_sides(config, index, check_overlap=False)  # no ground truth is used: any frames
    side = evaluated_side(sides, frames)
    dataset = evaluation_dataset(side, sides, config)
    records = None
    if segments:
        held_out = [sample[0] for sample in dataset.samples]
        keys = segment_keys([*sides.train.index.frames, *side.index.frames], held_out)
        records = [keys[frame_key(f)] for f in held_out]
    return dataset_views(dataset, records)
