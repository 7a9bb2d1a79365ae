"""Maps of a scene from posed frames (level 3): TSDF fusion into a coloured mesh, keyframes with depth and global
descriptors, rendering the mesh at a pose, and the colour/depth calibration of RGB-D sensors.

Open3D is imported lazily (inside functions) so ``import posekit`` stays light.
"""

from posekit.mapping.calibration import ColourModel, RgbdCalibration, colour_at_depth_pixels
from posekit.mapping.frames import WorkingSize, parse_frame_ranges, select_frames
from posekit.mapping.render import MapView, MeshRenderer
from posekit.mapping.store import KeyframeStore, MapBuildConfig, PoseMap, build_map, load_map
from posekit.mapping.tsdf import FusionFrame, TsdfConfig, fuse_tsdf

__all__ = [
    "ColourModel", "FusionFrame", "KeyframeStore", "MapBuildConfig", "MapView", "MeshRenderer", "PoseMap",
    "RgbdCalibration", "TsdfConfig", "WorkingSize", "build_map", "colour_at_depth_pixels", "fuse_tsdf", "load_map",
    "parse_frame_ranges", "select_frames",
]
