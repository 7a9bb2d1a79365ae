"""Sensor effects: holes where a Kinect has them, noise of the right size, smooth exposure drift; seeded."""

from __future__ import annotations

import numpy as np
import pytest

from posekit.data.synth.sensor import (
    SensorModel,
    degrade_color,
    degrade_depth,
    exposure_gains,
    kinect_depth_sigma,
    quantize_color,
)


def _step_scene(h: int = 60, w: int = 80) -> tuple[np.ndarray, np.ndarray]:
    """A near box (1 m) on the left, a wall at 3 m on the right, a far wall (8 m) at the top, a dark patch."""
    depth = np.full((h, w), 3.0, np.float32)
    depth[:, : w // 2] = 1.0
    depth[:10] = 8.0
    color = np.full((h, w, 3), 0.6, np.float32)
    color[40:50, 60:70] = 0.02
    return depth, color


def test_clean_sensor_changes_nothing():
    depth, color = _step_scene()
    sensor = SensorModel()
    assert sensor.is_clean
    rng = np.random.default_rng(0)
    assert np.array_equal(degrade_depth(sensor, depth, color, rng), depth)
    assert np.array_equal(degrade_color(sensor, color, np.ones(3), rng), color)


def test_holes_at_edges_dark_surfaces_and_beyond_range():
    depth, color = _step_scene()
    out = degrade_depth(SensorModel(depth_holes=True), depth, color, np.random.default_rng(0))
    assert np.all(out[:10] == 0)  # 8 m is beyond the 4.5 m range
    assert np.all(out[15:, 39:41] == 0)  # the 1 m / 3 m edge
    assert (out[40:50, 60:70] == 0).mean() > 0.6  # dark
    assert (out[20:35, 5:30] > 0).mean() > 0.95  # a near, bright, flat surface keeps its depth
    kept = out > 0
    assert np.array_equal(out[kept], depth[kept])  # holes only: no noise without depth_noise


def test_depth_noise_grows_with_depth_like_a_kinect():
    depth = np.concatenate([np.full((100, 100), 1.0), np.full((100, 100), 4.0)]).astype(np.float32)
    color = np.full(depth.shape + (3,), 0.5, np.float32)
    out = degrade_depth(SensorModel(depth_noise=True), depth, color, np.random.default_rng(1))
    for rows, z in ((slice(0, 100), 1.0), (slice(100, 200), 4.0)):
        std = (out[rows] - z).std()
        assert std == pytest.approx(kinect_depth_sigma(np.float32(z)), rel=0.1)


def test_exposure_drifts_smoothly_and_image_noise_is_seeded():
    sensor = SensorModel(exposure=True, image_noise=True)
    gains = exposure_gains(sensor, 300, 30.0, np.random.default_rng(2))
    assert gains.shape == (300, 3)
    assert 0.03 < np.std(np.log(gains[:, 0])) < 0.5  # it does change over the sequence ...
    assert np.abs(np.diff(np.log(gains), axis=0)).max() < 0.05  # ... but smoothly
    color = np.full((20, 20, 3), 0.5, np.float32)
    a = degrade_color(sensor, color, gains[0], np.random.default_rng(3))
    b = degrade_color(sensor, color, gains[0], np.random.default_rng(3))
    c = degrade_color(sensor, color, gains[0], np.random.default_rng(4))
    assert np.array_equal(a, b) and not np.array_equal(a, c)
    assert 0.005 < np.std(a - np.median(a)) < 0.05
    assert np.all((a >= 0) & (a <= 1))


def test_quantize_color_rounds_to_8_bit():
    assert quantize_color(np.array([[[0.0, 0.5, 1.2]]])).tolist() == [[[0, 128, 255]]]
