"""``posekit localize``: localise a dataset's colour frames in a map built by ``posekit map build``.

``posekit localize --map MAP --dataset F --data D --test-frames 800-999 --init retrieval --refine both --out RUN``
writes ``RUN/poses_<record>.tum``, ``RUN/frames.csv`` and ``RUN/summary.json`` (keys ``median_t_m``,
``median_r_deg``, ``mean_t_m``, ``mean_r_deg``, ``recall_2cm_2deg``, ``recall_5cm_5deg``, ``recall_10cm_10deg``,
``frames_per_second``, ``success_rate``); ``--json`` prints the summary as one JSON object. Only the colour
images of the queries are read (never their depth). ``--init posenet:MODEL`` starts from a PoseNet model's
prediction instead of retrieval. ``--sequence`` then fuses the poses with relative poses between consecutive
queries (PnP on the map depth rendered at a localised estimate, never the queries' depth) in a pose graph and
writes ``RUN/fused_<record>.tum`` and ``RUN/fused_summary.json`` beside the unfused files
(:mod:`posekit.localization.sequence`). A sparse map (``posekit map build`` from RGB-only frames) is localised
by SIFT 2D-3D matching and PnP (:mod:`posekit.localization.sparse_localizer`; ``--refine pnp`` or ``none``).
"""

from __future__ import annotations

import json
from pathlib import Path

import click
import torch

from posekit.data import DatasetFormat, load_index
from posekit.errors import ConfigError
from posekit.localization import Localizer, LocalizerConfig, Refinement, localize_frames
from posekit.localization.baselines import mean_pose, nearest_by_position
from posekit.mapping.frames import parse_frame_ranges, select_frames, select_records
from posekit.mapping.store import load_map


def _posenet_poses(spec: str, dataset_format: str, data: str, frames) -> torch.Tensor:
    """``(N, 4, 4)`` PoseNet predictions for ``frames`` from the model ``posenet:MODEL``."""
    from posekit.localization.posenet_init import predict_posenet_poses

    model = spec.split(":", 1)[1]
    if not model:
        raise ConfigError("--init posenet:MODEL needs a model path (a run folder's model.safetensors)")
    return predict_posenet_poses(Path(model), frames)


def _baseline_poses(init: str, all_frames, train_frames: str | None, frames) -> torch.Tensor:
    """``(N, 4, 4)`` initial poses of the trivial baselines (mean training pose; nearest training frame by GT)."""
    if train_frames is None:
        raise ConfigError(f"--init {init} needs --train-frames (the frames the map was built from)")
    train = torch.stack([f.T_world_cam for f in select_frames(all_frames, parse_frame_ranges(train_frames, "--train-frames"),
                                                              "--train-frames")])
    if init == "mean":
        return mean_pose(train).expand(len(frames), 4, 4).clone()
    return nearest_by_position(train, torch.stack([f.T_world_cam for f in frames]))


@click.command("localize")
@click.option("--map", "map_folder", type=click.Path(file_okay=False), required=True, help="Map folder.")
@click.option("--dataset", "dataset_format", type=click.Choice([f.value for f in DatasetFormat]), required=True)
@click.option("--data", type=click.Path(file_okay=False), required=True, help="Dataset folder of the queries.")
@click.option("--test-frames", default="all", show_default=True, help="Query frame numbers, e.g. 800-999.")
@click.option("--records", default=None, help="Only queries of these records (comma-separated, e.g. seq-04,seq-05).")
@click.option("--init", "init", default="retrieval", show_default=True,
              help="retrieval, posenet:MODEL, or the trivial baselines mean / nearest-gt (need --train-frames).")
@click.option("--train-frames", default=None, help="Training frame numbers for --init mean / nearest-gt.")
@click.option("--train-records", default=None, help="Training records for --init mean / nearest-gt (default all).")
@click.option("--refine", type=click.Choice([r.value for r in Refinement]), default=None,
              help="Refinement [default: both for a dense map, pnp for a sparse map; a sparse map takes pnp or none].")
@click.option("--top-k", type=click.IntRange(min=1), default=10, show_default=True,
              help="Keyframes retrieved (their features pooled into one PnP).")
@click.option("--no-errors", is_flag=True, help="Do not compare with the dataset's poses (write poses only).")
@click.option("--out", type=click.Path(file_okay=False), default=None, help="Run folder (default MAP/localize).")
@click.option("--sequence", is_flag=True,
              help="Also fuse the poses with consecutive-frame relative poses (pose graph): RUN/fused_<record>.tum.")
@click.option("--json", "as_json", is_flag=True, help="Print the summary as one JSON object.")
def command(map_folder, dataset_format, data, test_frames, records, init, train_frames, train_records, refine, top_k, no_errors, out,
            sequence, as_json) -> None:
    """Localise colour frames in a map: retrieval or PoseNet, then PnP and/or direct alignment."""
    if init not in ("retrieval", "mean", "nearest-gt") and not init.startswith("posenet:"):
        raise ConfigError(f"--init: expected retrieval, posenet:MODEL, mean or nearest-gt, got {init!r}")
    pose_map = load_map(map_folder)
    refine = refine or ("pnp" if pose_map.kind == "sparse" else "both")
    if sequence and pose_map.kind == "sparse":
        raise ConfigError(f"--sequence: needs a dense map (it renders the map's depth); {map_folder} is sparse")
    index = load_index(dataset_format, data)
    frames = select_frames(select_records(index.frames, records), parse_frame_ranges(test_frames, "--test-frames"),
                           "--test-frames")
    if pose_map.kind == "sparse":
        from posekit.localization.sparse_localizer import SparseLocalizer, SparseLocalizerConfig

        localizer = SparseLocalizer(pose_map, SparseLocalizerConfig(refine=Refinement(refine), top_k=top_k))
    else:
        localizer = Localizer(pose_map, LocalizerConfig(refine=Refinement(refine), top_k=top_k))
    if init in ("mean", "nearest-gt"):
        initial = _baseline_poses(init, select_records(index.frames, train_records), train_frames, frames)
    else:
        initial = None if init == "retrieval" else _posenet_poses(init, dataset_format, data, frames)
    out = Path(out) if out is not None else Path(map_folder) / "localize"
    log = None if as_json else (lambda line: click.echo(line, err=True))
    summary = localize_frames(localizer, frames, out, initial_poses=initial, with_errors=not no_errors,
                              method=f"{init}+{refine}", log=log)
    summary["init"] = init
    if sequence:
        from posekit.localization.sequence import fuse_localized_run

        summary["fused"] = fuse_localized_run(pose_map, frames, out, with_errors=not no_errors)
    if as_json:
        click.echo(json.dumps(summary))
        return
    if not no_errors:
        click.echo(f"{len(frames)} frames: median {summary['median_t_m'] * 100:.2f} cm {summary['median_r_deg']:.2f} deg, "
                   f"recall 5 cm/5 deg {summary['recall_5cm_5deg'] * 100:.1f} %, "
                   f"{summary['frames_per_second']:.2f} frames/s, success {summary['success_rate'] * 100:.1f} %")
        if sequence:
            fused = summary["fused"]
            click.echo(f"fused ({fused['relative_pairs']} relative poses): median {fused['median_t_m'] * 100:.2f} cm "
                       f"{fused['median_r_deg']:.2f} deg, recall 5 cm/5 deg {fused['recall_5cm_5deg'] * 100:.1f} %")
    click.echo(f"run folder: {out}")
