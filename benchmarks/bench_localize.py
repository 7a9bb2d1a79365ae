"""Time per stage of ``posekit localize`` on real 7-Scenes queries, beside plain ORB + PnP on the same frames.

Stages per query (map working size, 240x320 by default): ``init`` (global descriptor + retrieval of the top-k
keyframes), ``pnp`` (query ORB + matching to the top-k keyframes' cached features + one PnP-RANSAC), ``align``
(direct photometric alignment to the best keyframe from the PnP pose), ``render`` (the mesh rendered at the
estimate: not part of the default pipeline, timed for reference). The reference is the classical baseline
``estimate_pose_pnp`` (ORB on both images + PnP) between the query and its top-1 keyframe, measured in the same
run; the ratio is refinement time (``pnp + align``) over that reference.

Prints a table, then one JSON line. JSON keys: ``init_s``, ``pnp_s``, ``align_s``, ``render_s``, ``refinement_s``,
``reference_pnp_s``, ``refinement_over_reference``, ``refinement_fps``, ``frames``, ``threads`` (torch
threads) and ``size_hw`` (the working image size).

Usage::

    python benchmarks/bench_localize.py --map MAP [--data ../shared/data/7scenes_redkitchen_seq01] [--frames 800-999:10]
    python benchmarks/bench_localize.py --quick     # builds a tiny map (frames 0-15, 120x160) in a temporary folder
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import torch

from posekit.data import load_index
from posekit.localization import Localizer, LocalizerConfig, Refinement
from posekit.localization.features import pnp_query_to_keyframe
from posekit.mapping import MapBuildConfig, TsdfConfig, WorkingSize, build_map, load_map, parse_frame_ranges, select_frames
from posekit.mapping.calibration import auto_colour_model
from posekit.mapping.frames import load_colour

DEFAULT_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "7scenes_redkitchen_seq01"


def measure(localizer: Localizer, frames) -> dict:
    stages = {"init": [], "pnp": [], "align": [], "render": [], "reference_pnp": []}
    pose_map = localizer.map
    for frame in frames:
        image = load_colour(frame, pose_map.size.hw)[None]
        result = localizer.localize(image)
        for stage in ("init", "pnp", "align"):
            stages[stage].append(result.seconds[stage])
        start = time.perf_counter()
        pose_map.renderer().render(pose_map.calibration.T_world_colour(result.T_world_cam), localizer.intrinsics)
        stages["render"].append(time.perf_counter() - start)
        top = pose_map.keyframes.names.index(result.keyframe)
        start = time.perf_counter()
        pnp_query_to_keyframe(image, pose_map.keyframes.images[top : top + 1], pose_map.keyframes.depth[top : top + 1],
                              localizer.intrinsics, localizer.config.pnp)
        stages["reference_pnp"].append(time.perf_counter() - start)
    mean = {k: sum(v) / len(v) for k, v in stages.items()}
    refinement = mean["pnp"] + mean["align"]
    return {"init_s": mean["init"], "pnp_s": mean["pnp"], "align_s": mean["align"], "render_s": mean["render"],
            "refinement_s": refinement, "reference_pnp_s": mean["reference_pnp"],
            "refinement_over_reference": refinement / mean["reference_pnp"], "refinement_fps": 1.0 / refinement,
            "frames": len(frames), "threads": torch.get_num_threads(),
            "size_hw": list(pose_map.size.hw)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--map", type=Path, help="Map folder (posekit map build).")
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--frames", default="800-999:10", help="Query frames RANGE[:STEP].")
    parser.add_argument("--quick", action="store_true", help="Tiny map from frames 0-15 and 2 queries.")
    args = parser.parse_args()
    index = load_index("frames", args.data)
    with tempfile.TemporaryDirectory() as tmp:
        if args.quick:
            train = select_frames(index.frames, parse_frame_ranges("0-15"))
            config = MapBuildConfig(colour_model=auto_colour_model("frames", train[0].intrinsics),
                                    tsdf=TsdfConfig(voxel_size=0.03), fuse_every=5, keyframe_every=5,
                                    size=WorkingSize(120, 160))
            pose_map = build_map(train, Path(tmp) / "map", config, log=lambda line: None)
            queries = select_frames(index.frames, parse_frame_ranges("7,12"))
        else:
            if args.map is None:
                parser.error("--map is required without --quick")
            pose_map = load_map(args.map)
            ranges, _, step = args.frames.partition(":")
            queries = select_frames(index.frames, parse_frame_ranges(ranges))[:: int(step or 1)]
        localizer = Localizer(pose_map, LocalizerConfig(refine=Refinement.BOTH))
        localizer.localize(load_colour(queries[0], pose_map.size.hw)[None])  # warm-up (descriptor, first features)
        result = measure(localizer, queries)
    print(f"localisation stages, {result['frames']} queries at {result['size_hw'][0]}x{result['size_hw'][1]}, "
          f"{result['threads']} torch thread(s)")
    for key in ("init_s", "pnp_s", "align_s", "render_s", "refinement_s", "reference_pnp_s"):
        print(f"  {key:<22} {result[key] * 1000:8.1f} ms")
    print(f"  {'refinement / ORB+PnP':<22} {result['refinement_over_reference']:8.2f} x")
    print(f"  {'refinement fps':<22} {result['refinement_fps']:8.2f}")
    print(json.dumps(result))


if __name__ == "__main__":
    main()
