"""Route videos: mp4 through the ffmpeg binary of imageio-ffmpeg, with the route inset."""

from __future__ import annotations

import imageio.v2 as iio
import imageio_ffmpeg
import numpy as np
import pytest
import torch

from posekit.errors import ShapeError
from posekit.viz.video import write_route_video

from .viz_fixtures import helix_trajectory


def _frames(count: int, height: int = 60, width: int = 81):
    for i in range(count):
        yield torch.full((3, height, width), 0.2 + 0.6 * i / max(count - 1, 1))


def _read(path):
    reader = iio.get_reader(path, "ffmpeg")
    try:
        return [frame for frame in reader]
    finally:
        reader.close()


def test_the_ffmpeg_binary_ships_with_the_wheel():
    assert "imageio_ffmpeg" in imageio_ffmpeg.get_ffmpeg_exe()


def test_video_has_every_frame_an_even_size_and_the_inset(tmp_path):
    positions = helix_trajectory(12).positions
    path = write_route_video(tmp_path / "out" / "video.mp4", _frames(12), positions, fps=5,
                             labels=[f"frame {i}" for i in range(12)])
    frames = _read(path)
    assert len(frames) == 12
    assert frames[0].shape == (60, 80, 3)  # 81 is made even
    # The plain frame is a flat grey; the inset (top right) and the label (bottom left) are drawn over it.
    first = frames[0].astype(int)
    flat = first[30, 20]
    assert np.abs(first[2:18, 55:78] - flat).max() > 60
    assert np.abs(first[50:58, 2:20] - flat).max() > 40  # black box, white text
    # The travelled route (blue) grows: the inset of the last frame has more blue-ish pixels than the first.
    def blue(frame):
        inset = frame[2:22, 52:78].astype(int)
        return int(((inset[..., 2] - inset[..., 0]) > 60).sum())
    assert blue(frames[-1]) > blue(frames[0])
    assert [p.name for p in path.parent.iterdir()] == ["video.mp4"]


def test_one_frame_video_and_record_runs(tmp_path):
    path = write_route_video(tmp_path / "one.mp4", [np.zeros((32, 48, 3), dtype=np.uint8)], np.zeros((1, 3)))
    assert len(_read(path)) == 1
    positions = helix_trajectory(6).positions
    path = write_route_video(tmp_path / "runs.mp4", _frames(6), positions, record_ids=["a"] * 3 + ["b"] * 3)
    assert len(_read(path)) == 6


def test_large_frames_are_scaled_down(tmp_path):
    path = write_route_video(tmp_path / "big.mp4", _frames(2, 300, 900), np.zeros((2, 3)), max_width=320)
    assert _read(path)[0].shape == (106, 320, 3)


@pytest.mark.parametrize("frame_count", [3, 5])
def test_frame_count_must_match_positions_and_nothing_is_written(tmp_path, frame_count):
    with pytest.raises(ShapeError, match="expected 4 frames"):
        write_route_video(tmp_path / "bad.mp4", _frames(frame_count), np.zeros((4, 3)))
    assert not list(tmp_path.iterdir())


def test_bad_labels_and_ids_raise(tmp_path):
    with pytest.raises(ShapeError, match="labels"):
        write_route_video(tmp_path / "bad.mp4", _frames(2), np.zeros((2, 3)), labels=["x"])
    with pytest.raises(ShapeError, match="record_ids"):
        write_route_video(tmp_path / "bad.mp4", _frames(2), np.zeros((2, 3)), record_ids=["x"])
    with pytest.raises(ShapeError, match="at least one frame"):
        write_route_video(tmp_path / "bad.mp4", [], np.zeros((0, 3)))
