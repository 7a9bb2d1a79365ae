"""Torch threads on a busy machine: 1 thread against N threads for a PoseNet training step and a direct
photometric alignment of one image pair, each setting in its own fresh process, while ``--load`` busy
processes keep cores occupied (what six people sharing two cores look like).

The settings run interleaved (1, N, 1, N, ...) so that drift in the machine's load hits both alike. What is
reported is the median seconds per workload call and the ratio N threads / 1 thread (> 1: more threads are
slower). ``posekit --threads`` picks its default from this (``posekit.cli.threads``).

Usage: python benchmarks/bench_threads.py [--threads 2] [--load 1] [--rounds 3] [--quick]
Prints a table and one JSON line. JSON keys: ``load`` (busy processes), ``threads`` (N), and per workload
(``posenet_step``, ``direct_pair``) the median seconds ``s_1_thread`` and ``s_<N>_threads`` and their ``ratio``.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import statistics
import subprocess
import sys
import time

def build_workload(workload: str, size: int):
    """A no-argument function running one PoseNet training step (batch 4, ResNet-18, ``size`` rows) or one
    direct alignment of a textured pair (``size`` rows)."""
    import torch

    torch.manual_seed(0)
    if workload == "posenet_step":
        from posekit.losses.pose import LearnedPoseLoss
        from posekit.models import BackboneName, PoseNet, create_backbone

        net = PoseNet(create_backbone(BackboneName.RESNET18, pretrained=False, progress=False))
        loss = LearnedPoseLoss()
        optimizer = torch.optim.Adam(list(net.parameters()) + list(loss.parameters()), lr=1e-4)
        images = torch.rand(4, 3, size, size * 5 // 4)
        t, q = torch.randn(4, 3), torch.nn.functional.normalize(torch.randn(4, 4), dim=1)

        def step() -> None:
            out = net(images)
            total = loss(out.translation, out.quaternion, t, q).total
            optimizer.zero_grad()
            total.backward()
            optimizer.step()

        return step
    from posekit.baselines.direct_alignment import align_photometric
    from posekit.geometry import PinholeIntrinsics

    h, w = size, size * 4 // 3
    k = PinholeIntrinsics(0.8 * w, 0.8 * w, (w - 1) / 2, (h - 1) / 2, w, h)
    yy, xx = torch.meshgrid(torch.arange(h), torch.arange(w), indexing="ij")
    image = (0.5 + 0.25 * torch.sin(xx / 5.0) * torch.cos(yy / 7.0))[None, None].float()
    shifted = torch.roll(image, shifts=2, dims=-1)
    depth = torch.full((1, 1, h, w), 2.0)
    return lambda: align_photometric(shifted, image, depth, k)


def time_workload(threads: int, workload: str, repeats: int, size: int) -> float:
    """Median seconds per call after one warm-up call, with ``threads`` torch threads (this process)."""
    import torch

    torch.set_num_threads(threads)
    call = build_workload(workload, size)
    call()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        call()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def _spin(stop_at: float) -> None:
    while time.time() < stop_at:
        pass


def run_worker(threads: int, workload: str, repeats: int, size: int) -> float:
    """Median seconds per call of ``workload`` with ``threads`` torch threads, in a fresh process."""
    env = dict(os.environ, OMP_NUM_THREADS=str(threads), MKL_NUM_THREADS=str(threads))
    out = subprocess.run(
        [sys.executable, __file__, "--worker", str(threads), workload, str(repeats), str(size)],
        env=env, check=True, capture_output=True, text=True,
    )
    return float(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=2, help="the multi-thread setting compared with 1")
    parser.add_argument("--load", type=int, default=1, help="busy-loop processes running meanwhile")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds per setting")
    parser.add_argument("--repeats", type=int, default=3, help="timed calls per process")
    parser.add_argument("--quick", action="store_true", help="tiny sizes, one round, no load, in this process")
    parser.add_argument("--worker", nargs=4, metavar=("THREADS", "WORKLOAD", "REPEATS", "SIZE"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        threads, workload, repeats, size = args.worker
        print(json.dumps(time_workload(int(threads), workload, int(repeats), int(size))))
        return
    if args.quick:
        args.load, rounds, repeats, sizes = 0, 1, 1, {"posenet_step": 32, "direct_pair": 24}
    else:
        rounds, repeats, sizes = args.rounds, args.repeats, {"posenet_step": 128, "direct_pair": 120}
    measure = time_workload if args.quick else run_worker
    load = [multiprocessing.Process(target=_spin, args=(time.time() + 3600,), daemon=True) for _ in range(args.load)]
    for process in load:
        process.start()
    try:
        samples: dict[str, dict[int, list[float]]] = {w: {1: [], args.threads: []} for w in sizes}
        for _ in range(rounds):
            for workload, size in sizes.items():
                for threads in (1, args.threads):
                    samples[workload][threads].append(measure(threads, workload, repeats, size))
    finally:
        for process in load:
            process.terminate()
    results = {}
    print(f"cores {os.cpu_count()}, load processes {args.load}, rounds {rounds}, load average {os.getloadavg()[0]:.1f}")
    print(f"{'workload':<14} {'1 thread s':>11} {f'{args.threads} threads s':>12} {'ratio':>7}")
    for workload, by_threads in samples.items():
        one, many = statistics.median(by_threads[1]), statistics.median(by_threads[args.threads])
        results[workload] = {"s_1_thread": round(one, 4), f"s_{args.threads}_threads": round(many, 4),
                             "ratio": round(many / one, 3)}
        print(f"{workload:<14} {one:>11.3f} {many:>12.3f} {many / one:>7.2f}")
    print(json.dumps({"load": args.load, "threads": args.threads, **results}))


if __name__ == "__main__":
    main()
