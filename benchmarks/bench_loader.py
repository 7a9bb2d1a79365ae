"""Data-loading throughput of the 7-Scenes excerpt with and without the transform cache.

Runs the absolute-pose dataset (colour + depth, resized to 240x320) through a DataLoader with 2 workers:

1. one epoch without any cache (decode every frame),
2. the first epoch with an empty cache (decode + write the cache: the "uncached" first epoch of training),
3. later epochs with the warm cache,

then trains a small CNN for one epoch on a cold and on a warm cache and measures the share of the step time
spent blocked waiting for the next batch, and the share of the training time that data loading costs overall
(``1 - training fps / fps with the batch already in memory``: on a machine with few cores the workers take
CPU from the step, so part of the cost shows up as slower steps rather than as waiting). Prints a table and,
last, one JSON line. JSON keys: ``uncached_fps`` (first, cold-cache epoch), ``cached_fps`` (warm epochs),
``cached_speedup``, ``no_cache_fps``, ``data_wait_share_cold``, ``data_wait_share_warm``,
``data_overhead_share_cold`` and ``data_overhead_share_warm``.

Usage::

    python benchmarks/bench_loader.py [--data ../shared/data/7scenes_redkitchen_seq01] [--epochs 3] [--quick]
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import tempfile
import time
import warnings
from pathlib import Path

import torch
from torch import nn
from torch.utils.data import DataLoader

from posekit.data import AbsolutePoseDataset, FrameTransform, load_index

DEFAULT_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "7scenes_redkitchen_seq01"


def make_loader(index, cache_dir: Path, cache: bool, batch_size: int, workers: int) -> DataLoader:
    dataset = AbsolutePoseDataset(
        index, "all", transform=FrameTransform(resize=(240, 320)), load_depth=True, cache=cache, cache_dir=cache_dir
    )
    return DataLoader(dataset, batch_size=batch_size, shuffle=True, num_workers=workers, persistent_workers=False)


def timed_epoch(loader: DataLoader) -> float:
    """Frames per second of one pass over ``loader``."""
    start = time.perf_counter()
    frames = 0
    for batch in loader:
        frames += batch["image"].shape[0]
    return frames / (time.perf_counter() - start)


class SmallNet(nn.Module):
    """A small PoseNet-like regressor fed colour and depth: a 5x5 stride-4 convolution, two stride-2 ones,
    global pooling and 7 outputs (about 7 M multiply-adds per 240x320 frame)."""

    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(4, 8, 5, stride=4, padding=2), nn.ReLU(),
            nn.Conv2d(8, 16, 3, stride=2, padding=1), nn.ReLU(),
            nn.Conv2d(16, 32, 3, stride=2, padding=1), nn.ReLU(),
        )
        self.head = nn.Linear(32, 7)

    def forward(self, image: torch.Tensor, depth: torch.Tensor) -> torch.Tensor:
        x = self.features(torch.cat((image, depth), dim=1))
        return self.head(x.mean(dim=(2, 3)))


def _train_step(model: nn.Module, optimiser: torch.optim.Optimizer, batch: dict) -> None:
    loss = nn.functional.mse_loss(model(batch["image"], batch["depth"]), batch["pose"])
    optimiser.zero_grad()
    loss.backward()
    optimiser.step()


def data_wait_share(loader: DataLoader) -> tuple[float, float]:
    """Share of one training epoch spent blocked waiting for the next batch, and training frames/s."""
    torch.manual_seed(0)
    model = SmallNet()
    optimiser = torch.optim.Adam(model.parameters(), 1e-3)
    waiting = 0.0
    frames = 0
    start = time.perf_counter()
    iterator = iter(loader)
    while True:
        before = time.perf_counter()
        try:
            batch = next(iterator)
        except StopIteration:
            break
        waiting += time.perf_counter() - before
        _train_step(model, optimiser, batch)
        frames += batch["image"].shape[0]
    total = time.perf_counter() - start
    return waiting / total, frames / total


def compute_only_fps(loader: DataLoader, steps: int = 20) -> float:
    """Training frames/s on one batch held in memory: the step cost without any data loading."""
    torch.manual_seed(0)
    model = SmallNet()
    optimiser = torch.optim.Adam(model.parameters(), 1e-3)
    batch = next(iter(loader))
    _train_step(model, optimiser, batch)
    start = time.perf_counter()
    for _ in range(steps):
        _train_step(model, optimiser, batch)
    return steps * batch["image"].shape[0] / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=Path(os.environ.get("POSEKIT_DATA", DEFAULT_DATA.parent)) / DEFAULT_DATA.name)
    parser.add_argument("--epochs", type=int, default=3, help="epochs with the warm cache (after the first)")
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--quick", action="store_true", help="smallest settings, seconds: checks that the script runs (numbers meaningless)")
    args = parser.parse_args()
    if args.quick:
        args.epochs, args.batch_size, args.workers = 1, 4, 0

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        index = load_index("frames", args.data)
    if args.quick:
        index = dataclasses.replace(index, frames=index.frames[:8])
    with tempfile.TemporaryDirectory(prefix="posekit-bench-cache-") as tmp:
        cache_dir = Path(tmp)
        no_cache_fps = timed_epoch(make_loader(index, cache_dir, False, args.batch_size, args.workers))
        cached = make_loader(index, cache_dir, True, args.batch_size, args.workers)
        cold_fps = timed_epoch(cached)
        warm_fps = [timed_epoch(cached) for _ in range(args.epochs)]
        cached_fps = sum(warm_fps) / len(warm_fps)
        # Training: the cold-cache run on a fresh cache folder, the warm one on the filled cache.
        with tempfile.TemporaryDirectory(prefix="posekit-bench-cold-") as cold_tmp:
            wait_cold, train_cold_fps = data_wait_share(make_loader(index, Path(cold_tmp), True, args.batch_size, args.workers))
        wait_warm, train_warm_fps = data_wait_share(cached)
        compute_fps = compute_only_fps(cached)
    # Share of the training time that is data loading, whether waited for or taken from the step's CPU.
    overhead_cold = max(0.0, 1.0 - train_cold_fps / compute_fps)
    overhead_warm = max(0.0, 1.0 - train_warm_fps / compute_fps)

    rows = [
        ("no cache", no_cache_fps),
        ("first epoch, cold cache", cold_fps),
        *((f"epoch {i + 2}, warm cache", fps) for i, fps in enumerate(warm_fps)),
        ("training, cold cache", train_cold_fps),
        ("training, warm cache", train_warm_fps),
        ("training, data in memory", compute_fps),
    ]
    print(f"7-Scenes excerpt: {len(index.frames)} frames, 240x320 colour + depth, batch {args.batch_size}, "
          f"{args.workers} workers, {torch.get_num_threads()} torch threads, {os.cpu_count()} CPUs")
    print(f"{'run':<28}{'frames/s':>10}")
    for name, fps in rows:
        print(f"{name:<28}{fps:>10.1f}")
    print(f"data-wait share of a training step (blocked in next()): cold cache {wait_cold:.0%}, warm cache {wait_warm:.0%}")
    print(f"data-loading share of training time (1 - fps / in-memory fps): cold cache {overhead_cold:.0%}, "
          f"warm cache {overhead_warm:.0%}")
    result = {
        "uncached_fps": round(cold_fps, 2),
        "cached_fps": round(cached_fps, 2),
        "cached_speedup": round(cached_fps / cold_fps, 2),
        "no_cache_fps": round(no_cache_fps, 2),
        "data_wait_share_cold": round(wait_cold, 3),
        "data_wait_share_warm": round(wait_warm, 3),
        "data_overhead_share_cold": round(overhead_cold, 3),
        "data_overhead_share_warm": round(overhead_warm, 3),
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
