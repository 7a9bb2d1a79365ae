"""``posekit data``: look at and validate a dataset folder.

- ``posekit data info FORMAT PATH [--split POLICY] [--json]``: what the folder holds (frames, records, cameras,
  split counts, depth, intrinsics) and, per record, which frames go to train and to test under the split
  policy (``auto`` or ``blocks:N:K``, as ``posekit train --split``). ``--json`` prints one JSON object with the
  keys ``format``, ``path``, ``scene``, ``frames``, ``records``, ``cameras``, ``split_policy``, ``splits``,
  ``split_source``, ``split_frames`` (record -> split -> list of ``{"positions": [a, b], "numbers": [a, b],
  "count": n}``, consecutive frames, both ends included), ``has_depth``, ``has_timestamps``, ``intrinsics``,
  ``problems``, ``notes``.
- ``posekit data check FORMAT PATH``: decode every image and depth file and list every problem found; exit
  code 2 when there is any.

FORMAT is one of ``7scenes``, ``frames``, ``cambridge``, ``apolloscape``, ``kitti``, ``tum``, ``folder``.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import click

from posekit.data import DatasetFormat, DatasetIndex, SplitPolicy, VerifyLevel, assign_splits, load_index
from posekit.data.formats import scan_dataset
from posekit.data.splits import FrameSpan, split_spans
from posekit.errors import DatasetError

FORMAT_CHOICE = click.Choice([f.value for f in DatasetFormat])


def _span_json(span: FrameSpan) -> dict:
    return {"positions": [span.first_position, span.last_position], "numbers": [span.first_number, span.last_number],
            "count": span.count}


def index_info(index: DatasetIndex, policy: SplitPolicy = SplitPolicy()) -> dict:
    """The facts ``posekit data info`` reports, as a JSON-serialisable dict."""
    assignment = assign_splits(index, policy, write=False)
    spans = split_spans(index, assignment)
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
        "split_policy": str(policy),
        "splits": assignment.counts(),
        "split_source": assignment.source.value,
        "split_frames": {record: {split: [_span_json(s) for s in runs] for split, runs in by_split.items()}
                         for record, by_split in spans.items()},
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
        f"    Split: {info['split_policy']} ({info['split_source']}): {splits}",
        *_split_frame_lines(info),
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


def _span_text(span: dict) -> str:
    first, last = span["numbers"]
    at_first, at_last = span["positions"]
    numbers = f"{first}" if first == last else f"{first}-{last}"
    positions = f"@{at_first}" if at_first == at_last else f"@{at_first}-{at_last}"
    return numbers if (first, last) == (at_first, at_last) else f"{numbers} ({positions})"


def _split_frame_lines(info: dict, limit: int = 6) -> list[str]:
    """One line per record: its frames per split as frame numbers (with positions where they differ)."""
    lines = []
    for record, by_split in info["split_frames"].items():
        parts = []
        for split, runs in by_split.items():
            shown = ", ".join(_span_text(s) for s in runs[:limit]) + (f", ... ({len(runs)} runs)" if len(runs) > limit else "")
            parts.append(f"{split} {sum(s['count'] for s in runs)}: {shown}")
        lines.append(f"      {record}: " + "; ".join(parts))
    return lines


@click.group("data")
def command() -> None:
    """Inspect and validate dataset folders."""


@command.command("info")
@click.argument("dataset_format", metavar="FORMAT", type=FORMAT_CHOICE)
@click.argument("path", type=click.Path(path_type=Path))
@click.option("--split", "split_policy", default="auto", show_default=True,
              help="split policy to show: auto (official, else generated train/test) or blocks:N:K (the middle block "
                   "of every K blocks of N frames is test), as in posekit train")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object instead of text.")
@click.option("--skip-bad", is_flag=True, help="Drop frames with problems instead of failing.")
def info(dataset_format: str, path: Path, split_policy: str, as_json: bool, skip_bad: bool) -> None:
    """Summarise the dataset in PATH (frames, records, cameras, depth, intrinsics) and show, per record, which
    frames go to train and to test under the split policy: frame numbers, with 0-based positions in the record
    (@A-B) where they differ. Both forms are valid --train-frames/--val-frames/--test-frames ranges
    (REC:A-B: positions in one record)."""
    policy = SplitPolicy.parse(split_policy)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        index = load_index(dataset_format, path, skip_bad=skip_bad)
    facts = index_info(index, policy)
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
