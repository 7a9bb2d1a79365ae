"""A small real sparse map for the tests: KITTI seq 06 frames 0, 2, ..., 12 at 120x400, 1000 SIFT keypoints."""

from __future__ import annotations

from pathlib import Path

from posekit.data import load_index
from posekit.mapping import WorkingSize
from posekit.mapping.sparse import SparseMapConfig, build_sparse_map
from posekit.mapping.sparse_features import SiftConfig

KITTI_SEQ06 = "kitti_odometry/seq06_frames000000-000050"
SPARSE_TRAIN_FRAMES = (0, 2, 4, 6, 8, 10, 12)
SPARSE_TEST_FRAMES = (1, 3, 5, 7, 9, 11)
SMALL_SPARSE_CONFIG = SparseMapConfig(size=WorkingSize(120, 400), sift=SiftConfig(max_features=1000))


def kitti_frames(data: Path, numbers):
    return [f for f in load_index("kitti", data).frames if f.order in numbers]


def build_small_sparse_map(data: Path, out: Path):
    return build_sparse_map(kitti_frames(data, SPARSE_TRAIN_FRAMES), out, SMALL_SPARSE_CONFIG, log=lambda line: None)
