"""Pose-graph fusion on query sequences: PoseNet (or any absolute estimator) + visual odometry through gtsam.

Modes (each prints a table and, last, one JSON line):

- ``sevenscenes``: 7-Scenes redkitchen seq-01 held-out frames 800-999 (trained on 0-799, split
  ``blocks:200:5``). Absolute estimates are read from evaluation run folders (``eval/<method>.tum`` rows
  named by ``eval/<method>.csv``); VO between consecutive test frames by direct alignment with the earlier
  frame's sensor depth and by ORB + PnP; rows: the absolute estimators alone, fused with VO (fixed sigmas and
  sigmas from residuals), the VO mode (absolute fix every N frames), VO alone from the first absolute pose,
  and the trivial baselines (mean training pose, last training frame).
- ``kitti``: KITTI seq 06 and 01 excerpts (51 grey frames, no depth): ORB + essential-matrix VO with the
  step length taken from the ground truth (monocular scale is unobservable); drift as the devkit's
  sub-sequence metric at short lengths (10-50 m, the excerpts are 52-60 m long) and ATE.
- ``--quick``: the synthetic check (no data): a noisy absolute + relative sequence, fused.

Usage::

    python benchmarks/fusion_sequences.py sevenscenes --absolute posenet=RUN1 --absolute retrieval=RUN2 --out DIR
    python benchmarks/fusion_sequences.py kitti --out DIR
    python benchmarks/fusion_sequences.py --quick
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path

import torch

from posekit.errors import TrajectoryError
from posekit.fusion.graph import FusionOptions
from posekit.fusion.inputs import read_relative_csv, write_relative_csv
from posekit.fusion.measurements import (
    AbsoluteMeasurements,
    RelativeMeasurements,
    chain_relative_poses,
    sigma_vector,
)
from posekit.fusion.noise import sigmas_from_residuals
from posekit.fusion.odometry import direct_odometry, essential_odometry, pnp_odometry
from posekit.fusion.outputs import write_fusion_run
from posekit.fusion.sequence import fuse_sequence
from posekit.geometry import relative_pose, se3_exp
from posekit.metrics import Trajectory, absolute_pose_errors, read_tum, write_tum
from posekit.metrics.kitti_odometry import kitti_segment_errors
from posekit.metrics.alignment import AlignmentType, align_trajectory
from posekit.metrics.ape_rpe import PoseRelation, compute_ape

DEFAULT_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
FIXED_ABS = (0.3, 10.0)  # a priori sigmas (m, deg), the CLI defaults, not tuned on the test frames
FIXED_REL = (0.02, 1.0)


def _row(name: str, T_est: torch.Tensor, T_gt: torch.Tensor) -> dict:
    errors = absolute_pose_errors(T_gt, T_est)
    s = errors.summary()
    return {"method": name, "median_t_m": s.median_translation, "median_r_deg": s.median_rotation_deg,
            "mean_t_m": s.mean_translation, "mean_r_deg": s.mean_rotation_deg,
            "recall_5cm_5deg": s.recall[(0.05, 5.0)]}


def _print_table(rows: list[dict]) -> None:
    print(f"| {'method':<58} | median t | median r | mean t | mean r | 5cm/5deg |")
    print("|" + "---|" * 6)
    for r in rows:
        print(f"| {r['method']:<58} | {r['median_t_m'] * 100:.1f} cm | {r['median_r_deg']:.2f} deg | "
              f"{r['mean_t_m'] * 100:.1f} cm | {r['mean_r_deg']:.2f} deg | {r['recall_5cm_5deg'] * 100:.0f} % |")


def _consecutive(n: int) -> torch.Tensor:
    return torch.stack((torch.arange(n - 1), torch.arange(1, n)), dim=1)


def _fuse(T_abs: torch.Tensor, steps: torch.Tensor, step_ok: torch.Tensor, sigma_abs: torch.Tensor,
          sigma_rel: torch.Tensor, records: list[str] | None = None, robust: str = "huber",
          every: int | None = None) -> torch.Tensor:
    """Steps ``k -> k+1`` that failed (or cross two records: ``step_ok`` False) are left out."""
    pairs = _consecutive(T_abs.shape[0])[step_ok]
    absolute = AbsoluteMeasurements(T_abs, sigma_abs)
    relative = RelativeMeasurements(pairs, steps[step_ok], sigma_rel)
    return fuse_sequence(absolute, relative, records, FusionOptions(robust=robust), absolute_every=every).T_world_cam


def _chain_per_record(T_first: torch.Tensor, steps: torch.Tensor, records: list[str]) -> torch.Tensor:
    """Dead reckoning within each record from ``T_first`` at the record's first frame (``(N, 4, 4)``)."""
    out = T_first.clone()
    for k in range(1, len(records)):
        if records[k] == records[k - 1]:
            out[k] = out[k - 1] @ steps[k - 1]
    return out


