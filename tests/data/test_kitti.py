"""KITTI odometry: the real excerpts (unlabelled calib.txt) and the official layout with labels."""

from __future__ import annotations

import pytest
import torch

from posekit.data import AbsolutePoseDataset, load_index
from posekit.data.kitti import read_kitti_calib
from posekit.errors import DatasetError, FileFormatError
from posekit.geometry import relative_pose

from .layouts import KITTI_BASELINE, KITTI_FX, kitti_pose_text, pose, write_kitti_sequence

EXCERPTS = {
    "seq06_frames000000-000050": (707.0912, 601.8873, 183.1104, (1226, 370)),
    "seq01_frames000000-000050": (718.856, 607.1928, 185.2157, (1241, 376)),
}


@pytest.mark.parametrize("name", sorted(EXCERPTS))
def test_real_excerpt_intrinsics_from_unlabelled_calib(kitti_dir, name):
    index = load_index("kitti", kitti_dir / name)
    fx, cx, cy, (width, height) = EXCERPTS[name]
    assert len(index.frames) == 51 and index.cameras == ["image_0"]
    k = index.frames[0].intrinsics
    assert (k.fx, k.fy, k.cx, k.cy, k.width, k.height) == (fx, fx, cx, cy, width, height)
    calib = read_kitti_calib(kitti_dir / name / "calib.txt")
    assert set(calib) == {"P0", "P1"}
    assert -float(calib["P1"][0, 3]) / fx == pytest.approx(0.5372, abs=1e-4)  # the stereo baseline


@pytest.mark.parametrize("name", sorted(EXCERPTS))
def test_real_excerpt_moves_forward_about_a_metre_per_frame(kitti_dir, name):
    index = load_index("kitti", kitti_dir / name)
    T_world_cam = torch.stack([f.T_world_cam for f in index.frames])
    assert torch.allclose(T_world_cam[0], torch.eye(4, dtype=torch.float64), atol=1e-6)  # line 0: identity
    step = relative_pose(T_world_cam[:-1], T_world_cam[1:])[:, :3, 3]  # next camera centre in the current camera
    distance = torch.linalg.vector_norm(step, dim=-1)
    assert 1.0 <= float(distance.mean()) <= 1.25
    assert bool((step[:, 2] > 0.95 * distance).all())  # along +z: forward, not backward or sideways


def test_real_times_are_read(kitti_dir):
    index = load_index("kitti", kitti_dir / "seq06_frames000000-000050")
    assert index.frames[1].timestamp == pytest.approx(0.1044989)
    assert load_index("kitti", kitti_dir / "seq01_frames000000-000050").frames[1].timestamp is None


def _official(tmp_path, labelled=True):
    poses = [pose(yaw=0.05 * i, t=(0.0, 0.0, 1.1 * i)) for i in range(5)]
    write_kitti_sequence(tmp_path / "sequences" / "00", 5, cameras=(0, 1, 2), labelled=labelled)
    write_kitti_sequence(tmp_path / "sequences" / "11", 3, cameras=(0,))  # a test sequence: no poses
    (tmp_path / "poses").mkdir()
    (tmp_path / "poses" / "00.txt").write_text(kitti_pose_text(poses))
    return tmp_path, poses


@pytest.mark.parametrize("labelled", [True, False])
def test_official_layout_converts_poses_to_each_camera(tmp_path, labelled):
    root, poses = _official(tmp_path, labelled)
    index = load_index("kitti", root)
    assert index.records == ["00"] and index.cameras == ["image_0", "image_1", "image_2"]
    assert any("11" in note and "no ground-truth" in note for note in index.notes)
    by_key = {f.key: f for f in index.frames}
    for i, T_world_cam0 in enumerate(poses):
        cam0, cam1 = by_key[f"00/image_0/{i:06d}"], by_key[f"00/image_1/{i:06d}"]
        assert torch.allclose(cam0.T_world_cam, T_world_cam0, atol=1e-8)
        # The right camera sits KITTI_BASELINE metres along cam0's +x axis.
        T_cam0_cam1 = relative_pose(cam0.T_world_cam, cam1.T_world_cam)
        assert torch.allclose(T_cam0_cam1[:3, 3], torch.tensor([KITTI_BASELINE, 0.0, 0.0], dtype=torch.float64), atol=1e-8)
        assert torch.allclose(T_cam0_cam1[:3, :3], torch.eye(3, dtype=torch.float64), atol=1e-8)
        cam2 = by_key[f"00/image_2/{i:06d}"]
        assert torch.allclose(relative_pose(cam0.T_world_cam, cam2.T_world_cam)[:3, 3], torch.tensor([-0.06, 0.0, 0.0], dtype=torch.float64), atol=1e-8)
    assert by_key["00/image_0/000002"].intrinsics.fx == KITTI_FX
    assert by_key["00/image_0/000002"].timestamp == pytest.approx(0.2)


def test_stereo_pairs_from_image_0_and_image_1(tmp_path):
    root, _ = _official(tmp_path)
    dataset = AbsolutePoseDataset.from_path("kitti", root, split="all", stereo=True, cameras=("image_0", "image_1"), normalize=False)
    item = dataset[2]
    assert item["image"].shape == (2, 1, 12, 16)
    assert item["T_world_cam"].shape == (2, 4, 4) and item["pose"].shape == (2, 7)
    baseline = torch.linalg.vector_norm(item["T_world_cam"][0, :3, 3] - item["T_world_cam"][1, :3, 3])
    assert float(baseline) == pytest.approx(KITTI_BASELINE, abs=1e-5)
    with pytest.raises(DatasetError, match="exactly two cameras"):
        AbsolutePoseDataset.from_path("kitti", root, stereo=True)


def test_pose_count_mismatch_is_an_error(tmp_path):
    root, poses = _official(tmp_path)
    (root / "poses" / "00.txt").write_text(kitti_pose_text(poses[:4]))
    with pytest.raises(DatasetError, match=r"poses/00\.txt: 4 poses for 5 images"):
        load_index("kitti", root)


def test_calib_errors_name_the_line(tmp_path):
    path = tmp_path / "calib.txt"
    path.write_text("P0: 1 0 0 0 0 1 0 0 0 0 1 0\nP1: 1 0 0\n")
    with pytest.raises(FileFormatError, match=r"calib\.txt:2: P1: expected 12 numbers"):
        read_kitti_calib(path)
