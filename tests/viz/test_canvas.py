"""Figures to arrays, PNG files and TensorBoard images."""

from __future__ import annotations

import imageio.v2 as iio
import numpy as np
import pytest

from posekit.viz.canvas import figure_to_array, figure_to_image, log_figure, new_figure, save_figure


def _red_figure():
    figure = new_figure(2.0, 1.5, dpi=50)
    figure.patch.set_facecolor("red")
    return figure


def test_figure_to_array_is_rgb_of_the_figure_size():
    pixels = figure_to_array(_red_figure())
    assert pixels.shape == (75, 100, 3) and pixels.dtype == np.uint8
    assert (pixels[0, 0] == [255, 0, 0]).all()


def test_figure_to_image_is_channels_first():
    image = figure_to_image(_red_figure())
    assert image.shape == (3, 75, 100) and image.dtype == np.uint8
    assert image[0].min() == 255 and image[1].max() == 0


def test_save_figure_writes_a_png_atomically(tmp_path):
    path = save_figure(_red_figure(), tmp_path / "sub" / "figure.png")
    assert iio.imread(path).shape[:2] == (75, 100)
    assert [p.name for p in path.parent.iterdir()] == ["figure.png"]  # no temporary file left behind


class _RecordingWriter:
    def __init__(self):
        self.calls = []

    def add_image(self, tag, img_tensor, global_step=None, walltime=None, dataformats="CHW"):
        self.calls.append((tag, img_tensor, global_step, dataformats))


def test_log_figure_sends_a_chw_uint8_image():
    writer = _RecordingWriter()
    log_figure(writer, "val/trajectory", _red_figure(), step=7)
    ((tag, image, step, layout),) = writer.calls
    assert (tag, step, layout) == ("val/trajectory", 7, "CHW")
    assert image.shape == (3, 75, 100)


def test_log_figure_to_a_real_summary_writer(tmp_path):
    tensorboard = pytest.importorskip("torch.utils.tensorboard")
    writer = tensorboard.SummaryWriter(log_dir=str(tmp_path))
    log_figure(writer, "val/trajectory", _red_figure(), step=1)
    writer.close()
    accumulator = pytest.importorskip("tensorboard.backend.event_processing.event_accumulator")
    events = accumulator.EventAccumulator(str(tmp_path))
    events.Reload()
    (image,) = events.Images("val/trajectory")
    assert (image.step, image.width, image.height) == (1, 100, 75)
    assert iio.imread(image.encoded_image_string)[0, 0, :3].tolist() == [255, 0, 0]
