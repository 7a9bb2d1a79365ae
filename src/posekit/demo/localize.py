"""The demo's map + localisation step: a TSDF map of the rendered room's training sequences, its test sequence
localised in it (retrieval, then the localiser's default refinement), as ``posekit map build`` and
``posekit localize`` do on real data."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from posekit.data import load_index
from posekit.localization import Localizer, LocalizerConfig, localize_frames
from posekit.mapping import ColourModel, MapBuildConfig, TsdfConfig, build_map

# The rendered room registers colour to depth; every 2nd training frame fused, every 5th kept as a keyframe. The
# map keeps its default 240x320 working size: at the demo's 160x120 ORB finds too few features (full demo room:
# recall 5 cm/5 deg 2 % at 160x120, 28 % at 240x320; docs/results.md).
MAP_VOXEL_M = 0.01
FUSE_EVERY = 2
KEYFRAME_EVERY = 5


def map_and_localize(data_dir: Path, out: Path, test_record: str, echo: Callable[[str], None] = print) -> dict:
    """Build a map from every record of ``data_dir`` except ``test_record``, localise ``test_record`` in it.

    Args:
        data_dir: a 7-Scenes-layout folder (the demo's rendered room).
        out: run folder; the map goes to ``out/map``, the localisation to ``out/localize``.

    Returns:
        the localisation summary (``median_t_m``, ``median_r_deg``, ``recall_5cm_5deg``, ``frames_per_second``...).
    """
    frames = load_index("7scenes", data_dir).frames
    train = [f for f in frames if f.record_id != test_record]
    test = [f for f in frames if f.record_id == test_record]
    config = MapBuildConfig(colour_model=ColourModel.REGISTERED, tsdf=TsdfConfig(voxel_size=MAP_VOXEL_M),
                            fuse_every=FUSE_EVERY, keyframe_every=KEYFRAME_EVERY)
    pose_map = build_map(train, out / "map", config, dataset={"format": "7scenes", "data": str(data_dir)},
                         log=lambda line: None)
    echo(f"[demo] map of {len(train)} training frames ({len(pose_map.keyframes.names)} keyframes) in {out / 'map'}")
    return localize_frames(Localizer(pose_map, LocalizerConfig()), test, out / "localize", method="retrieval+both")
