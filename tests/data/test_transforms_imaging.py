"""Frame transform geometry (pixels and intrinsics agree), image/depth decoding and calibration files."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image

from posekit.data import ColorJitter, FrameTransform, ImageMode, read_depth, read_image
from posekit.data.calibration import read_camera_matrix_txt, read_intrinsics_yaml
from posekit.errors import FileFormatError, ShapeError
from posekit.geometry import PinholeIntrinsics

from .layouts import write_depth, write_rgb


def test_resized_pixels_follow_the_intrinsics_convention():
    """A horizontal ramp I(u) = 4u resized by 1/2: output column x samples source u = 2x + 0.5, which is
    where PinholeIntrinsics.resized puts it (u_out = (u_src + 0.5) / 2 - 0.5)."""
    ramp = np.tile((np.arange(48) * 4).astype(np.uint8), (36, 1))[:, :, None]
    transform = FrameTransform(resize=(18, 24))
    out = transform.apply_image(ramp)[:, :, 0].astype(float)
    k = transform.apply_intrinsics(PinholeIntrinsics(50.0, 50.0, 10.0, 10.0, 48, 36))
    for x in range(2, 22):
        source_u = (x - k.cx) * 2.0 + 10.0  # invert u_out = sx (u_src - c_src) + c_out with sx = 0.5
        assert out[5, x] == pytest.approx(4 * source_u, abs=1.0)


def test_crop_and_shorter_side_resize():
    image = np.arange(24 * 32 * 3, dtype=np.uint32).reshape(24, 32, 3).astype(np.uint8)
    crop = FrameTransform(crop=(10, 12))
    assert np.array_equal(crop.apply_image(image), image[7:17, 10:22])
    k = crop.apply_intrinsics(PinholeIntrinsics(30.0, 30.0, 15.5, 11.5, 32, 24))
    assert (k.cx, k.cy, k.width, k.height) == (5.5, 4.5, 12, 10)
    short = FrameTransform(resize=12)
    assert short.resized_size(32, 24) == (16, 12) and short.resized_size(24, 32) == (12, 16)
    with pytest.raises(ShapeError, match="larger than the resized image"):
        FrameTransform(resize=(8, 8), crop=(10, 10)).apply_intrinsics(PinholeIntrinsics(30.0, 30.0, 15.5, 11.5, 32, 24))
    assert FrameTransform(resize=(8, 8)).config() != FrameTransform(resize=(8, 8), crop=(8, 8)).config()


def test_depth_resize_is_nearest_so_unknown_never_blends():
    depth = np.zeros((4, 4), dtype=np.float32)
    depth[:, ::2] = 3.0  # alternate columns known / unknown
    out = FrameTransform(resize=(2, 2)).apply_depth(depth)
    assert set(np.unique(out).tolist()) <= {0.0, 3.0}


def test_color_jitter_range_and_grey_images():
    torch.manual_seed(0)
    images = torch.rand(4, 3, 8, 8)
    out = ColorJitter(0.5, 0.5, 0.5)(images)
    assert out.shape == images.shape and float(out.min()) >= 0.0 and float(out.max()) <= 1.0
    assert ColorJitter(saturation=0.5)(torch.rand(1, 8, 8)).shape == (1, 8, 8)
    with pytest.raises(ShapeError):
        ColorJitter(brightness=1.5)


def test_image_decoding_and_errors(tmp_path):
    write_rgb(tmp_path / "colour.png", width=5, height=4)
    assert read_image(tmp_path / "colour.png").shape == (4, 5, 3)
    assert read_image(tmp_path / "colour.png", ImageMode.GREY).shape == (4, 5, 1)
    (tmp_path / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0 not really a jpeg")
    with pytest.raises(FileFormatError, match=r"broken\.jpg: cannot decode image"):
        read_image(tmp_path / "broken.jpg")
    with pytest.raises(FileFormatError, match=r"missing\.png: file not found"):
        read_image(tmp_path / "missing.png")
    write_depth(tmp_path / "depth.png", np.array([[0, 1000], [65535, 2500]]))
    assert np.array_equal(read_depth(tmp_path / "depth.png", 0.001), np.array([[0.0, 1.0], [0.0, 2.5]], dtype=np.float32))
    Image.fromarray(np.zeros((2, 2), dtype=np.uint8)).save(tmp_path / "eight_bit.png")
    with pytest.raises(FileFormatError, match="expected a 16-bit depth image"):
        read_depth(tmp_path / "eight_bit.png", 0.001)


def test_calibration_files(tmp_path):
    path = tmp_path / "intrinsics.yaml"
    path.write_text("fx: 500\nfy: 500\ncx: 319.5\ncy: 239.5\nwidth: 640\nheight: 480\ndepth_scale: 0.0002\n")
    calibration = read_intrinsics_yaml(path)
    assert calibration.intrinsics == PinholeIntrinsics(500.0, 500.0, 319.5, 239.5, 640, 480)
    assert calibration.depth_scale == 0.0002
    path.write_text("fx: 500\nfy: -1\ncx: 319.5\ncy: 239.5\nwidth: 640\nheight: 480\n")
    with pytest.raises(FileFormatError, match="focal lengths must be positive"):
        read_intrinsics_yaml(path)
    path.write_text("fx: [500\n")
    with pytest.raises(FileFormatError, match="invalid YAML"):
        read_intrinsics_yaml(path)
    matrix = tmp_path / "camera-intrinsics.txt"
    matrix.write_text("585 0 320\n0 585 240\n0 0\n")
    with pytest.raises(FileFormatError, match=r"camera-intrinsics\.txt:3: expected 3 numbers, got 2"):
        read_camera_matrix_txt(matrix)
