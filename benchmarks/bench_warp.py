"""Forward + backward time of posekit's depth-pose warp against kornia's ``warp_frame_depth``.

Both warp the same batch (default B=8 RGB 240x320 float32 on the CPU: scikit-image sample photographs as
source images, a tilted, bumpy plane 1.5-4 m away with a few depth holes, small random motions) and are
differentiated with respect to the pose ``T_src_tgt`` (a ``(B, 4, 4)`` leaf) and the target depth, through the
same photometric L1 loss against a target image. After a warm-up the two are timed alternately, so that load
from other processes hits both alike, and the median of ``--repeats`` runs is reported.

Agreement: the maximum absolute difference of the two warped images over the pixels posekit marks valid
(kornia has no mask) must be <= 1e-4, else the script exits with status 1.

Prints a table and, last, one JSON line. JSON keys: ``ours_ms`` and ``kornia_ms`` (median forward + backward
time, ms), ``speedup_vs_kornia`` (kornia_ms / ours_ms, same run) and ``max_abs_diff`` (the agreement above).

Usage::

    python benchmarks/bench_warp.py [--batch 8] [--height 240] [--width 320] [--repeats 30] [--threads N] [--quick]
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from collections.abc import Callable

import torch
from kornia.geometry.depth import warp_frame_depth

from posekit.demo.plane import SAMPLE_IMAGES, load_sample_photograph
from posekit.geometry import PinholeIntrinsics, se3_exp, warp_source_to_target

AGREEMENT_TOLERANCE = 1e-4


def make_inputs(batch: int, height: int, width: int, seed: int):
    """Source images, target images, target depth, poses and intrinsics for the benchmark."""
    generator = torch.Generator().manual_seed(seed)
    photos = [load_sample_photograph(SAMPLE_IMAGES[i % len(SAMPLE_IMAGES)], width, height) for i in range(batch)]
    source = torch.cat([p if (i // len(SAMPLE_IMAGES)) % 2 == 0 else p.flip(-1) for i, p in enumerate(photos)])
    target = source.roll(shifts=(2, 3), dims=(-2, -1))
    v, u = torch.meshgrid(
        torch.arange(height, dtype=torch.float32), torch.arange(width, dtype=torch.float32), indexing="ij"
    )
    plane = 2.5 + 1.0 * (u / width - 0.5) - 0.6 * (v / height - 0.5)
    bumps = 0.3 * torch.sin(u / 17.0) * torch.cos(v / 23.0)
    depth = (plane + bumps).expand(batch, 1, height, width).clone()
    depth *= 1 + 0.05 * torch.rand(batch, 1, 1, 1, generator=generator)
    depth[torch.rand(depth.shape, generator=generator) < 0.01] = 0.0  # holes, as in real depth maps
    xi = torch.cat(
        (0.05 * torch.randn(batch, 3, generator=generator), 0.03 * torch.randn(batch, 3, generator=generator)), dim=-1
    )
    T_src_tgt = se3_exp(xi)
    focal = 0.8 * width
    intrinsics = PinholeIntrinsics(focal, focal, (width - 1) / 2, (height - 1) / 2, width, height)
    return source, target, depth, T_src_tgt, intrinsics


def forward_backward(warp: Callable, source, target, depth, T_src_tgt) -> torch.Tensor:
    """One training-like step: warp, L1 photometric loss, gradients w.r.t. pose and depth. Returns the warp."""
    pose = T_src_tgt.clone().requires_grad_(True)
    target_depth = depth.clone().requires_grad_(True)
    warped = warp(source, target_depth, pose)
    loss = (warped - target).abs().mean()
    loss.backward()
    assert pose.grad is not None and target_depth.grad is not None
    return warped.detach()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--height", type=int, default=240)
    parser.add_argument("--width", type=int, default=320)
    parser.add_argument("--repeats", type=int, default=30)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--threads", type=int, default=None, help="torch CPU threads (default: torch's choice)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--quick", action="store_true", help="smallest settings, seconds: checks that the script runs (numbers meaningless)")
    args = parser.parse_args()
    if args.quick:
        args.batch, args.height, args.width, args.repeats, args.warmup = 2, 48, 64, 2, 1
    if args.threads is not None:
        torch.set_num_threads(args.threads)

    source, target, depth, T_src_tgt, intrinsics = make_inputs(args.batch, args.height, args.width, args.seed)
    camera_matrix = intrinsics.matrix(torch.float32).expand(args.batch, 3, 3)

    def ours(image, target_depth, pose):
        return warp_source_to_target(image, target_depth, pose, intrinsics).warped

    def kornia(image, target_depth, pose):
        return warp_frame_depth(image, target_depth, pose, camera_matrix)

    candidates = {"posekit warp_source_to_target": ours, "kornia warp_frame_depth": kornia}

    with torch.no_grad():
        valid = warp_source_to_target(source, depth, T_src_tgt, intrinsics).valid
        difference = (ours(source, depth, T_src_tgt) - kornia(source, depth, T_src_tgt)).abs()
    max_abs_diff = float(difference[valid.expand_as(difference)].max())
    valid_share = float(valid.float().mean())

    for _ in range(args.warmup):
        for warp in candidates.values():
            forward_backward(warp, source, target, depth, T_src_tgt)
    times: dict[str, list[float]] = {name: [] for name in candidates}
    for _ in range(args.repeats):
        for name, warp in candidates.items():
            start = time.perf_counter()
            forward_backward(warp, source, target, depth, T_src_tgt)
            times[name].append((time.perf_counter() - start) * 1e3)

    b, c, h, w = source.shape
    print(f"forward + backward (pose, depth), B={b}, {c}x{h}x{w}, float32, CPU, {torch.get_num_threads()} threads, "
          f"{args.repeats} runs after {args.warmup} warm-up")
    print(f"{'':32s} {'median ms':>10s} {'min ms':>8s} {'max ms':>8s}")
    for name, values in times.items():
        print(f"{name:32s} {statistics.median(values):10.2f} {min(values):8.2f} {max(values):8.2f}")
    ours_ms, kornia_ms = (statistics.median(v) for v in times.values())
    print(f"speed-up vs kornia (medians): {kornia_ms / ours_ms:.2f}x")
    print(f"agreement over the {100 * valid_share:.1f}% valid pixels: max |ours - kornia| = {max_abs_diff:.2e} "
          f"(tolerance {AGREEMENT_TOLERANCE:g})")
    print(json.dumps({
        "ours_ms": round(ours_ms, 3),
        "kornia_ms": round(kornia_ms, 3),
        "speedup_vs_kornia": round(kornia_ms / ours_ms, 3),
        "max_abs_diff": max_abs_diff,
    }))
    if not max_abs_diff <= AGREEMENT_TOLERANCE:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
