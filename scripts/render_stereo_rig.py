"""Render a synthetic stereo rig into the Apolloscape ZPark layout, for stereo PoseNet experiments.

A room scene (:mod:`posekit.data.synth`), ``--records`` hand-held trajectories of the left camera; the right
camera sits ``--baseline`` metres to the left camera's right (+x, OpenCV axes), same orientation. Written as
``image/RecordNNN/Camera_{1,2}/<stamp>_Camera_N.jpg`` and ``pose/RecordNNN/Camera_N.txt`` (roll, pitch, yaw,
x, y, z of ``T_world_cam``), with ``trainval_split/{train,val}.txt``: the last record is the held-out one.

The reader gives the frames ZPark's published intrinsics (scaled to the image size), not the rendered
camera's: fine for absolute pose regression, which never uses them.

Usage::

    python scripts/render_stereo_rig.py --out runs/data/stereo_room [--records 3] [--frames 60] [--size 96x128]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import imageio.v3 as iio
import numpy as np
import torch

from posekit.data.synth import SynthConfig, config_intrinsics, make_trajectory
from posekit.data.synth.pipeline import build_scene, render_sequence
from posekit.geometry import matrix_to_euler
from posekit.training.config import parse_image_size

CAMERAS = ("Camera_1", "Camera_2")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--records", type=int, default=3)
    parser.add_argument("--frames", type=int, default=60)
    parser.add_argument("--size", default="96x128", help="image size HxW")
    parser.add_argument("--baseline", type=float, default=0.2, help="stereo baseline (m)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    height, width = parse_image_size(args.size, "--size")
    config = SynthConfig(frames=args.frames, width=width, height=height, seed=args.seed, fps=10.0)
    scene = build_scene(config)
    intrinsics = config_intrinsics(config)
    offset = np.eye(4)
    offset[0, 3] = args.baseline
    split_lines: dict[str, list[str]] = {"train.txt": [], "val.txt": []}
    for r in range(args.records):
        record = f"Record{r + 1:03d}"
        left = make_trajectory(config.trajectory, scene.layout, args.frames, config.fps,
                               np.random.default_rng([args.seed, r]))
        for camera, poses in zip(CAMERAS, (left, left @ offset)):
            lines = []
            for frame in render_sequence(scene, poses, intrinsics, fps=config.fps, seed=(args.seed, r)):
                stamp = f"171002_{10 + r:02d}{frame.index // 600:02d}{frame.index % 600 // 10:02d}{frame.index % 10}00"
                name = f"{stamp}_{camera}.jpg"
                path = args.out / "image" / record / camera / name
                path.parent.mkdir(parents=True, exist_ok=True)
                iio.imwrite(path, frame.color, extension=".jpg", quality=95)
                T = torch.from_numpy(frame.T_world_cam)
                values = [*matrix_to_euler(T[:3, :3]).tolist(), *T[:3, 3].tolist()]
                lines.append(f"{name} " + ",".join(f"{v:.10f}" for v in values))
                split = "val.txt" if r == args.records - 1 else "train.txt"
                split_lines[split].append(f"{record}/{camera}/{Path(name).stem}")
            pose_file = args.out / "pose" / record / f"{camera}.txt"
            pose_file.parent.mkdir(parents=True, exist_ok=True)
            pose_file.write_text("\n".join(lines) + "\n")
    (args.out / "trainval_split").mkdir(parents=True, exist_ok=True)
    for name, lines in split_lines.items():
        (args.out / "trainval_split" / name).write_text("\n".join(lines) + "\n")
    print(f"wrote {args.records} records x {args.frames} stereo pairs of {height}x{width} to {args.out}")


if __name__ == "__main__":
    main()
