"""Frames per second of ``posekit synth`` on the room scene: rendered (colour + z-depth) and written (colour
PNG, 16-bit depth PNG, pose file) in the 7-Scenes layout, at 320x240 and 640x480.

Runs the real pipeline (:func:`posekit.data.synth.synthesize`, hand-held trajectory, no sensor effects) into a
temporary folder and divides the frames by the wall time, scene building and GL start-up included. It also
times the two halves alone (rendering only; encoding and writing only, single-threaded) so that one can see
which dominates. The median of ``--repeats`` runs is reported.

Prints a table and, last, one JSON line. JSON keys, per size ``<WxH>`` (``320x240``, ``640x480``; ``64x48``
with ``--quick``): ``fps_<WxH>`` (whole pipeline), ``render_ms_<WxH>`` and ``write_ms_<WxH>`` (the parts, ms per
frame).

Usage::

    python benchmarks/bench_synth.py [--frames 150] [--repeats 3] [--workers 4] [--quick]
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from posekit.data.synth import Renderer, SynthConfig, config_intrinsics, make_trajectory, room_scene, synthesize
from posekit.data.synth.pipeline import render_sequence
from posekit.data.synth.png import encode_png
from posekit.data.synth.writers import SEVENSCENES_DEPTH_SCALE, SEVENSCENES_MAX_CODE, encode_depth
from posekit.fileio import atomic_write_bytes
from posekit.metrics.trajectory_files import write_pose_matrix_file

SIZES = ((320, 240), (640, 480))


def time_pipeline(width: int, height: int, frames: int, workers: int) -> float:
    """Frames per second of the whole ``synthesize`` call."""
    config = SynthConfig(frames=frames, width=width, height=height, workers=workers, seed=1)
    with tempfile.TemporaryDirectory() as folder:
        start = time.perf_counter()
        synthesize(config, Path(folder) / "out")
        return frames / (time.perf_counter() - start)


def time_parts(width: int, height: int, frames: int) -> tuple[float, float]:
    """Milliseconds per frame of rendering alone, and of encoding + writing alone (one thread)."""
    config = SynthConfig(frames=frames, width=width, height=height, seed=1)
    scene = room_scene(config.seed)
    intrinsics = config_intrinsics(config)
    poses = make_trajectory(config.trajectory, scene.layout, frames, config.fps, np.random.default_rng(0))
    with Renderer(scene, intrinsics) as renderer:
        renderer.render(poses[0])
        start = time.perf_counter()
        rendered = list(render_sequence(scene, poses, intrinsics, renderer=renderer))
        render_ms = 1000 * (time.perf_counter() - start) / frames
    with tempfile.TemporaryDirectory() as folder:
        start = time.perf_counter()
        for frame in rendered:
            stem = Path(folder) / f"frame-{frame.index:06d}"
            atomic_write_bytes(f"{stem}.color.png", encode_png(frame.color))
            codes = encode_depth(frame.depth, SEVENSCENES_DEPTH_SCALE, SEVENSCENES_MAX_CODE)
            atomic_write_bytes(f"{stem}.depth.png", encode_png(codes))
            write_pose_matrix_file(f"{stem}.pose.txt", torch.from_numpy(frame.T_world_cam))
        write_ms = 1000 * (time.perf_counter() - start) / frames
    return render_ms, write_ms


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--frames", type=int, default=150)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--quick", action="store_true", help="smallest settings, seconds: checks that the script runs (numbers meaningless)")
    args = parser.parse_args()
    sizes = SIZES
    if args.quick:
        sizes, args.frames, args.repeats, args.workers = ((64, 48),), 3, 1, 1
    result = {}
    rows = []
    for width, height in sizes:
        frames = args.frames if width <= 320 else max(10, args.frames // 3)
        fps = statistics.median(time_pipeline(width, height, frames, args.workers) for _ in range(args.repeats))
        render_ms, write_ms = time_parts(width, height, frames)
        key = f"{width}x{height}"
        result[f"fps_{key}"] = round(fps, 1)
        result[f"render_ms_{key}"] = round(render_ms, 2)
        result[f"write_ms_{key}"] = round(write_ms, 2)
        rows.append((key, frames, fps, render_ms, write_ms))
    print(f"{'size':>9} {'frames':>6} {'frames/s':>9} {'render ms':>10} {'write ms':>9}")
    for key, frames, fps, render_ms, write_ms in rows:
        print(f"{key:>9} {frames:>6} {fps:>9.1f} {render_ms:>10.2f} {write_ms:>9.2f}")
    print(json.dumps(result))


if __name__ == "__main__":
    main()
