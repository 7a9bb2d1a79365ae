"""The writers: exact layouts and encodings that the dataset readers expect."""

from __future__ import annotations

import io

import numpy as np
import pytest
import torch
import yaml
from PIL import Image

from posekit.data.synth.png import encode_png
from posekit.data.synth.writers import (
    SEVENSCENES_DEPTH_SCALE,
    SEVENSCENES_MAX_CODE,
    TUM_DEPTH_SCALE,
    TUM_MAX_CODE,
    SyntheticFrame,
    camera_matrix_text,
    encode_depth,
    write_7scenes,
    write_tum_rgbd,
)
from posekit.errors import ShapeError
from posekit.geometry import PinholeIntrinsics, axis_angle_to_matrix
from posekit.metrics.trajectory_files import read_pose_matrix_file, read_tum

K = PinholeIntrinsics(30.5, 31.0, 9.5, 7.25, 20, 15)


def _frames(n: int, seed: int = 0) -> list[SyntheticFrame]:
    rng = np.random.default_rng(seed)
    frames = []
    for k in range(n):
        pose = np.eye(4)
        pose[:3, :3] = axis_angle_to_matrix(torch.from_numpy(rng.normal(size=3))).numpy()
        pose[:3, 3] = rng.normal(size=3) * 3
        color = rng.integers(0, 256, (15, 20, 3), dtype=np.uint8)
        depth = rng.uniform(0.3, 9.0, (15, 20)).astype(np.float32)
        depth[0, 0] = 0.0
        frames.append(SyntheticFrame(k, round(k / 30, 6), color, depth, pose))
    return frames


@pytest.mark.parametrize(
    "image",
    [
        np.random.default_rng(0).integers(0, 256, (7, 5, 3), dtype=np.uint8),
        np.random.default_rng(1).integers(0, 65536, (6, 9), dtype=np.uint16),
        np.random.default_rng(2).integers(0, 256, (4, 11), dtype=np.uint8),
    ],
    ids=["rgb8", "grey16", "grey8"],
)
def test_png_encoder_round_trips_through_pillow(image):
    data = encode_png(image)
    decoded = np.asarray(Image.open(io.BytesIO(data)))
    assert decoded.dtype == image.dtype and np.array_equal(decoded, image)
    assert encode_png(image) == data  # deterministic


def test_png_encoder_rejects_other_images():
    with pytest.raises(ShapeError):
        encode_png(np.zeros((4, 4, 3), np.uint16))
    with pytest.raises(ShapeError):
        encode_png(np.zeros((4, 4), np.float32))


def test_depth_codes_round_and_drop_what_the_format_cannot_hold():
    depth = np.array([[0.0, 0.0004, 0.0006, 1.2344, 1.2346, 65.534, 65.5346, np.inf, np.nan, -1.0]])
    codes = encode_depth(depth, SEVENSCENES_DEPTH_SCALE, SEVENSCENES_MAX_CODE)
    assert codes.dtype == np.uint16
    assert codes.tolist() == [[0, 0, 1, 1234, 1235, 65534, 0, 0, 0, 0]]
    assert encode_depth(np.array([13.107, 13.108]), TUM_DEPTH_SCALE, TUM_MAX_CODE).tolist() == [65535, 0]


def test_7scenes_layout(tmp_path):
    sequences = [_frames(3, 0), _frames(2, 1), _frames(2, 2)]
    counts = write_7scenes(tmp_path, sequences, K, test_sequences=[2])
    assert counts == [3, 2, 2]
    assert (tmp_path / "TrainSplit.txt").read_text() == "sequence1\nsequence2\n"
    assert (tmp_path / "TestSplit.txt").read_text() == "sequence3\n"
    rows = [[float(v) for v in line.split()] for line in (tmp_path / "camera-intrinsics.txt").read_text().splitlines()]
    assert rows == [[30.5, 0.0, 9.5], [0.0, 31.0, 7.25], [0.0, 0.0, 1.0]]
    assert camera_matrix_text(K) == (tmp_path / "camera-intrinsics.txt").read_text()
    for i, frames in enumerate(sequences):
        folder = tmp_path / f"seq-{i + 1:02d}"
        assert sorted(p.name for p in folder.iterdir()) == sorted(
            f"frame-{k:06d}.{kind}" for k in range(len(frames)) for kind in ("color.png", "depth.png", "pose.txt")
        )
        for frame in frames:
            stem = folder / f"frame-{frame.index:06d}"
            assert np.array_equal(np.asarray(Image.open(f"{stem}.color.png")), frame.color)
            depth = np.asarray(Image.open(f"{stem}.depth.png"))
            assert depth.dtype == np.uint16 and depth[0, 0] == 0
            np.testing.assert_allclose(depth[1:] / 1000.0, frame.depth[1:], atol=0.0005 + 1e-7)
            pose = read_pose_matrix_file(f"{stem}.pose.txt").numpy()
            np.testing.assert_array_equal(pose, frame.T_world_cam)  # exact: written with full precision


def test_tum_layout_one_sequence_in_the_folder_itself(tmp_path):
    frames = _frames(4)
    assert write_tum_rgbd(tmp_path, [frames], K) == [4]
    for name, folder in (("rgb.txt", "rgb"), ("depth.txt", "depth")):
        lines = [line for line in (tmp_path / name).read_text().splitlines() if not line.startswith("#")]
        assert lines == [f"{f.timestamp:.6f} {folder}/{f.timestamp:.6f}.png" for f in frames]
    intrinsics = yaml.safe_load((tmp_path / "intrinsics.yaml").read_text())
    assert intrinsics == {"fx": 30.5, "fy": 31.0, "cx": 9.5, "cy": 7.25, "width": 20, "height": 15,
                          "depth_scale": TUM_DEPTH_SCALE}
    trajectory = read_tum(tmp_path / "groundtruth.txt")
    np.testing.assert_allclose(trajectory.timestamps.numpy(), [f.timestamp for f in frames])
    np.testing.assert_allclose(trajectory.poses.numpy(), np.stack([f.T_world_cam for f in frames]), atol=1e-12)
    depth = np.asarray(Image.open(tmp_path / "depth" / f"{frames[1].timestamp:.6f}.png"))
    np.testing.assert_allclose(depth[1:] / 5000.0, frames[1].depth[1:], atol=0.0001 + 1e-7)


def test_tum_layout_several_sequences_in_subfolders(tmp_path):
    write_tum_rgbd(tmp_path, [_frames(2, 0), _frames(3, 1)], K)
    for name, count in (("seq-01", 2), ("seq-02", 3)):
        assert len(list((tmp_path / name / "rgb").iterdir())) == count
        assert (tmp_path / name / "groundtruth.txt").is_file()


def test_frames_of_the_wrong_size_are_rejected(tmp_path):
    frame = _frames(1)[0]
    other = PinholeIntrinsics(30.0, 30.0, 10.0, 10.0, 21, 15)
    with pytest.raises(ShapeError, match="frame 0"):
        write_7scenes(tmp_path, [[frame]], other)
    with pytest.raises(ShapeError, match="test_sequences"):
        write_7scenes(tmp_path, [[frame]], K, test_sequences=[1])
