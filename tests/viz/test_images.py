"""Tensors and arrays to displayable images; depth with unknown pixels."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from posekit.errors import ShapeError
from posekit.viz.images import depth_display_range, depth_to_array, to_rgb_float, to_rgb_uint8


def test_tensor_chw_and_batched_become_hwc():
    image = torch.rand(3, 4, 5)
    expected = image.permute(1, 2, 0).numpy()
    np.testing.assert_allclose(to_rgb_float(image), expected)
    np.testing.assert_allclose(to_rgb_float(image[None]), expected)


def test_grey_images_are_repeated_to_rgb():
    assert to_rgb_float(torch.rand(1, 4, 5)).shape == (4, 5, 3)
    assert to_rgb_float(np.zeros((4, 5), dtype=np.uint8)).shape == (4, 5, 3)


def test_uint8_array_scales_to_unit_range():
    array = np.full((2, 2, 3), 255, dtype=np.uint8)
    assert to_rgb_float(array).max() == 1.0
    assert to_rgb_uint8(torch.ones(3, 2, 2)).max() == 255


@pytest.mark.parametrize("bad", [torch.rand(4, 5, 6), np.zeros((2, 2, 5)), torch.rand(2, 3, 4, 4), "image"])
def test_bad_layouts_raise_shape_error(bad):
    with pytest.raises(ShapeError):
        to_rgb_float(bad)


def test_depth_unknown_becomes_nan_and_range_ignores_it():
    depth = torch.tensor([[[[0.0, 1.0], [2.0, float("inf")]]]])
    array = depth_to_array(depth)
    assert array.shape == (2, 2)
    assert np.isnan(array[0, 0]) and np.isnan(array[1, 1])
    low, high = depth_display_range(array, low=0, high=100)
    assert (low, high) == (1.0, 2.0)
    assert depth_display_range(np.full((2, 2), np.nan)) == (0.0, 1.0)
