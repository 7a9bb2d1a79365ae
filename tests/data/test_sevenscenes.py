"""7-Scenes and the per-frame (SUN3D-style) layout: the real redkitchen excerpt and written fixtures."""

from __future__ import annotations

import pytest
import torch

from posekit.data import (
    AbsolutePoseDataset,
    FrameTransform,
    RelativePoseDataset,
    Split,
    load_index,
    read_depth,
)
from posekit.data.sevenscenes import SEVEN_SCENES_INTRINSICS
from posekit.errors import DatasetError
from posekit.geometry import warp_source_to_target

from .layouts import HEIGHT, WIDTH, pose, write_sevenscenes


def _grey(images: torch.Tensor) -> torch.Tensor:
    return (images * images.new_tensor([0.299, 0.587, 0.114]).reshape(1, 3, 1, 1)).sum(1, keepdim=True)


# -- real data ----------------------------------------------------------------------------------------------


def test_real_excerpt_loads_as_frames(sevenscenes_dir):
    index = load_index("frames", sevenscenes_dir)
    assert len(index.frames) == 1000
    assert index.records == ["frames"]
    frame = index.frames[100]
    assert frame.frame_id == "000100"
    assert frame.image_path.name == "frame-000100.color.jpg"
    assert frame.depth_path.name == "frame-000100.depth.png"
    assert frame.depth_scale == pytest.approx(0.001)
    k = frame.intrinsics
    assert (k.fx, k.fy, k.cx, k.cy, k.width, k.height) == (585.0, 585.0, 320.0, 240.0, 640, 480)
    # The pose is the file's matrix (camera-to-world), translation in metres.
    first = [[float(v) for v in line.split()] for line in (sevenscenes_dir / "frames/frame-000000.pose.txt").read_text().splitlines()]
    assert torch.allclose(index.frames[0].T_world_cam[:3, 3], torch.tensor(first, dtype=torch.float64)[:3, 3])


def test_real_depth_is_metres(sevenscenes_dir):
    depth = read_depth(sevenscenes_dir / "frames/frame-000100.depth.png", 0.001)
    valid = depth[depth > 0]
    assert 0.5 < float(valid.min()) and float(valid.max()) < 4.0
    assert 0.8 < (depth > 0).mean() < 0.95


def test_real_warp_through_the_dataset_api(sevenscenes_dir):
    """Warping frame 105 into frame 100 with the GT relative pose beats the identity by at least 2x."""
    dataset = RelativePoseDataset.from_path(
        "frames", sevenscenes_dir, distances=5, transform=FrameTransform(resize=(240, 320))
    )
    item = dataset[dataset.find("000100", "000105")]
    assert item["target_image"].shape == (3, 240, 320)
    assert torch.allclose(item["intrinsics"], torch.tensor([292.5, 292.5, 159.75, 119.75]))
    assert item["target_depth_valid"].dtype == torch.bool
    target = _grey(item["target_image"][None])
    errors = {}
    for name, T_src_tgt in (("gt", item["T_src_tgt"]), ("identity", torch.eye(4))):
        warp = warp_source_to_target(item["source_image"][None], item["target_depth"][None], T_src_tgt, item["intrinsics"])
        mask = warp.valid & item["target_depth_valid"][None]
        errors[name] = float((_grey(warp.warped) - target).abs()[mask].mean())
    assert errors["gt"] * 2.0 <= errors["identity"], errors


def test_real_excerpt_is_not_an_official_scene_folder(sevenscenes_dir):
    with pytest.raises(DatasetError, match="use the format 'frames'"):
        load_index("7scenes", sevenscenes_dir)


# -- official layout fixtures --------------------------------------------------------------------------------


def _scene(tmp_path, **kwargs):
    sequences = {1: [pose(t=(0.1 * i, 0, 0)) for i in range(4)], 2: [pose(t=(0, 0.2 * i, 1)) for i in range(3)], 3: [pose(t=(5, 0, 0))] * 2}
    write_sevenscenes(tmp_path, sequences, train=[1, 3], test=[2], **kwargs)
    return tmp_path


