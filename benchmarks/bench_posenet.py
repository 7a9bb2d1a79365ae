"""PoseNet speed on this machine: training throughput (images/s) and single-image inference latency (ms)
for each backbone at 128x160 and 224x224, on CPU.

Training: forward, backward and an Adam step of PoseNet with the learned-weight loss on a batch of 8 random
images. Latency: one image in eval mode, no gradients. Median over repetitions after a warm-up. Weights do not
change speed, so the ResNets run from random initialisation (their ImageNet weights need a download).

Usage: python benchmarks/bench_posenet.py [--repeats N] [--batch B] [--quick]
Prints a table and one JSON line. JSON keys: ``<backbone>@<HxW>`` (e.g. ``efficientnet_lite0@128x160``), each
holding ``train_images_per_s`` (training throughput) and ``latency_ms`` (one image, eval mode).
"""

from __future__ import annotations

import argparse
import json
import statistics
import time

import torch

from posekit.losses.pose import LearnedPoseLoss
from posekit.models import BackboneName, PoseNet, create_backbone

SIZES = ((128, 160), (224, 224))


def _median_seconds(function, repeats: int, warmup: int = 2) -> float:
    for _ in range(warmup):
        function()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def measure(backbone: BackboneName, size: tuple[int, int], batch: int, repeats: int) -> dict[str, float]:
    torch.manual_seed(0)
    net = PoseNet(create_backbone(backbone, pretrained=backbone is BackboneName.EFFICIENTNET_LITE0, progress=False))
    loss = LearnedPoseLoss()
    optimizer = torch.optim.Adam(list(net.parameters()) + list(loss.parameters()), lr=1e-4)
    images = torch.rand(batch, 3, *size)
    target_t, target_q = torch.randn(batch, 3), torch.nn.functional.normalize(torch.randn(batch, 4), dim=1)

    def train_step() -> None:
        net.train()
        out = net(images)
        total = loss(out.translation, out.quaternion, target_t, target_q).total
        optimizer.zero_grad()
        total.backward()
        optimizer.step()

    one = images[:1]

    def infer() -> None:
        net.eval()
        with torch.no_grad():
            net(one)

    return {
        "train_images_per_s": batch / _median_seconds(train_step, repeats),
        "latency_ms": 1000 * _median_seconds(infer, repeats * 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--quick", action="store_true", help="smallest settings, seconds: checks that the script runs (numbers meaningless)")
    args = parser.parse_args()
    backbones, sizes = list(BackboneName), SIZES
    if args.quick:
        backbones, sizes, args.batch, args.repeats = [BackboneName.EFFICIENTNET_LITE0], ((32, 32),), 2, 1
    results = {}
    print(f"{'backbone':<20} {'size':>9} {'train img/s':>12} {'latency ms':>11}   (torch threads: {torch.get_num_threads()})")
    for backbone in backbones:
        for size in sizes:
            r = measure(backbone, size, args.batch, args.repeats)
            key = f"{backbone.value}@{size[0]}x{size[1]}"
            results[key] = {k: round(v, 2) for k, v in r.items()}
            print(f"{backbone.value:<20} {size[0]:>4}x{size[1]:<4} {r['train_images_per_s']:>12.1f} {r['latency_ms']:>11.1f}", flush=True)
    print(json.dumps(results))


if __name__ == "__main__":
    main()
