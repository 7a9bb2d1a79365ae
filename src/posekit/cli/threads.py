"""CPU threads for the heavy commands: ``--threads N`` / ``POSEKIT_THREADS``, else ``OMP_NUM_THREADS``, else
the idle cores (at least 1).

Why not torch's default (one thread per core): on a 2-core machine shared with other work, PoseNet training
with 2 threads was 5x slower than with 1 (issue 12; ``benchmarks/bench_threads.py`` measures it again, and
``docs/results.md`` has the numbers). The idle-core rule gives 1 thread whenever the 1-minute load average
leaves less than 2 cores free, so the default is never the oversubscribed case.
"""

from __future__ import annotations

import os
import sys

# Commands that run networks or heavy numerics: ``--threads`` is applied (and announced) before they run.
HEAVY_COMMANDS = frozenset({"train", "eval", "demo", "synth", "predict"})
# Sub-commands of a heavy group that are light (``eval traj`` is ``eval-traj``): no threads line for them.
LIGHT_SUBCOMMANDS = frozenset({("eval", "traj")})
# The one status line a heavy command prints on stderr before it runs.
ANNOUNCEMENT_PREFIX = "posekit: threads: "
THREAD_ENV_VARS = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS")


def available_cores() -> int:
    """Cores this process may run on (its CPU affinity where the OS says, else ``os.cpu_count()``)."""
    if hasattr(os, "sched_getaffinity"):
        return max(1, len(os.sched_getaffinity(0)))
    return max(1, os.cpu_count() or 1)


def idle_cores(cores: int, load_average: float) -> int:
    """Whole cores left free by ``load_average`` runnable processes, at least 1 and at most ``cores``."""
    return max(1, min(cores, int(cores - load_average)))


def choose_threads(requested: int | None) -> tuple[int, str]:
    """The thread count and where it came from: the request, ``OMP_NUM_THREADS``, or the idle cores."""
    if requested is not None:
        return requested, "--threads / POSEKIT_THREADS"
    omp = os.environ.get("OMP_NUM_THREADS", "")
    if omp.isdigit() and int(omp) > 0:
        return int(omp), "OMP_NUM_THREADS"
    cores = available_cores()
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else 0.0
    return idle_cores(cores, load), f"idle cores: {cores} cores, load average {load:.1f}"


def apply_threads(requested: int | None, announce: bool = False) -> int:
    """Set torch's intra-op (and, if still possible, inter-op) threads and the thread variables inherited by
    subprocesses; print one line on stderr if ``announce``. Returns the thread count."""
    threads, source = choose_threads(requested)
    for name in THREAD_ENV_VARS:
        os.environ[name] = str(threads)
    import torch  # heavy commands import it anyway; --help and eval-traj never get here

    torch.set_num_threads(threads)
    try:
        torch.set_num_interop_threads(threads)
    except RuntimeError:  # only allowed once, before any inter-op work started
        pass
    if announce:
        print(f"{ANNOUNCEMENT_PREFIX}{threads} CPU thread{'s' if threads > 1 else ''} ({source}; set --threads N)", file=sys.stderr)
    return threads
