"""A small real map for the tests: 7-Scenes redkitchen frames 0-39 fused every 4th, keyframes every 4th, 120x160."""

from __future__ import annotations

from pathlib import Path

from posekit.data import load_index
from posekit.mapping import ColourModel, MapBuildConfig, TsdfConfig, WorkingSize, build_map, parse_frame_ranges, select_frames

SMALL_MAP_FRAMES = "0-39"
SMALL_MAP_CONFIG = MapBuildConfig(colour_model=ColourModel.KINECT_7SCENES, tsdf=TsdfConfig(voxel_size=0.02),
                                  fuse_every=4, keyframe_every=4, size=WorkingSize(120, 160))


def sevenscenes_frames(data: Path, ranges: str):
    return select_frames(load_index("frames", data).frames, parse_frame_ranges(ranges))


def build_small_map(data: Path, out: Path, config: MapBuildConfig = SMALL_MAP_CONFIG):
    return build_map(sevenscenes_frames(data, SMALL_MAP_FRAMES), out, config, log=lambda line: None)
