"""Time per stage of ``posekit localize`` on real 7-Scenes queries, beside plain ORB + PnP on the same frames.

Stages per query (map working size, 240x320 by default): ``init`` (global descriptor + retrieval of the top-k
keyframes), ``pnp`` (query ORB + matching to the top-k keyframes' cached features + one PnP-RANSAC), ``align``
(direct photometric alignment to the best keyframe from the PnP pose), ``render`` (the mesh rendered at the
estimate: not part of the default pipeline, timed for reference). The reference is the classical baseline
``estimate_pose_pnp`` (ORB on both images + PnP) between the query and its top-1 keyframe, measured in the same
run; the ratio is refinement time (``pnp + align``) over that reference. The same queries are also localised with
the previous settings (EPnP RANSAC loop, direct alignment over all pixels: ``PREVIOUS``), in the same run, for
the speed-up and to check that both give the same poses.

Prints a table, then one JSON line. JSON keys: ``init_s``, ``pnp_s``, ``align_s``, ``render_s``, ``refinement_s``,
``reference_pnp_s``, ``refinement_over_reference``, ``refinement_fps``, ``previous_pnp_s``, ``previous_align_s``,
``previous_refinement_s``, ``speedup_over_previous``, ``median_pose_change_cm`` and ``median_pose_change_deg``
(current against previous settings, same queries), ``frames``, ``threads`` (torch threads) and ``size_hw`` (the
working image size).

Usage::

    python benchmarks/bench_localize.py --map MAP [--data ../shared/data/7scenes_redkitchen_seq01] [--frames 800-999:10]
    python benchmarks/bench_localize.py --quick     # builds a tiny map (frames 0-15, 120x160) in a temporary folder
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import torch

from posekit.data import load_index
from posekit.geometry.lie import se3_inverse
from posekit.geometry.rotations import rotation_matrix_angle
from posekit.localization import Localizer, LocalizerConfig, Refinement
from posekit.localization.features import pnp_query_to_keyframe
from posekit.mapping import MapBuildConfig, TsdfConfig, WorkingSize, build_map, load_map, parse_frame_ranges, select_frames
from posekit.mapping.calibration import auto_colour_model
from posekit.mapping.frames import load_colour

# The settings before the speed work: EPnP RANSAC loop, direct alignment after PnP over all 76800 pixels.
PREVIOUS = replace(LocalizerConfig(refine=Refinement.BOTH), pnp_usac=False,
                   after_pnp=replace(LocalizerConfig().after_pnp, max_pixels=None))
DEFAULT_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "7scenes_redkitchen_seq01"


def measure(localizer: Localizer, previous: Localizer, frames) -> dict:
    stages = {"init": [], "pnp": [], "align": [], "render": [], "reference_pnp": [], "previous_pnp": [], "previous_align": []}
    changes_m, changes_deg = [], []
    pose_map = localizer.map
    for frame in frames:
        image = load_colour(frame, pose_map.size.hw)[None]
        before = previous.localize(image)
        stages["previous_pnp"].append(before.seconds["pnp"])
        stages["previous_align"].append(before.seconds["align"])
        result = localizer.localize(image)
        change = se3_inverse(before.T_world_cam) @ result.T_world_cam
        changes_m.append(float(change[:3, 3].norm()))
        changes_deg.append(float(torch.rad2deg(rotation_matrix_angle(change[:3, :3]))))
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
    previous_refinement = mean["previous_pnp"] + mean["previous_align"]
    return {"init_s": mean["init"], "pnp_s": mean["pnp"], "align_s": mean["align"], "render_s": mean["render"],
            "refinement_s": refinement, "reference_pnp_s": mean["reference_pnp"],
            "refinement_over_reference": refinement / mean["reference_pnp"], "refinement_fps": 1.0 / refinement,
            "previous_pnp_s": mean["previous_pnp"], "previous_align_s": mean["previous_align"],
            "previous_refinement_s": previous_refinement, "speedup_over_previous": previous_refinement / refinement,
            "median_pose_change_cm": 100 * float(torch.tensor(changes_m).median()),
            "median_pose_change_deg": float(torch.tensor(changes_deg).median()),
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
        previous = Localizer(pose_map, PREVIOUS, descriptor=localizer.descriptor())
        previous._features = localizer._features  # the same cached keyframe features: only the refinement differs
        result = measure(localizer, previous, queries)
    print(f"localisation stages, {result['frames']} queries at {result['size_hw'][0]}x{result['size_hw'][1]}, "
          f"{result['threads']} torch thread(s)")
    for key in ("init_s", "pnp_s", "align_s", "render_s", "refinement_s", "reference_pnp_s", "previous_pnp_s",
                "previous_align_s", "previous_refinement_s"):
        print(f"  {key:<22} {result[key] * 1000:8.1f} ms")
    print(f"  {'refinement / ORB+PnP':<22} {result['refinement_over_reference']:8.2f} x")
    print(f"  {'previous / refinement':<22} {result['speedup_over_previous']:8.2f} x")
    print(f"  {'refinement fps':<22} {result['refinement_fps']:8.2f}")
    print(f"  {'pose change (median)':<22} {result['median_pose_change_cm']:8.3f} cm {result['median_pose_change_deg']:.3f} deg")
    print(json.dumps(result))


if __name__ == "__main__":
    main()
