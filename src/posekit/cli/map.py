"""``posekit map build``: a map of a scene from posed frames: dense (TSDF mesh + keyframes) from RGB-D, sparse
(COLMAP-triangulated points + descriptors + keyframes) from RGB-only frames.

``posekit map build --dataset F --data D [--frames 0-799] --out MAP`` fuses the frames into ``MAP/mesh.ply``
(Open3D TSDF), keeps every n-th frame as a keyframe (colour, the mesh's depth in the colour camera, global
descriptor) and writes ``MAP/manifest.json``. ``--colour-model auto`` uses the 7-Scenes Kinect colour camera
(525 px, 2.5 cm beside depth) for 7-Scenes data and a registered camera otherwise.

``--kind auto`` (the default) builds a dense map when every selected frame has a depth image and a sparse map
otherwise (KITTI, Cambridge, Apolloscape, image folders): SIFT features, matches between covisible frames and
points triangulated with the known poses by pycolmap (:mod:`posekit.mapping.sparse`), written as ``MAP/points.ply``,
``MAP/descriptors.npz`` and keyframes. A sparse map's working size defaults to the frames' size scaled so that
its longer side is at most 640 px.
"""

from __future__ import annotations

import json

import click

from posekit.data import DatasetFormat, load_index
from posekit.errors import ConfigError
from posekit.mapping.calibration import ColourModel, auto_colour_model, load_calibration
from posekit.mapping.frames import WorkingSize, parse_frame_ranges, select_frames, select_records
from posekit.mapping.store import MapBuildConfig, build_map
from posekit.mapping.tsdf import TsdfConfig


@click.group("map")
def command() -> None:
    """Build maps of a scene from posed frames (dense from RGB-D, sparse from RGB only)."""


@command.command("build")
@click.option("--dataset", "dataset_format", type=click.Choice([f.value for f in DatasetFormat]), required=True)
@click.option("--data", type=click.Path(file_okay=False), required=True, help="Dataset folder.")
@click.option("--frames", "frame_ranges", default="all", show_default=True, help="Frame numbers, e.g. 0-799,900-950.")
@click.option("--records", default=None, help="Only these records (comma-separated, e.g. seq-01,seq-02).")
@click.option("--out", type=click.Path(file_okay=False), required=True, help="Map folder to write.")
@click.option("--voxel-size", type=click.FloatRange(min=0.001), default=0.01, show_default=True, help="TSDF voxel (m).")
@click.option("--depth-max", type=click.FloatRange(min=0.1), default=3.5, show_default=True, help="Max fused depth (m).")
@click.option("--fuse-every", type=click.IntRange(min=1), default=4, show_default=True, help="Fuse every n-th frame.")
@click.option("--keyframe-every", type=click.IntRange(min=1), default=5, show_default=True, help="Keyframe every n-th frame.")
@click.option("--size", "size_text", default=None,
              help="Keyframe working size HxW [default: 240x320 dense; sparse: longer side 640 px at the frames' aspect].")
@click.option("--colour-model", type=click.Choice(["auto"] + [m.value for m in ColourModel]), default="auto",
              show_default=True, help="Colour camera relative to depth.")
@click.option("--kind", type=click.Choice(["auto", "dense", "sparse"]), default="auto", show_default=True,
              help="dense (RGB-D: TSDF mesh) or sparse (RGB: triangulated points); auto: dense when all frames have depth.")
@click.option("--neighbours", type=click.IntRange(min=1), default=5, show_default=True,
              help="Sparse: each frame is matched with this many nearest frames.")
@click.option("--max-features", type=click.IntRange(min=8), default=2000, show_default=True,
              help="Sparse: SIFT keypoints per frame.")
@click.option("--calibration", "calibration_file", type=click.Path(dir_okay=False), default=None,
              help="Dense: calibration JSON from `posekit map calibrate` (overrides --colour-model).")
