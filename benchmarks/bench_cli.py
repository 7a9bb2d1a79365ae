"""Start-up cost of the ``posekit`` command, as whole processes: wall time, CPU time and peak memory of
``posekit --help`` and ``posekit eval-traj`` (KITTI 00, ORB-SLAM estimate, SE(3)-aligned APE) against the
floor ``python -c "import numpy"`` (and ``import torch``, what eval-traj's maths needs), measured in the same
run, interleaved, median over ``--repeats``.

Targets (issue 12): ``--help`` wall time <= 2x the numpy floor; eval-traj on KITTI 00 <= 300 MiB peak RSS.

Usage: python benchmarks/bench_cli.py [--repeats 5] [--data DIR] [--quick]
KITTI 00 comes from ``DIR/trajectories/evo_test_data`` (default ``$POSEKIT_DATA`` or ``../shared/data``); without
it (or with ``--quick``) a synthetic 4541-pose KITTI pair is written to a temporary folder instead.
Prints a table and one JSON line. JSON keys: ``source`` (the KITTI pair used), ``repeats``, ``help_over_numpy``
(wall-time ratio), ``eval_traj_peak_mib``, and per measured command (``posekit --help``, ``posekit eval-traj``,
``python -c 'import numpy'``, ``python -c 'import torch'``) its medians ``wall_s``, ``cpu_s`` and ``peak_mib``.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
TARGET_HELP_RATIO = 2.0
TARGET_EVAL_MIB = 300.0


def measure(argv: list[str]) -> dict[str, float]:
    """Wall seconds, CPU seconds (user + sys) and peak RSS (MiB) of one process running ``argv``."""
    start = time.perf_counter()
    process = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - start
    process.returncode = os.waitstatus_to_exitcode(status)
    error = process.stderr.read().decode() if process.stderr else ""
    if process.returncode != 0:
        raise SystemExit(f"{' '.join(argv)} failed ({process.returncode}): {error}")
    return {"wall_s": wall, "cpu_s": usage.ru_utime + usage.ru_stime, "peak_mib": usage.ru_maxrss / 1024}


def synthetic_kitti(folder: Path, n: int = 4541) -> tuple[Path, Path]:
    """A KITTI-format GT (a 4 km loop) and a noisy estimate of ``n`` poses, written with numpy only."""
    import numpy as np

    angle = np.linspace(0, 2 * np.pi, n)
    rows = []
    for noise, name in ((0.0, "gt.txt"), (0.5, "est.txt")):
        c, s = np.cos(angle), np.sin(angle)
        rng = np.random.default_rng(0)
        x, z = 600 * c + noise * rng.standard_normal(n), 600 * s + noise * rng.standard_normal(n)
        poses = np.stack([c, 0 * c, s, x, 0 * c, 1 + 0 * c, 0 * c, 0 * c, -s, 0 * c, c, z], axis=1)
        np.savetxt(folder / name, poses, fmt="%.9e")
        rows.append(folder / name)
    return rows[0], rows[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--data", type=Path, default=Path(os.environ.get("POSEKIT_DATA", REPO.parent / "shared" / "data")))
    parser.add_argument("--quick", action="store_true", help="one repeat, synthetic KITTI-size files")
    args = parser.parse_args()
    repeats = 1 if args.quick else args.repeats
    env_python = [sys.executable]
    with tempfile.TemporaryDirectory() as tmp:
        evo = args.data / "trajectories" / "evo_test_data"
        if not args.quick and (evo / "KITTI_00_gt.txt").exists():
            gt, est, source = evo / "KITTI_00_gt.txt", evo / "KITTI_00_ORB.txt", "KITTI 00 (ORB)"
        else:
            gt, est = synthetic_kitti(Path(tmp))
            source = "synthetic 4541 poses"
        commands = {
            "python -c 'import numpy'": env_python + ["-c", "import numpy"],
            "python -c 'import torch'": env_python + ["-c", "import torch"],
            "posekit --help": env_python + ["-m", "posekit", "--help"],
            "posekit eval-traj": env_python + ["-m", "posekit", "eval-traj", str(gt), str(est), "--format", "kitti",
                                               "--align", "se3"],
        }
        samples: dict[str, list[dict[str, float]]] = {name: [] for name in commands}
        for _ in range(repeats):
            for name, argv in commands.items():
                samples[name].append(measure(argv))
    results = {
        name: {key: round(statistics.median(s[key] for s in runs), 3) for key in runs[0]} for name, runs in samples.items()
    }
    floor = results["python -c 'import numpy'"]
    help_ratio = results["posekit --help"]["wall_s"] / floor["wall_s"]
    eval_mib = results["posekit eval-traj"]["peak_mib"]
    print(f"posekit start-up, median of {repeats} (eval-traj on {source}), load average {os.getloadavg()[0]:.1f}")
    print(f"{'command':<28} {'wall s':>8} {'cpu s':>8} {'peak MiB':>9} {'wall / numpy':>13}")
    for name, r in results.items():
        print(f"{name:<28} {r['wall_s']:>8.3f} {r['cpu_s']:>8.3f} {r['peak_mib']:>9.1f} {r['wall_s'] / floor['wall_s']:>13.2f}")
    print(f"--help / numpy floor: {help_ratio:.2f} (target <= {TARGET_HELP_RATIO}: "
          f"{'met' if help_ratio <= TARGET_HELP_RATIO else 'MISSED'}); eval-traj peak {eval_mib:.0f} MiB "
          f"(target <= {TARGET_EVAL_MIB:.0f}: {'met' if eval_mib <= TARGET_EVAL_MIB else 'MISSED'})")
    print(json.dumps({"source": source, "repeats": repeats, "help_over_numpy": round(help_ratio, 3),
                      "eval_traj_peak_mib": eval_mib, **results}))


if __name__ == "__main__":
    main()