def test_official_layout_splits_and_default_intrinsics(tmp_path):
    root = _scene(tmp_path, size=(640, 480))
    index = load_index("7scenes", root)
    assert index.records == ["seq-01", "seq-02", "seq-03"]
    assert {f.record_id: f.split for f in index.frames} == {"seq-01": Split.TRAIN, "seq-02": Split.TEST, "seq-03": Split.TRAIN}
    assert index.frames[0].intrinsics == SEVEN_SCENES_INTRINSICS
    test = AbsolutePoseDataset(index, "test", normalize=False)
    assert len(test) == 3 and test.record_counts() == {"seq-02": 3}
    with pytest.raises(DatasetError, match="no 'val' split"):
        AbsolutePoseDataset(index, "val")


def test_default_intrinsics_contradict_a_smaller_image(tmp_path):
    root = _scene(tmp_path)  # 16x12 images, no camera-intrinsics.txt: 585/320/240 is for 640x480
    with pytest.raises(DatasetError, match=r"frame-000000\.color\.png: image size 16x12 contradicts the intrinsics \(640x480\)"):
        load_index("7scenes", root)


def test_camera_intrinsics_file_and_depth_units(tmp_path):
    root = _scene(tmp_path, camera_matrix=[[20.0, 0.0, 7.5], [0.0, 21.0, 5.5], [0.0, 0.0, 1.0]], depth_mm=1500)
    index = load_index("7scenes", root)
    k = index.frames[0].intrinsics
    assert (k.fx, k.fy, k.cx, k.cy, k.width, k.height) == (20.0, 21.0, 7.5, 5.5, WIDTH, HEIGHT)
    depth = read_depth(index.frames[0].depth_path, index.frames[0].depth_scale)
    assert depth[0, 0] == 0.0 and depth[0, 1] == 0.0  # 0 and 65535 are unknown
    assert depth[5, 5] == pytest.approx(1.5)


def test_missing_pose_and_bad_split_line_are_reported_with_file_and_line(tmp_path):
    root = _scene(tmp_path, camera_matrix=[[20.0, 0.0, 7.5], [0.0, 21.0, 5.5], [0.0, 0.0, 1.0]])
    (root / "seq-01" / "frame-000002.pose.txt").unlink()
    (root / "TestSplit.txt").write_text("sequence2\nseq 4\n")
    with pytest.raises(DatasetError) as error:
        load_index("7scenes", root)
    message = str(error.value)
    assert "2 problem(s)" in message
    assert "frame-000002: frame has no pose.txt" in message
    assert "TestSplit.txt:2: expected a line like 'sequence1'" in message
    with pytest.warns(UserWarning, match="skipped 1 bad frame"):
        index = load_index("7scenes", root, skip_bad=True)
    assert len(index.frames) == 8 and "seq-01/cam0/000002" not in {f.key for f in index.frames}
    assert len(index.problems) == 2


def test_malformed_pose_file_names_file_and_line(tmp_path):
    root = _scene(tmp_path, camera_matrix=[[20.0, 0.0, 7.5], [0.0, 21.0, 5.5], [0.0, 0.0, 1.0]])
    path = root / "seq-02" / "frame-000001.pose.txt"
    lines = path.read_text().splitlines()
    lines[1] = "1 0 zero 0"
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(DatasetError, match=r"seq-02/frame-000001\.pose\.txt:2: .*'zero' is not a number"):
        load_index("7scenes", root)


def test_frames_layout_needs_camera_intrinsics(tmp_path):
    root = _scene(tmp_path)
    with pytest.raises(DatasetError, match="no camera-intrinsics.txt"):
        load_index("frames", root / "seq-01")
    (root / "camera-intrinsics.txt").write_text("20 0 7.5\n0 20 5.5\n0 0 1\n")
    single = load_index("frames", root / "seq-01")  # a single folder of frames, K in the parent
    assert single.records == ["seq-01"] and len(single.frames) == 4
    several = load_index("frames", root)  # a folder of frame folders: each one a record
    assert several.records == ["seq-01", "seq-02", "seq-03"]
    assert not several.has_official_split
