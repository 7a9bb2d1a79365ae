"""The image pyramid's batched intrinsics rule is PinholeIntrinsics.scaled's; levels halve images and depth."""

from __future__ import annotations

import torch

from posekit.geometry.camera import PinholeIntrinsics
from posekit.geometry.pyramid import image_pyramid, scale_intrinsics


def test_scale_intrinsics_matches_the_pinhole_rule():
    k = PinholeIntrinsics(500.0, 480.0, 319.5, 239.5, 640, 480)
    for sx, sy in ((0.5, 0.5), (0.25, 0.75), (2.0, 1.0)):
        expected = k.scaled(sx, sy).as_tensor(torch.float64)
        batched = scale_intrinsics(k.as_tensor(torch.float64).expand(3, 4), sx, sy)
        torch.testing.assert_close(batched, expected.expand(3, 4))


def test_half_scale_keeps_the_image_centre_at_the_centre():
    # a 4x4 image has its centre at 1.5; after 2x2 pooling, the 2x2 image has it at 0.5
    k = scale_intrinsics(torch.tensor([[2.0, 2.0, 1.5, 1.5]]), 0.5, 0.5)
    torch.testing.assert_close(k, torch.tensor([[1.0, 1.0, 0.5, 0.5]]))


def test_pyramid_levels_halve_sizes_until_min_size():
    image = torch.rand(2, 3, 32, 48)
    depth = torch.rand(2, 1, 32, 48) + 1
    levels = list(image_pyramid(image, image, depth, torch.tensor([40.0, 40.0, 23.5, 15.5]), levels=5, min_size=8))
    assert [tuple(level[0].shape[-2:]) for level in levels] == [(32, 48), (16, 24), (8, 12)]
    assert all(level[3].shape == (2, 4) for level in levels)
