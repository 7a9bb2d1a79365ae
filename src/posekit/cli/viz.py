"""``posekit viz dataset|video``: look at a dataset's routes and frames."""

from __future__ import annotations

import click
import torch

from posekit.data import DatasetFormat, FrameRecord, load_index, read_image
from posekit.errors import DatasetError
from posekit.viz import RecordRoute, SampleFrame, DisplayUpAxis, save_routes_png, write_route_video

FORMATS = [f.value for f in DatasetFormat]
# The world's up axis of each format's ground truth (KITTI and the OpenCV-style camera worlds: -y).
UP_OF_FORMAT = {"kitti": DisplayUpAxis.NEG_Y, "apolloscape": DisplayUpAxis.Z}


def _frames(dataset_format: str, path: str, record: str | None, camera: str | None) -> list[FrameRecord]:
    index = load_index(dataset_format, path)
    frames = index.select(record, camera).frames if (record or camera) else index.frames
    if not frames:
        raise DatasetError(f"{path}: no frame for record {record!r} camera {camera!r}; records: {', '.join(index.records)}")
    if camera is None and len(index.cameras) > 1:  # one camera's route is enough (stereo rigs double it)
        frames = [f for f in frames if f.camera_id == index.cameras[0]]
    return sorted(frames, key=lambda f: (f.record_id, f.order))


def _up(dataset_format: str, up: str) -> DisplayUpAxis:
    return UP_OF_FORMAT.get(dataset_format, DisplayUpAxis.AUTO) if up == "auto" else DisplayUpAxis(up)


@click.group("viz")
def command() -> None:
    """Pictures of a dataset: routes with a sampled frame, and videos."""


@command.command("dataset")
@click.argument("dataset_format", metavar="FORMAT", type=click.Choice(FORMATS))
@click.argument("path", type=click.Path(exists=True, file_okay=False))
@click.option("--record", default=None, help="draw only this record")
@click.option("--camera", default=None, help="camera id (default: the first)")
@click.option("--up", type=click.Choice([u.value for u in DisplayUpAxis]), default="auto", show_default=True, help="world up axis")
@click.option("--out", required=True, type=click.Path(dir_okay=False), help="PNG file")
def dataset(dataset_format, path, record, camera, up, out) -> None:
    """The route of one record or all records (3-D, with its ground projection), coloured by record, with a
    sampled frame beside it."""
    frames = _frames(dataset_format, path, record, camera)
    routes = []
    for record_id in dict.fromkeys(f.record_id for f in frames):
        poses = [f.T_world_cam for f in frames if f.record_id == record_id]
        routes.append(RecordRoute(record_id, torch.stack(poses)[:, :3, 3]))
    middle = frames[len(frames) // 2]
    in_record = [f for f in frames if f.record_id == middle.record_id]
    sample = SampleFrame(middle.record_id, in_record.index(middle), read_image(middle.image_path), middle.image_path.name)
    click.echo(f"wrote {save_routes_png(out, routes, sample, up=_up(dataset_format, up))}")


@command.command("video")
@click.argument("dataset_format", metavar="FORMAT", type=click.Choice(FORMATS))
@click.argument("path", type=click.Path(exists=True, file_okay=False))
@click.option("--record", default=None, help="only this record")
@click.option("--camera", default=None, help="camera id (default: the first)")
@click.option("--fps", default=10.0, show_default=True, type=float)
@click.option("--up", type=click.Choice([u.value for u in DisplayUpAxis]), default="auto", show_default=True, help="world up axis")
@click.option("--out", required=True, type=click.Path(dir_okay=False), help="MP4 file")
def video(dataset_format, path, record, camera, fps, up, out) -> None:
    """The frames with the route travelled so far drawn as an inset."""
    frames = _frames(dataset_format, path, record, camera)
    written = write_route_video(
        out, (read_image(f.image_path) for f in frames), torch.stack([f.T_world_cam[:3, 3] for f in frames]),
        fps=fps, up=_up(dataset_format, up), labels=[f.image_path.name for f in frames],
        record_ids=[f.record_id for f in frames],
    )
    click.echo(f"wrote {written} ({len(frames)} frames)")
