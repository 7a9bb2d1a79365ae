"""Apolloscape self-localization, both layouts, on fixtures written in the published layout."""

from __future__ import annotations

import pytest
import torch

from posekit.data import AbsolutePoseDataset, Split, load_index
from posekit.data.apolloscape import name_timestamp, stereo_key
from posekit.errors import DatasetError

from .layouts import HEIGHT, WIDTH, pose, write_apolloscape_road, write_apolloscape_zpark

RECORDS = {
    "Record001": [
        ("170927_063811892", pose(yaw=0.1, t=(100.0, 5.0, 1.0), roll=0.02, pitch=-0.03)),
        ("170927_063812011", pose(yaw=0.12, t=(101.0, 5.2, 1.0))),
        ("170927_063812139", pose(yaw=0.15, t=(102.0, 5.5, 1.1))),
    ],
    "Record002": [("170927_064001000", pose(yaw=-2.0, t=(50.0, -7.0, 0.9))), ("170927_064001150", pose(yaw=-2.1, t=(49.0, -7.5, 0.9)))],
}


def test_file_name_timestamps():
    assert stereo_key("170927_063811892_Camera_5.jpg") == "170927_063811892"
    assert name_timestamp("170927_063812011_Camera_1.jpg") - name_timestamp("170927_063811892_Camera_2.jpg") == pytest.approx(0.119)
    assert name_timestamp("image.jpg") is None


def test_zpark_layout_euler_poses_and_official_split(tmp_path):
    write_apolloscape_zpark(tmp_path, RECORDS)
    split = tmp_path / "trainval_split"
    split.mkdir()
    (split / "train.txt").write_text("".join(f"Record001/{c}/{s}_{c}\n" for s, _ in RECORDS["Record001"] for c in ("Camera_1", "Camera_2")))
    (split / "val.txt").write_text("".join(f"Record002/{c}/{s}_{c}.jpg\n" for s, _ in RECORDS["Record002"] for c in ("Camera_1", "Camera_2")))
    index = load_index("apolloscape", tmp_path)
    assert index.records == ["Record001", "Record002"] and index.cameras == ["Camera_1", "Camera_2"]
    frame = next(f for f in index.frames if f.key == "Record001/Camera_2/170927_063811892")
    assert torch.allclose(frame.T_world_cam, RECORDS["Record001"][0][1], atol=1e-8)  # R = Rz Ry Rx, camera-to-world
    assert frame.split is Split.TRAIN and frame.timestamp == pytest.approx(name_timestamp(frame.image_path.name))
    # Published ZPark intrinsics (2452x2056) scaled to the stored size.
    assert frame.intrinsics.fx == pytest.approx(1450.317230113 * WIDTH / 2452)
    assert frame.intrinsics.cy == pytest.approx((1013.145997723 + 0.5) * HEIGHT / 2056 - 0.5)
    val = AbsolutePoseDataset(index, "val", stereo=True)
    assert len(val) == 2 and val.record_counts() == {"Record002": 2}
    assert "Split: val (official)" in val.summary() and "Stereo: True" in val.summary()
    # Normalisation comes from the training record only.
    train_positions = torch.stack([T[:3, 3] for _, T in RECORDS["Record001"]])
    assert torch.allclose(torch.tensor(val.pose_stats.mean, dtype=torch.float64), train_positions.mean(0))


def test_road_layout_with_space_in_camera_folder_and_stereo(tmp_path):
    write_apolloscape_road(tmp_path, RECORDS)
    assert (tmp_path / "ColorImage" / "Record001" / "Camera 5" / "170927_063811892_Camera_5.jpg").is_file()
    (tmp_path / "ColorImage" / "Record001" / "Camera 6" / "170927_063812139_Camera_6.jpg").unlink()
    lines = (tmp_path / "Pose" / "Record001" / "Camera 6" / "pose.txt").read_text().splitlines()
    (tmp_path / "Pose" / "Record001" / "Camera 6" / "pose.txt").write_text("\n".join(lines[:2]) + "\n")
    index = load_index("apolloscape", tmp_path)
    assert index.cameras == ["Camera 5", "Camera 6"]
    assert not index.has_official_split
    frame = next(f for f in index.frames if f.key == "Record002/Camera 5/170927_064001150")
    assert torch.allclose(frame.T_world_cam, RECORDS["Record002"][1][1], atol=1e-8)
    assert frame.intrinsics.fx == pytest.approx(2304.54786556982 * WIDTH / 3384)
    stereo = AbsolutePoseDataset(index, "all", stereo=True, cameras=("Camera 5", "Camera 6"), normalize=False)
    # The pair whose right image is missing is not formed; the others match by timestamp.
    assert len(stereo) == 4
    assert [s[0].frame_id == s[1].frame_id for s in stereo.samples] == [True] * 4
    mono = AbsolutePoseDataset(index, "all", cameras="Camera 5", normalize=False, records="Record001")
    assert len(mono) == 3 and mono.record_counts() == {"Record001": 3}
    assert "Record: Record001" in str(mono)


def test_road_pose_line_problems(tmp_path):
    write_apolloscape_road(tmp_path, RECORDS, cameras=("Camera 5",))
    path = tmp_path / "Pose" / "Record002" / "Camera 5" / "pose.txt"
    lines = path.read_text().splitlines()
    path.write_text(lines[0] + "\n" + " ".join(lines[1].split()[1:]) + "\n")  # line 2 lost a number
    with pytest.raises(DatasetError) as error:
        load_index("apolloscape", tmp_path)
    message = str(error.value)
    assert "Camera 5/pose.txt:2: expected 16 numbers (row-major 4x4) then the image name, got 16 fields" in message
    assert "170927_064001150_Camera_5.jpg: no pose for this image" in message


def test_skip_bad_drops_only_the_frame_without_pose(tmp_path):
    write_apolloscape_zpark(tmp_path, RECORDS, cameras=("Camera_1",))
    path = tmp_path / "pose" / "Record001" / "Camera_1.txt"
    path.write_text("\n".join(path.read_text().splitlines()[:2]) + "\n")
    with pytest.warns(UserWarning):
        index = load_index("apolloscape", tmp_path, skip_bad=True)
    assert len(index.frames) == 4
    assert [str(p).endswith("no pose for this image in " + str(path)) for p in index.problems] == [True]


def test_not_an_apolloscape_folder(tmp_path):
    with pytest.raises(DatasetError, match="expected image/ \\+ pose/"):
        load_index("apolloscape", tmp_path)
