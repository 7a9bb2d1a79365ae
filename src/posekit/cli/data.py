"""``posekit data``: look at and validate a dataset folder.

- ``posekit data info FORMAT PATH [--json]``: what the folder holds (frames, records, cameras, split counts,
  depth, intrinsics). ``--json`` prints one JSON object with the keys ``format``, ``path``, ``scene``,
  ``frames``, ``records``, ``cameras``, ``splits``, ``split_source``, ``has_depth``, ``has_timestamps``,
  ``intrinsics``, ``problems``, ``notes``.
- ``posekit data check FORMAT PATH``: decode every image and depth file and list every problem found; exit
  code 2 when there is any.

FORMAT is one of ``7scenes``, ``frames``, ``cambridge``, ``apolloscape``, ``kitti``, ``tum``, ``folder``.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import click

from posekit.data import DatasetFormat, DatasetIndex, VerifyLevel, assign_splits, load_index
from posekit.data.formats import scan_dataset
from posekit.errors import DatasetError

FORMAT_CHOICE = click.Choice([f.value for f in DatasetFormat])


def index_info(index: DatasetIndex) -> dict:
    """The facts ``posekit data info`` reports, as a JSON-serialisable dict."""
    assignment = assign_splits(index, write=False)
    intrinsics = {}
    for frame in index.frames:
        k = frame.intrinsics
        intrinsics.setdefault(frame.camera_id, {"fx": k.fx, "fy": k.fy, "cx": k.cx, "cy": k.cy, "width": k.width, "height": k.height})
    return {
        "format": index.format,
        "path": str(index.root),
        "scene": index.scene,
        "frames": len(index.frames),
        "records": index.record_counts(),
        "cameras": index.cameras,
        "splits": assignment.counts(),
        "split_source": assignment.source.value,
        "has_depth": index.has_depth,
        "has_timestamps": index.has_timestamps,
        "intrinsics": intrinsics,
        "problems": [str(p) for p in index.problems],
        "notes": index.notes,
    }


def format_info(info: dict) -> str:
    """``index_info`` as readable text."""
    records = ", ".join(f"{name} ({count})" for name, count in info["records"].items())
    splits = ", ".join(f"{name} {count}" for name, count in info["splits"].items())
    lines = [
        f"Dataset: {info['format']}",
        f"    Path: {info['path']}",
        f"    Scene: {info['scene']}",
        f"    Frames: {info['frames']}",
        f"    Records: {records}",
        f"    Cameras: {', '.join(info['cameras'])}",
        f"    Split: {info['split_source']}: {splits}",
        f"    Depth: {'yes' if info['has_depth'] else 'no'}",
        f"    Timestamps: {'yes' if info['has_timestamps'] else 'no'}",
    ]
    for camera, k in info["intrinsics"].items():
        lines.append(
            f"    Intrinsics {camera}: fx={k['fx']:g} fy={k['fy']:g} cx={k['cx']:g} cy={k['cy']:g} "
            f"({k['width']}x{k['height']})"
        )
    lines += [f"    Note: {note}" for note in info["notes"]]
    if info["problems"]:
        lines.append(f"    Skipped: {len(info['problems'])} problem(s) (run `posekit data check` for the list)")
    return "\n".join(lines)


@click.group("data")
def command() -> None:
    """Inspect and validate dataset folders."""


@command.command("info")
@click.argument("dataset_format", metavar="FORMAT", type=FORMAT_CHOICE)
@click.argument("path", type=click.Path(path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object instead of text.")
@click.option("--skip-bad", is_flag=True, help="Drop frames with problems instead of failing.")
def info(dataset_format: str, path: Path, as_json: bool, skip_bad: bool) -> None:
    """Summarise the dataset in PATH (frames, records, cameras, splits, depth, intrinsics)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        index = load_index(dataset_format, path, skip_bad=skip_bad)
    facts = index_info(index)
    click.echo(json.dumps(facts) if as_json else format_info(facts))


@command.command("check")
@click.argument("dataset_format", metavar="FORMAT", type=FORMAT_CHOICE)
@click.argument("path", type=click.Path(path_type=Path))
def check(dataset_format: str, path: Path) -> None:
    """Decode every file of the dataset in PATH and list every problem found (exit code 2 if any)."""
    frames, problems = scan_dataset(dataset_format, path, VerifyLevel.DECODE)
    for note in problems.notes:
        click.echo(f"note: {note}")
    if not problems:
        click.echo(f"OK: {len(frames)} frames, no problem found in {path}")
        return
    for problem in problems:
        click.echo(str(problem))
    usable = len(frames) - len(problems.bad_frame_keys & {f.key for f in frames})
    raise DatasetError(f"{len(problems)} problem(s) found in {path} ({usable} of {len(frames)} frames usable)")
