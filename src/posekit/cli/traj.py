"""``posekit traj``: inspect, convert, transform and merge trajectory files (evo's ``evo_traj``)."""

from __future__ import annotations

import json
from pathlib import Path

import click

from posekit.errors import TrajectoryError
from posekit.metrics import AlignmentType, align_origin, align_trajectory, apply_similarity, read_pose_matrix_file
from posekit.metrics.sync import associate_trajectories
from posekit.metrics.trajectory_tools import (
    READ_FORMATS,
    WRITE_FORMATS,
    merge_trajectories,
    read_any,
    trajectory_info,
    write_any,
)

_FORMAT = click.option("--format", "file_format", type=click.Choice(READ_FORMATS), default="tum", show_default=True,
                       help="Input format (7scenes: a folder of frame-XXXXXX.pose.txt).")
_TIMES = click.option("--times", type=click.Path(dir_okay=False), default=None, help="KITTI times.txt for the input.")


@click.group("traj")
def command() -> None:
    """Inspect, convert, transform and merge trajectory files."""


@command.command("info")
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@_FORMAT
@_TIMES
@click.option("--json", "as_json", is_flag=True, help="One JSON object per file.")
def info(paths: tuple[Path, ...], file_format: str, times: str | None, as_json: bool) -> None:
    """Poses, path length, duration and extent of each file."""
    for path in paths:
        summary = trajectory_info(read_any(path, file_format, times))
        if as_json:
            click.echo(json.dumps({"file": str(path), **summary}))
            continue
        click.echo(str(path))
        for key, value in summary.items():
            shown = "-" if value is None else (f"{value:.6f}" if isinstance(value, float) else
                                               " ".join(f"{v:.3f}" for v in value) if isinstance(value, list) else value)
            click.echo(f"  {key:>14}  {shown}")


@command.command("convert")
@click.argument("source", type=click.Path(path_type=Path))
@click.argument("target", type=click.Path(path_type=Path))
@click.option("--from", "from_format", type=click.Choice(READ_FORMATS), required=True, help="Input format.")
@click.option("--to", "to_format", type=click.Choice(WRITE_FORMATS), required=True, help="Output format.")
@_TIMES
def convert(source: Path, target: Path, from_format: str, to_format: str, times: str | None) -> None:
    """Rewrite SOURCE as TARGET in another format (TUM without stamps gets the frame index as its time)."""
    traj = read_any(source, from_format, times)
    click.echo(f"wrote {write_any(target, traj, to_format)} ({len(traj)} poses)")


@command.command("transform")
@click.argument("source", type=click.Path(path_type=Path))
@click.argument("target", type=click.Path(path_type=Path))
@_FORMAT
@click.option("--matrix", type=click.Path(dir_okay=False), default=None,
              help="A 4x4 T_new_world (4 rows of 4 numbers) left-multiplied onto every pose.")
@click.option("--align-to", "reference", type=click.Path(path_type=Path), default=None,
              help="Align to this reference (same format; matched by timestamp, or pose i to pose i).")
@click.option("--align", "alignment", type=click.Choice(["se3", "sim3", "scale", "origin"]), default="se3",
              show_default=True, help="With --align-to: Umeyama SE(3), Sim(3), scale only, or first pose on first pose.")
@click.option("--max-diff", type=float, default=0.01, show_default=True, help="With --align-to: stamp matching (s).")
def transform(source: Path, target: Path, file_format: str, matrix: str | None, reference: Path | None,
              alignment: str, max_diff: float) -> None:
    """Move a trajectory by a 4x4 transform or align it to a reference; written in the input's format."""
    if (matrix is None) == (reference is None):
        raise TrajectoryError("give exactly one of --matrix FILE and --align-to REFERENCE")
    traj = read_any(source, file_format)
    if matrix is not None:
        moved = traj.transformed(read_pose_matrix_file(matrix))
        how = f"T from {matrix}"
    else:
        ref = read_any(reference, file_format)
        if traj.timestamps is not None and ref.timestamps is not None:
            ref_matched, est_matched = associate_trajectories(ref, traj, max_diff=max_diff)
        elif len(ref) == len(traj):
            ref_matched, est_matched = ref, traj
        else:
            raise TrajectoryError(f"--align-to: no timestamps and {len(ref)} vs {len(traj)} poses")
        if alignment == "origin":
            _, T_ref_est = align_origin(est_matched, ref_matched)
            moved, scale = traj.transformed(T_ref_est), 1.0
        else:
            _, similarity = align_trajectory(est_matched, ref_matched, AlignmentType(alignment))
            moved, scale = apply_similarity(traj, similarity), similarity.scale
        how = f"{alignment} alignment to {reference}, scale {scale:.6g}"
    click.echo(f"wrote {write_any(target, moved, file_format)} ({how})")


@command.command("merge")
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--out", required=True, type=click.Path(dir_okay=False, path_type=Path), help="Merged TUM file.")
@_FORMAT
def merge(paths: tuple[Path, ...], out: Path, file_format: str) -> None:
    """Merge timestamped trajectories into one TUM file, sorted by time."""
    merged = merge_trajectories([read_any(path, file_format) for path in paths])
    click.echo(f"wrote {write_any(out, merged, 'tum')} ({len(merged)} poses)")
