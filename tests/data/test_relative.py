"""The relative-pose dataset: pairs and snippets at distances, the minimum-motion filter, what items hold."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from posekit.data import ColorJitter, FrameTransform, RelativePoseDataset, load_index
from posekit.errors import DatasetError
from posekit.geometry import relative_pose

from .layouts import intrinsics_yaml, pose, tum_quaternion_line, write_depth, write_rgb

# Frame i: x position. Frames 2-4 do not move; frame 6 only turns (10 degrees about y).
POSITIONS = [0.0, 0.1, 0.2, 0.2, 0.2, 0.3, 0.3, 0.4]
YAWS = [0.0, 0.0, 0.0, 0.0, 0.0, 0.0, np.radians(10.0), np.radians(10.0)]


@pytest.fixture
def index(tmp_path):
    for i in range(len(POSITIONS)):
        write_rgb(tmp_path / "images" / f"{i:06d}.png", seed=i, width=32, height=24)
        depth = np.full((24, 32), 2000, dtype=np.uint16)
        depth[:, :8] = 0  # columns 0-3 after the resize by 0.5, 0-1 after the crop
        write_depth(tmp_path / "depth" / f"{i:06d}.png", depth)
    poses = [pose(t=(x, 0.0, 0.0), pitch=0.0, yaw=0.0) for x in POSITIONS]
    for T, yaw in zip(poses, YAWS):
        c, s = np.cos(yaw), np.sin(yaw)
        T[:3, :3] = torch.tensor([[c, 0, s], [0, 1, 0], [-s, 0, c]], dtype=torch.float64)  # about the camera's y
    (tmp_path / "poses.txt").write_text("".join(tum_quaternion_line(float(i), T) for i, T in enumerate(poses)))
    (tmp_path / "intrinsics.yaml").write_text(intrinsics_yaml(fx=30.0, fy=30.0, cx=15.5, cy=11.5, width=32, height=24, depth_scale=0.001))
    return load_index("folder", tmp_path)


def test_pairs_at_several_distances(index):
    dataset = RelativePoseDataset(index, distances=(1, -2))
    assert len(dataset) == 7 + 6
    item = dataset[dataset.find("000005", "000003")]
    T_world = {f.frame_id: f.T_world_cam for f in index.frames}
    expected = relative_pose(T_world["000003"], T_world["000005"])
    assert torch.allclose(item["T_src_tgt"], expected.float(), atol=1e-6)
    assert item["T_src_tgt"][0, 3] == pytest.approx(0.1, abs=1e-6)  # target is 0.1 m right of the source


def test_minimum_motion_filter(index):
    every = RelativePoseDataset(index, distances=1)
    moving = RelativePoseDataset(index, distances=1, min_translation=0.05)
    assert len(every) == 7
    pairs = {(s.target.frame_id, s.sources[0].frame_id) for s in moving.samples}
    assert ("000002", "000003") not in pairs and ("000003", "000004") not in pairs  # static
    assert ("000005", "000006") not in pairs  # turns only
    both = RelativePoseDataset(index, distances=1, min_translation=0.05, min_rotation_deg=5.0)
    assert ("000005", "000006") in {(s.target.frame_id, s.sources[0].frame_id) for s in both.samples}
    assert len(both) == 5 and both.filtered_out == 2
    assert "2 dropped" in str(both)
    with pytest.raises(DatasetError, match="no pair"):
        RelativePoseDataset(index, distances=1, min_translation=5.0)


def test_snippets_have_the_middle_frame_as_target(index):
    dataset = RelativePoseDataset(index, distances=2, snippet_length=3)
    assert len(dataset) == 4
    item = dataset[0]
    assert item["target_frame"] == "000002" and item["source_frames"] == "000000,000004"
    assert item["source_images"].shape == (2, 3, 24, 32) and item["T_src_tgt"].shape == (2, 4, 4)
    with pytest.raises(DatasetError, match="must be positive"):
        RelativePoseDataset(index, distances=-1, snippet_length=3)


def test_items_scale_intrinsics_and_carry_the_depth_mask(index):
    dataset = RelativePoseDataset(index, distances=1, transform=FrameTransform(resize=(12, 16), crop=(12, 12)))
    item = dataset[0]
    assert item["target_image"].shape == (3, 12, 12) and item["source_image"].shape == (3, 12, 12)
    # resize by 0.5 (c -> 0.5 (c + 0.5) - 0.5), then crop 2 columns on the left.
    assert torch.allclose(item["intrinsics"], torch.tensor([15.0, 15.0, 7.5 - 2.0, 5.5]))
    assert item["target_depth"].shape == (1, 12, 12)
    assert torch.equal(item["target_depth_valid"], item["target_depth"] > 0)
    assert not bool(item["target_depth_valid"][0, :, 0].any()) and bool(item["target_depth_valid"][0, :, 2:].all())
    assert torch.allclose(item["target_depth"][item["target_depth_valid"]], torch.tensor(2.0))
    no_depth = RelativePoseDataset(index, distances=1, load_depth=False)[0]
    assert "target_depth" not in no_depth


def test_augmentation_is_shared_by_source_and_target(index):
    plain = RelativePoseDataset(index, distances=1)[2]
    torch.manual_seed(3)
    jittered = RelativePoseDataset(index, distances=1, augment=ColorJitter(brightness=0.5))[2]
    ratio_target = jittered["target_image"].sum() / plain["target_image"].sum()
    ratio_source = jittered["source_image"].sum() / plain["source_image"].sum()
    assert float(ratio_target) != pytest.approx(1.0, abs=1e-3)
    assert float(ratio_target) == pytest.approx(float(ratio_source), rel=0.02)