def build(dataset_format, data, frame_ranges, records, out, voxel_size, depth_max, fuse_every, keyframe_every, size_text,
          colour_model, kind, neighbours, max_features, calibration_file) -> None:
    """Fuse posed RGB-D frames into a mesh and keyframe store, or triangulate posed RGB frames into a sparse point
    map (the map folder OUT)."""
    index = load_index(dataset_format, data)
    frames = select_frames(select_records(index.frames, records), parse_frame_ranges(frame_ranges))
    without_depth = [f for f in frames if f.depth_path is None]
    if kind == "dense" and without_depth:
        raise ConfigError(f"--kind dense: {without_depth[0].key} (and {len(without_depth) - 1} more) has no depth image; "
                          f"a dense map needs RGB-D frames, use --kind sparse for {dataset_format} data")
    dataset = {"format": dataset_format, "data": str(data), "frames": frame_ranges, "records": records or "all"}
    if kind == "sparse" or (kind == "auto" and without_depth):
        _build_sparse(frames, out, size_text, neighbours, max_features, dataset)
        return
    calibration = load_calibration(calibration_file) if calibration_file else None
    if calibration is not None:
        model = calibration.model
    else:
        model = auto_colour_model(dataset_format, frames[0].intrinsics) if colour_model == "auto" else ColourModel(colour_model)
    config = MapBuildConfig(colour_model=model, tsdf=TsdfConfig(voxel_size=voxel_size, depth_max=depth_max),
                            fuse_every=fuse_every, keyframe_every=keyframe_every, size=WorkingSize.parse(size_text or "240x320"),
                            calibration=calibration)
    pose_map = build_map(frames, out, config, dataset=dataset, log=lambda line: click.echo(line, err=True))
    click.echo(json.dumps({"map": str(pose_map.folder), "keyframes": len(pose_map.keyframes.names),
                           "colour_model": model.value, **pose_map.manifest["mesh"]}))


def _build_sparse(frames, out, size_text, neighbours, max_features, dataset) -> None:
    from posekit.mapping.sparse import SparseMapConfig, build_sparse_map, default_sparse_size
    from posekit.mapping.sparse_features import SiftConfig

    size = WorkingSize.parse(size_text) if size_text else default_sparse_size(frames[0].intrinsics)
    config = SparseMapConfig(size=size, sift=SiftConfig(max_features=max_features), neighbours=neighbours)
    pose_map = build_sparse_map(frames, out, config, dataset=dataset, log=lambda line: click.echo(line, err=True))
    click.echo(json.dumps({"map": str(pose_map.folder), "kind": "sparse", "keyframes": len(pose_map.keyframes.names),
                           **{k: pose_map.manifest["triangulation"][k] for k in ("points", "observations",
                                                                                 "mean_reprojection_error_px")}}))


@command.command("calibrate")
@click.option("--dataset", "dataset_format", type=click.Choice([f.value for f in DatasetFormat]), required=True)
@click.option("--data", type=click.Path(file_okay=False), required=True, help="Dataset folder (posed RGB-D frames).")
@click.option("--frames", "frame_ranges", default="all", show_default=True, help="Frame numbers, e.g. 0-799 (training frames only).")
@click.option("--records", default=None, help="Only these records (comma-separated).")
@click.option("--every", type=click.IntRange(min=1), default=50, show_default=True,
              help="Every n-th selected frame is a source frame (each paired with frames 8-30 deg away).")
@click.option("--colour-model", type=click.Choice(["auto", "registered", "kinect-7scenes"]), default="auto",
              show_default=True, help="The starting colour camera model.")
@click.option("--translation/--no-translation", default=False, show_default=True,
              help="Also estimate the colour camera's offset (weakly observed) besides its rotation.")
@click.option("--out", type=click.Path(dir_okay=False), required=True, help="Calibration JSON to write.")
def calibrate(dataset_format, data, frame_ranges, records, every, colour_model, translation, out) -> None:
    """Estimate the colour camera's rotation (and offset) relative to depth from posed RGB-D frames; write OUT.

    Prints the estimate, the spread of the per-frame estimates and the photometric cost before and after; pass
    OUT to `posekit map build --calibration OUT` to use it.
    """
    from posekit.fileio import atomic_write_text
    from posekit.mapping.calibration import RgbdCalibration
    from posekit.mapping.extrinsic import ExtrinsicEstimateConfig, estimate_colour_extrinsic

    index = load_index(dataset_format, data)
    frames = select_frames(select_records(index.frames, records), parse_frame_ranges(frame_ranges))
    model = auto_colour_model(dataset_format, frames[0].intrinsics) if colour_model == "auto" else ColourModel(colour_model)
    start = RgbdCalibration.from_model(frames[0].intrinsics, model)
    sources = list(range(every // 2, len(frames), every))
    estimate = estimate_colour_extrinsic(frames, sources, start, ExtrinsicEstimateConfig(translation=translation),
                                         log=lambda line: click.echo(line, err=True))
    summary = {"start_model": model.value, "frame_ranges": frame_ranges, **estimate.summary()}
    atomic_write_text(out, json.dumps({"calibration": estimate.calibration.to_dict(), "estimate": summary}, indent=1) + "\n")
    click.echo(json.dumps(summary))
