"""What the synthetic-scene writers produce loads with the format readers, poses and depth intact."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from posekit.data import Split, load_index, read_depth
from posekit.geometry import PinholeIntrinsics

from .layouts import pose

writers = pytest.importorskip("posekit.data.synth.writers")

K = PinholeIntrinsics(12.0, 12.0, 7.5, 5.5, 16, 12)


def _frames(n, offset):
    rng = np.random.default_rng(offset)
    for i in range(n):
        depth = np.full((12, 16), 1.25 + 0.5 * i, dtype=np.float32)
        depth[0, 0] = 0.0
        yield writers.SyntheticFrame(
            index=i,
            timestamp=round(offset + i / 30.0, 6),
            color=rng.integers(0, 256, (12, 16, 3), dtype=np.uint8),
            depth=depth,
            T_world_cam=pose(yaw=0.1 * i, t=(offset + 0.05 * i, 0.0, 0.0)).numpy(),
        )


def test_synthetic_7scenes_layout_loads(tmp_path):
    writers.write_7scenes(tmp_path, [list(_frames(3, 0)), list(_frames(2, 1))], K, test_sequences=[1])
    index = load_index("7scenes", tmp_path)
    assert index.records == ["seq-01", "seq-02"] and len(index.frames) == 5
    assert [f.split for f in index.frames] == [Split.TRAIN] * 3 + [Split.TEST] * 2
    frame = index.frames[2]
    assert frame.intrinsics == K
    assert torch.allclose(frame.T_world_cam, pose(yaw=0.2, t=(0.1, 0.0, 0.0)), atol=1e-12)
    depth = read_depth(frame.depth_path, frame.depth_scale)
    assert depth[0, 0] == 0.0 and depth[5, 5] == pytest.approx(2.25)


def test_synthetic_tum_layout_loads(tmp_path):
    writers.write_tum_rgbd(tmp_path, [list(_frames(4, 0)), list(_frames(3, 100))], K)
    index = load_index("tum", tmp_path)
    assert index.records == ["seq-01", "seq-02"] and len(index.frames) == 7 and not index.notes
    frame = index.frames[5]
    assert frame.intrinsics == K and frame.timestamp == pytest.approx(100.0 + 1 / 30.0)
    assert torch.allclose(frame.T_world_cam, pose(yaw=0.1, t=(100.05, 0.0, 0.0)), atol=1e-6)
    assert read_depth(frame.depth_path, frame.depth_scale)[5, 5] == pytest.approx(1.75, abs=1e-4)