# ------------------------------------------------------------------------------------------------------
# 7-Scenes
# ------------------------------------------------------------------------------------------------------


def _read_absolute_run(run_dir: Path, method: str) -> dict[str, torch.Tensor]:
    """name -> T_world_cam of an evaluation folder's ``eval/<method>.tum`` (rows named by ``<method>.csv``)."""
    from posekit.fusion.inputs import read_frame_flags  # noqa: PLC0415

    traj = read_tum(run_dir / "eval" / f"{method}.tum")
    names = read_frame_flags(run_dir / "eval" / f"{method}.csv").names
    return dict(zip(names, traj.poses))


def _cached_vo(path: Path, compute, n: int) -> tuple[torch.Tensor, torch.Tensor]:
    """VO steps ``T_i_(i+1)`` and success flags, read from / written to a relative CSV whose timestamps are
    the row indices (as in the evaluation's TUM files); failed steps are not written."""
    if path.exists():
        table = read_relative_csv(path)
        steps = torch.eye(4, dtype=torch.float64).repeat(n - 1, 1, 1)
        ok = torch.zeros(n - 1, dtype=torch.bool)
        rows = table.t_from.round().long()
        steps[rows], ok[rows] = table.T_i_j, True
        return steps, ok
    steps, ok = compute()
    rows = ok.nonzero().reshape(-1)
    write_relative_csv(path, rows.double(), rows.double() + 1.0, steps[rows])
    return steps, ok


def _aligned_per_record(T_est: torch.Tensor, T_gt: torch.Tensor, records: list[str]) -> torch.Tensor:
    """``T_est`` moved by the SE(3) Umeyama alignment of its positions to the ground truth, per record (a mean
    shift where the positions are degenerate)."""
    out = T_est.clone()
    for record in dict.fromkeys(records):
        rows = [k for k, r in enumerate(records) if r == record]
        stamps = torch.arange(len(rows), dtype=torch.float64)
        try:
            aligned, _ = align_trajectory(Trajectory(T_est[rows], stamps), Trajectory(T_gt[rows], stamps), AlignmentType.se3)
            out[rows] = aligned.poses
        except TrajectoryError:  # degenerate positions (e.g. one retrieved pose for the whole block): shift only
            out[rows, :3, 3] += (T_gt[rows, :3, 3] - T_est[rows, :3, 3]).mean(0)
    return out


