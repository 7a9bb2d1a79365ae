"""Cambridge Landmarks on a fixture written in the published layout (header lines, NVM focal lengths)."""

from __future__ import annotations

import pytest
import torch

from posekit.data import AbsolutePoseDataset, Split, load_index
from posekit.data.cambridge import cambridge_pose
from posekit.errors import DatasetError
from posekit.geometry import quaternion_to_matrix, transform_points

from .layouts import HEIGHT, WIDTH, pose, write_cambridge

TRAIN = {
    "seq1/frame00001.png": pose(yaw=0.3, t=(1.0, 2.0, 3.0), roll=0.1),
    "seq1/frame00002.png": pose(yaw=0.35, t=(1.5, 2.0, 3.0), roll=0.1),
    "seq3/frame00001.png": pose(yaw=-1.0, t=(-4.0, 0.5, 1.0), pitch=0.2),
}
TEST = {"seq2/frame00007.png": pose(yaw=2.0, t=(10.0, -3.0, 0.5))}


def test_pose_convention_centre_and_world_to_camera_quaternion():
    """X Y Z is the camera centre; W P Q R rotates world into camera, so R_world_cam = R(q)^T."""
    q_cam_world = torch.tensor([0.9, 0.1, -0.3, 0.2], dtype=torch.float64)
    q_cam_world = q_cam_world / q_cam_world.norm()
    centre = [4.0, -1.0, 2.5]
    T_world_cam = cambridge_pose(centre, q_cam_world.tolist())
    R_cam_world = quaternion_to_matrix(q_cam_world)
    assert torch.allclose(T_world_cam[:3, :3], R_cam_world.T)
    assert torch.allclose(T_world_cam[:3, 3], torch.tensor(centre, dtype=torch.float64))
    # A world point maps into the camera as R(q) (X - C), the NVM / VisualSFM projection.
    X = torch.tensor([[1.0, 2.0, 3.0]], dtype=torch.float64)
    in_cam = transform_points(torch.linalg.inv(T_world_cam), X)
    assert torch.allclose(in_cam, (R_cam_world @ (X - torch.tensor(centre, dtype=torch.float64)).T).T)


def test_scene_folder_reads_splits_poses_and_nvm_focal(tmp_path):
    write_cambridge(tmp_path, TRAIN, TEST, focal=1680.0)
    index = load_index("cambridge", tmp_path)
    assert index.records == ["seq1", "seq2", "seq3"]
    by_name = {f"{f.record_id}/{f.image_path.name}": f for f in index.frames}
    for name, T in {**TRAIN, **TEST}.items():
        assert torch.allclose(by_name[name].T_world_cam, T, atol=1e-6)
    assert by_name["seq2/frame00007.png"].split is Split.TEST
    assert by_name["seq1/frame00002.png"].split is Split.TRAIN
    k = by_name["seq1/frame00001.png"].intrinsics
    assert k.fx == pytest.approx(1680.0 * WIDTH / 1920) and (k.cx, k.cy) == ((WIDTH - 1) / 2, (HEIGHT - 1) / 2)
    train = AbsolutePoseDataset(index, "train", transform=None)
    assert len(train) == 3 and train.pose_stats.count == 3


def test_bad_lines_name_file_and_line(tmp_path):
    write_cambridge(tmp_path, TRAIN, TEST)
    path = tmp_path / "dataset_train.txt"
    lines = path.read_text().splitlines()
    lines[4] = lines[4].rsplit(" ", 1)[0]  # 7 fields: the second pose line (line 5) lost a number
    lines.append("seq1/frame00009.png 1 2 3 2.0 0 0 0")  # line 7: not a unit quaternion
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(DatasetError) as error:
        load_index("cambridge", tmp_path)
    assert "dataset_train.txt:5: expected 'image X Y Z W P Q R' (8 fields), got 7" in str(error.value)
    assert "dataset_train.txt:7: quaternion norm 2 is not 1" in str(error.value)


def test_missing_image_and_missing_intrinsics(tmp_path):
    write_cambridge(tmp_path, TRAIN, TEST)
    (tmp_path / "seq3" / "frame00001.png").unlink()
    with pytest.raises(DatasetError, match=r"seq3/frame00001\.png: file not found"):
        load_index("cambridge", tmp_path)
    (tmp_path / "reconstruction.nvm").unlink()
    with pytest.raises(DatasetError, match="no reconstruction.nvm"):
        load_index("cambridge", tmp_path)
