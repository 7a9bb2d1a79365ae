"""TUM RGB-D sequences and the generic folder, on fixtures written in the published layouts."""

from __future__ import annotations

import pytest
import torch

from posekit.data import RelativePoseDataset, load_index, read_depth
from posekit.errors import DatasetError

from .layouts import HEIGHT, WIDTH, intrinsics_yaml, pose, tum_quaternion_line, write_rgb, write_tum

T0 = 1305031102.0


def _tum(root, **kwargs):
    rgb = [T0 + 0.033 * i for i in range(6)]
    depth = [s + 0.004 for s in rgb[:5]]  # the last colour frame has no depth image
    gt = [(T0 + 0.01 * i, pose(yaw=0.01 * i, t=(0.002 * i, 0.0, 0.0))) for i in range(-2, 30)]  # 100 Hz
    write_tum(root, rgb, depth, gt, **kwargs)
    return rgb, gt


def test_tum_association_depth_units_and_published_intrinsics(tmp_path):
    root = tmp_path / "rgbd_dataset_freiburg1_xyz"
    rgb, gt = _tum(root, depth_raw=5000)
    # Published intrinsics are for 640x480: with 16x12 fixture images they contradict the images.
    with pytest.raises(DatasetError, match="image size 16x12 contradicts the intrinsics \\(640x480\\)"):
        load_index("tum", root)
    (root / "intrinsics.yaml").write_text(intrinsics_yaml())
    index = load_index("tum", root)
    assert len(index.frames) == 5 and any("1 of 6 colour frames have no depth image within 0.02 s" in n for n in index.notes)
    frame = index.frames[2]
    assert frame.frame_id == f"{rgb[2]:.6f}" and frame.timestamp == pytest.approx(rgb[2])
    nearest = min(gt, key=lambda g: abs(g[0] - rgb[2]))
    assert torch.allclose(frame.T_world_cam, nearest[1], atol=1e-5)
    assert read_depth(frame.depth_path, frame.depth_scale)[3, 3] == pytest.approx(1.0)  # 5000 / 5000


def test_tum_published_intrinsics_by_folder_name(tmp_path):
    root = tmp_path / "rgbd_dataset_freiburg2_desk"
    _tum(root)
    with pytest.raises(DatasetError):
        load_index("tum", root)  # 16x12 images
    index = load_index("tum", root, verify="files")
    k = index.frames[0].intrinsics
    assert (k.fx, k.fy, k.cx, k.cy, k.width, k.height) == (520.9, 521.0, 325.1, 249.7, 640, 480)
    unnamed = tmp_path / "my_sequence"
    _tum(unnamed)
    with pytest.raises(DatasetError, match="names no TUM camera"):
        load_index("tum", unnamed)


def test_tum_bad_list_line_and_bad_groundtruth(tmp_path):
    root = tmp_path / "rgbd_dataset_freiburg3_office"
    _tum(root)
    (root / "intrinsics.yaml").write_text(intrinsics_yaml())
    with open(root / "rgb.txt", "a") as handle:
        handle.write("1305031103.5 rgb/a.png extra\n")
    with open(root / "groundtruth.txt", "a") as handle:
        handle.write("1305031110.0 1 2 3 0 0 0\n")
    with pytest.raises(DatasetError) as error:
        load_index("tum", root)
    assert "rgb.txt:10: expected 'timestamp filename', got 3 fields" in str(error.value)
    assert "groundtruth.txt:36: TUM line (timestamp tx ty tz qx qy qz qw): expected 8 values, got 7" in str(error.value)


def test_tum_relative_pairs_have_depth_and_mask(tmp_path):
    root = tmp_path / "rgbd_dataset_freiburg1_xyz"
    _tum(root, depth_raw=0)
    (root / "intrinsics.yaml").write_text(intrinsics_yaml(depth_scale=0.001))
    item = RelativePoseDataset.from_path("tum", root, distances=1)[0]
    assert item["target_depth"].shape == (1, HEIGHT, WIDTH)
    assert not bool(item["target_depth_valid"].any())  # raw 0 = unknown


def _folder(root, stems, poses, depth=False):
    for i, stem in enumerate(stems):
        write_rgb(root / "images" / f"{stem}.png", seed=i)
    lines = "".join(tum_quaternion_line(s, T) for s, T in poses)
    (root / "poses.txt").write_text("# timestamp tx ty tz qx qy qz qw\n" + lines)
    (root / "intrinsics.yaml").write_text(intrinsics_yaml(depth_scale=0.001 if depth else None))


def test_folder_by_timestamp_and_by_order(tmp_path):
    poses = [(10.0 + 0.1 * i, pose(t=(i, 0, 0))) for i in range(5)]
    timed = tmp_path / "timed"
    _folder(timed, [f"{10.0 + 0.1 * i + 0.003:.3f}" for i in range(4)] + ["20.500"], poses)
    index = load_index("folder", timed)
    assert [f.frame_id for f in index.frames] == ["10.003", "10.103", "10.203", "10.303"]
    assert torch.allclose(index.frames[3].T_world_cam, poses[3][1])
    assert any("1 of 5 images have no pose" in n for n in index.notes)
    ordered = tmp_path / "ordered"
    _folder(ordered, [f"{i:06d}" for i in range(5)], poses)
    index = load_index("folder", ordered)
    assert [f.frame_id for f in index.frames] == [f"{i:06d}" for i in range(5)]
    assert torch.allclose(index.frames[4].T_world_cam, poses[4][1])
    assert index.frames[0].intrinsics.width == WIDTH


def test_folder_errors(tmp_path):
    poses = [(10.0 + 0.1 * i, pose(t=(i, 0, 0))) for i in range(5)]
    _folder(tmp_path, [f"{i:06d}" for i in range(4)], poses)
    with pytest.raises(DatasetError, match=r"poses\.txt: 5 poses for 4 images"):
        load_index("folder", tmp_path)
    (tmp_path / "intrinsics.yaml").write_text("fx: 10\nfy: 10\ncx: 7.5\n")
    with pytest.raises(DatasetError, match=r"intrinsics\.yaml: missing key\(s\): cy, width, height"):
        load_index("folder", tmp_path)
    (tmp_path / "intrinsics.yaml").unlink()
    with pytest.raises(DatasetError, match="missing intrinsics.yaml"):
        load_index("folder", tmp_path)


def test_folder_image_size_contradicting_intrinsics(tmp_path):
    poses = [(10.0 + 0.1 * i, pose(t=(i, 0, 0))) for i in range(3)]
    _folder(tmp_path, ["a", "b", "c"], poses)
    (tmp_path / "intrinsics.yaml").write_text(intrinsics_yaml(width=640, height=480, cx=319.5, cy=239.5))
    with pytest.raises(DatasetError, match=r"images/a\.png: image size 16x12 contradicts the intrinsics \(640x480\)"):
        load_index("folder", tmp_path)