def _held_out(order: int, spec: str) -> bool:
    """``800-999`` (a frame range) or ``blocks:N:K`` (every K-th block of N frames, as ``SplitPolicy``)."""
    if spec.startswith("blocks:"):
        _, block, every = spec.split(":")
        return (order // int(block)) % int(every) == int(every) - 1
    first, last = (int(v) for v in spec.split("-"))
    return first <= order <= last


def sevenscenes(args: argparse.Namespace) -> dict:
    from posekit.data import FrameLoader, FrameTransform, load_index  # noqa: PLC0415

    index = load_index("frames", args.data / "7scenes_redkitchen_seq01")
    frames = sorted(index.frames, key=lambda f: f.order)
    train = [f for f in frames if not _held_out(f.order, args.test)]
    test = [f for f in frames if _held_out(f.order, args.test)]
    names = [f"{f.record_id}/{f.frame_id}" for f in test]
    # records: runs of consecutive frames (a held-out block); never linked by the graph
    records, run = [], 0
    for k, f in enumerate(test):
        run += int(k > 0 and f.order != test[k - 1].order + 1)
        records.append(f"run{run:03d}")
    n = len(test)
    T_gt = torch.stack([f.T_world_cam for f in test]).double()
    args.out.mkdir(parents=True, exist_ok=True)
    write_tum(args.out / "gt.tum", Trajectory(T_gt, torch.arange(n, dtype=torch.float64)))
    same_record = torch.tensor([records[k] == records[k + 1] for k in range(n - 1)], dtype=torch.bool)

    def load(size):
        loader = FrameLoader(FrameTransform(resize=tuple(size)))
        loaded = [loader.load(f) for f in test]
        return torch.stack([x.image for x in loaded]), torch.stack([x.depth for x in loaded]), loaded[0].intrinsics

    def masked(result):
        return result[0], result[1] & same_record

    vo = {"direct": _cached_vo(args.out / "vo_direct.csv", lambda: masked(direct_odometry(*load(args.size))), n),
          "ORB+PnP": _cached_vo(args.out / "vo_pnp.csv", lambda: masked(pnp_odometry(*load(args.pnp_size))), n)}
    rows: list[dict] = []
    gt_steps = relative_pose(T_gt[:-1], T_gt[1:])
    for name, (steps, ok) in vo.items():
        step_err = absolute_pose_errors(gt_steps[ok], steps[ok])
        print(f"VO {name}: {int(ok.sum())}/{int(same_record.sum())} steps ok, step error median "
              f"{float(step_err.translation.median()) * 100:.2f} cm / {float(step_err.rotation_deg.median()):.2f} deg",
              file=sys.stderr)
        rows.append(_row(f"VO {name} alone, first pose from ground truth (drift only)",
                         _chain_per_record(T_gt, steps, records), T_gt))
    train_T = torch.stack([f.T_world_cam for f in train]).double()
    rows.append(_row("mean training pose (trivial)", _mean_pose(train_T).expand(n, 4, 4), T_gt))
    train_orders = torch.tensor([f.order for f in train])
    nearest = torch.stack([train_T[int(torch.argmin((train_orders - f.order).abs()))] for f in test])
    rows.append(_row("nearest training frame in time (trivial, needs frame numbers)", nearest, T_gt))
    sigma_abs, sigma_rel = sigma_vector(*FIXED_ABS), sigma_vector(*FIXED_REL)
    summary: dict = {"records": len(set(records)), "frames": n}
    stamps = torch.arange(n, dtype=torch.float64)
    for spec in args.absolute:
        method, run_dir = spec.split("=", 1)
        by_name = _read_absolute_run(Path(run_dir), method)
        T_abs = torch.stack([by_name[name] for name in names]).double()
        rows.append(_row(f"{method} alone", T_abs, T_gt))
        rows.append(_row(f"{method} after its best SE(3) fit to the GT per record (oracle: the shared error PGO cannot see)",
                         _aligned_per_record(T_abs, T_gt, records), T_gt))
        for vo_name, (steps, ok) in vo.items():
            groups = {}
            for k, r in enumerate(records):
                groups.setdefault(r, []).append(k)
            estimated = sigmas_from_residuals([T_abs[g] for g in groups.values()], [steps[g[:-1]] for g in groups.values()])
            label = f"{method} + VO {vo_name}"
            variants = {
                f"{label}, PGO (fixed sigmas)": _fuse(T_abs, steps, ok, sigma_abs, sigma_rel, records),
                f"{label}, PGO (sigmas from residuals)": _fuse(T_abs, steps, ok, estimated.absolute, estimated.relative, records),
                f"{label}, VO mode: fix every {args.every} frames": _fuse(T_abs, steps, ok, sigma_abs, sigma_rel, records, every=args.every),
                f"VO {vo_name} alone, first pose of each record from {method}": _chain_per_record(T_abs, steps, records),
            }
            for row_name, T_fused in variants.items():
                rows.append(_row(row_name, T_fused, T_gt))
                if "PGO (sigmas from residuals)" in row_name:
                    stem = f"{method}_vo_{vo_name.replace('+', '_').lower()}"
                    write_fusion_run(args.out, stem, Trajectory(T_fused, stamps, [f"{r}/{name}" for r, name in zip(records, names)]), T_gt)
            summary[f"{label} residual sigmas (m, deg, m, deg)"] = [
                float(estimated.absolute[0]), math.degrees(float(estimated.absolute[3])),
                float(estimated.relative[0]), math.degrees(float(estimated.relative[3]))]
    _print_table(rows)
    return {"rows": rows, **summary}


def _mean_pose(T: torch.Tensor) -> torch.Tensor:
    """Mean position and the chordal L2 mean rotation (SVD projection of the mean matrix)."""
    u, _, vh = torch.linalg.svd(T[:, :3, :3].mean(0))
    rotation = u @ torch.diag(torch.tensor([1.0, 1.0, float(torch.linalg.det(u @ vh))], dtype=torch.float64)) @ vh
    pose = torch.eye(4, dtype=torch.float64)
    pose[:3, :3], pose[:3, 3] = rotation, T[:, :3, 3].mean(0)
    return pose


# ------------------------------------------------------------------------------------------------------
# KITTI
# ------------------------------------------------------------------------------------------------------


def kitti(args: argparse.Namespace) -> dict:
    from posekit.data import FrameLoader, load_index  # noqa: PLC0415

    results = {}
    print("| sequence | VO | steps ok | ATE (SE(3)) | end-point drift | devkit t err 10-50 m | devkit r err 10-50 m |")
    print("|---|---|---|---|---|---|---|")
    for sequence in ("seq06_frames000000-000050", "seq01_frames000000-000050"):
        index = load_index("kitti", args.data / "kitti_odometry" / sequence)
        frames = sorted(index.frames, key=lambda f: f.order)
        T_gt = torch.stack([f.T_world_cam for f in frames]).double()
        loader = FrameLoader(load_depth=False)
        loaded = [loader.load(f) for f in frames]
        images = torch.stack([x.image for x in loaded])
        gt_steps = relative_pose(T_gt[:-1], T_gt[1:])
        lengths = torch.linalg.vector_norm(gt_steps[:, :3, 3], dim=-1)
        steps, ok = essential_odometry(images, loaded[0].intrinsics, lengths)
        T_vo = chain_relative_poses(T_gt[0], steps)
        stamps = torch.arange(len(frames), dtype=torch.float64)
        ate = compute_ape(Trajectory(T_gt, stamps), Trajectory(T_vo, stamps), PoseRelation.translation_part,
                          AlignmentType("se3")).statistics["rmse"]
        path = float(lengths.sum())
        drift = float(torch.linalg.vector_norm(T_vo[-1, :3, 3] - T_gt[-1, :3, 3])) / path
        segments = kitti_segment_errors(T_gt, T_vo, torch.ones(len(frames), dtype=torch.bool),
                                        lengths=(10.0, 20.0, 30.0, 40.0, 50.0), step_size=1)
        t_err = float(segments.translation_error.mean()) * 100
        r_err = float(segments.rotation_error.mean()) * 180 / math.pi * 100
        print(f"| {sequence[:5]} | ORB + essential, GT step length | {int(ok.sum())}/{len(ok)} | {ate:.2f} m | "
              f"{drift * 100:.1f} % of {path:.0f} m | {t_err:.2f} % | {r_err:.2f} deg/100 m |")
        results[sequence[:5]] = {"ate_m": ate, "end_drift_percent": drift * 100, "kitti_t_percent_10_50m": t_err,
                                 "kitti_r_deg_per_100m_10_50m": r_err, "steps_ok": int(ok.sum()), "path_m": path}
    return results


# ------------------------------------------------------------------------------------------------------
# temporal model (frozen ImageNet features; per-frame head vs 1-D convolution over time)
# ------------------------------------------------------------------------------------------------------


def _runs(orders: list[int]) -> list[list[int]]:
    """Rows of runs of consecutive frame numbers."""
    runs: list[list[int]] = []
    for row, order in enumerate(orders):
        if runs and order == orders[runs[-1][-1]] + 1:
            runs[-1].append(row)
        else:
            runs.append([row])
    return runs


def temporal(args: argparse.Namespace) -> dict:
    from posekit.data import FrameLoader, FrameTransform, load_index  # noqa: PLC0415
    from posekit.models import create_backbone  # noqa: PLC0415
    from posekit.training.temporal import TemporalFitConfig, fit_temporal_head  # noqa: PLC0415

    index = load_index("frames", args.data / "7scenes_redkitchen_seq01")
    frames = sorted(index.frames, key=lambda f: f.order)
    cache = args.out / "features_efficientnet_lite0_128x160.pt"
    if cache.exists():
        features = torch.load(cache)
    else:
        loader = FrameLoader(FrameTransform(resize=128, crop=(128, 160)), load_depth=False)
        encoder = create_backbone("efficientnet_lite0", pretrained=True).eval()
        chunks = []
        with torch.no_grad():
            for start in range(0, len(frames), 32):
                images = torch.stack([loader.load(f).image for f in frames[start : start + 32]])
                chunks.append(encoder.forward_pooled(images))
        features = torch.cat(chunks)
        args.out.mkdir(parents=True, exist_ok=True)
        torch.save(features, cache)
    T_all = torch.stack([f.T_world_cam for f in frames]).double()
    held = torch.tensor([_held_out(f.order, args.test) for f in frames])
    train_rows = held.logical_not().nonzero().reshape(-1).tolist()
    test_rows = held.nonzero().reshape(-1).tolist()
    train_runs = [[train_rows[i] for i in run] for run in _runs([frames[r].order for r in train_rows])]
    test_runs = [[test_rows[i] for i in run] for run in _runs([frames[r].order for r in test_rows])]
    rows = []
    for label, kernel in (("per-frame head (kernel 1)", 1), ("temporal head (1-D conv, kernel 5)", 5)):
        fitted = fit_temporal_head(features, T_all, train_runs, TemporalFitConfig(kernel_size=kernel, steps=args.steps))
        T_est = torch.cat([fitted.predict(features[run]) for run in test_runs])
        T_gt = torch.cat([T_all[run] for run in test_runs])
        rows.append(_row(f"{label}, frozen ImageNet features, {args.steps} steps", T_est, T_gt))
    _print_table(rows)
    return {"rows": rows, "train_frames": len(train_rows), "test_frames": len(test_rows), "test_records": len(test_runs)}


# ------------------------------------------------------------------------------------------------------
# quick synthetic check
# ------------------------------------------------------------------------------------------------------


def quick() -> dict:
    generator = torch.Generator().manual_seed(0)
    n = 80
    s = torch.linspace(0.0, 1.0, n, dtype=torch.float64)
    xi = torch.zeros(n, 6, dtype=torch.float64)
    xi[:, 0], xi[:, 1], xi[:, 4] = 3.0 * s, 0.3 * torch.sin(6.0 * s), s
    T_gt = se3_exp(xi)

    def noisy(T, sigma_t, sigma_r_deg):
        noise = torch.randn(T.shape[0], 6, dtype=torch.float64, generator=generator)
        noise[:, :3] *= sigma_t
        noise[:, 3:] *= math.radians(sigma_r_deg)
        return T @ se3_exp(noise)

    T_abs = noisy(T_gt, 0.2, 5.0)
    steps = noisy(relative_pose(T_gt[:-1], T_gt[1:]), 0.01, 0.3)
    ok = torch.ones(n - 1, dtype=torch.bool)
    estimated = sigmas_from_residuals([T_abs], [steps])
    rows = [_row("absolute alone", T_abs, T_gt),
            _row("absolute + relative, PGO (true sigmas)", _fuse(T_abs, steps, ok, sigma_vector(0.2, 5.0), sigma_vector(0.01, 0.3)), T_gt),
            _row("absolute + relative, PGO (sigmas from residuals)", _fuse(T_abs, steps, ok, estimated.absolute, estimated.relative), T_gt),
            _row("relative alone from the first absolute pose", chain_relative_poses(T_abs[0], steps), T_gt)]
    _print_table(rows)
    return {"rows": rows}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("mode", nargs="?", choices=("sevenscenes", "kitti", "temporal"), default=None)
    parser.add_argument("--quick", action="store_true", help="synthetic check only (no data)")
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="the shared data folder")
    parser.add_argument("--absolute", action="append", default=[], help="METHOD=RUN_DIR with eval/METHOD.{tum,csv}")
    parser.add_argument("--size", type=int, nargs=2, default=(120, 160), help="direct-alignment image size H W")
    parser.add_argument("--pnp-size", type=int, nargs=2, default=(240, 320), help="ORB + PnP image size H W")
    parser.add_argument("--every", type=int, default=25, help="VO mode: absolute fix every N frames")
    parser.add_argument("--steps", type=int, default=1500, help="temporal: training steps of each head")
    parser.add_argument("--test", default="800-999", help="7-Scenes held-out frames: FIRST-LAST or blocks:N:K")
    parser.add_argument("--out", type=Path, default=Path("/tmp/fusion/sequences"))
    args = parser.parse_args(argv)
    if args.quick or args.mode is None:
        result = quick()
    elif args.mode == "sevenscenes":
        result = sevenscenes(args)
    elif args.mode == "temporal":
        result = temporal(args)
    else:
        result = kitti(args)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
