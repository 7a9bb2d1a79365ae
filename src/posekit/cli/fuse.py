"""``posekit fuse``: pose-graph fusion of per-frame absolute poses with relative poses (gtsam).

Writes ``RUN/eval/<method>[.<record>].tum`` (one fused trajectory per record, as estimated), with ``--gt``
also ``<method>.csv`` (per-frame errors) and ``<method>.json`` (median_t_m, median_r_deg, mean_t_m,
mean_r_deg, recalls), and ``RUN/fusion_frames.csv`` (which frames kept an absolute factor, residuals).
"""

from __future__ import annotations

import json
from pathlib import Path

import click

from posekit.errors import ConfigError
from posekit.fusion.files import FuseFilesConfig, fuse_files
from posekit.fusion.graph import FusionOptions, RobustKernel
from posekit.fusion.measurements import sigma_vector


def _sigma(option: str, text: str):
    parts = text.split(",")
    try:
        translation, rotation = (float(p) for p in parts)
    except ValueError:
        raise ConfigError(f"{option}: expected 'T_M,R_DEG' (two numbers), got {text!r}") from None
    try:
        return sigma_vector(translation, rotation)
    except ValueError as error:
        raise ConfigError(f"{option}: {error}") from None


@click.command("fuse")
@click.option("--absolute", "absolute", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="TUM file of per-frame absolute poses (PoseNet, localize, retrieval).")
@click.option("--relative", "relative", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="Relative poses: a TUM trajectory (VO; consecutive poses give the steps) or a CSV "
                   "t_from,t_to,tx,ty,tz,qx,qy,qz,qw.")
@click.option("--frames", "frames", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Per-frame CSV in the absolute file's row order: 'name' (<record>/<frame>) gives the records, "
                   "'success' = 0 drops a frame's absolute factor.")
@click.option("--gt", "gt", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="TUM ground truth: adds per-frame errors and the summary.")
@click.option("--abs-sigma", default="0.3,10", show_default=True, help="Absolute sigma 'T_M,R_DEG'.")
@click.option("--rel-sigma", default="0.02,1", show_default=True, help="Relative sigma per step 'T_M,R_DEG'.")
@click.option("--sigmas-from-residuals", is_flag=True,
              help="Estimate both sigmas from the inputs' mutual consistency (no ground truth).")
@click.option("--robust", type=click.Choice([k.value for k in RobustKernel]), default="huber", show_default=True,
              help="Robust kernel on the factors.")
@click.option("--kernel-threshold", type=float, default=3.0, show_default=True,
              help="Kernel parameter on the whitened 6-D residual norm.")
@click.option("--absolute-every", type=click.IntRange(min=1), default=None,
              help="VO mode: absolute factors on every N-th frame of each record only.")
@click.option("--method", default="fused", show_default=True, help="File stem of the outputs.")
@click.option("--out", required=True, type=click.Path(file_okay=False, path_type=Path), help="Run folder.")
@click.option("--json", "as_json", is_flag=True, help="Print the summary as one JSON object.")
def command(absolute: Path, relative: Path, frames: Path | None, gt: Path | None, abs_sigma: str, rel_sigma: str,
            sigmas_from_residuals: bool, robust: str, kernel_threshold: float, absolute_every: int | None,
            method: str, out: Path, as_json: bool) -> None:
    """Fuse absolute and relative pose estimates of a query sequence with a pose graph (one per record)."""
    config = FuseFilesConfig(
        absolute_sigma=_sigma("--abs-sigma", abs_sigma), relative_sigma=_sigma("--rel-sigma", rel_sigma),
        sigmas_from_residuals=sigmas_from_residuals, absolute_every=absolute_every,
        options=FusionOptions(robust=RobustKernel(robust), kernel_threshold=kernel_threshold), method=method,
    )
    summary = fuse_files(absolute, relative, out, config, frames_path=frames, gt_path=gt)
    if as_json:
        click.echo(json.dumps(summary))
        return
    click.echo(f"fused {summary['frames']} frames in {summary['records']} record(s) -> {out}")
    if "median_t_m" in summary:
        click.echo(f"median {summary['median_t_m'] * 100:.1f} cm / {summary['median_r_deg']:.2f} deg, "
                   f"mean {summary['mean_t_m'] * 100:.1f} cm / {summary['mean_r_deg']:.2f} deg")
