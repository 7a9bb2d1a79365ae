"""The one image-gradient rule (direct alignment and the photometric loss's edge weights)."""

from __future__ import annotations

import numpy as np
import torch

from posekit.geometry import image_gradient_magnitude, image_gradients


def test_central_differences_inside_and_half_one_sided_at_the_border():
    image = torch.rand(2, 3, 5, 7, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    grad_u, grad_v = image_gradients(image)
    array = image.numpy()
    np.testing.assert_allclose(grad_u[..., 1:-1].numpy(), (array[..., 2:] - array[..., :-2]) / 2)
    np.testing.assert_allclose(grad_v[..., 1:-1, :].numpy(), (array[..., 2:, :] - array[..., :-2, :]) / 2)
    np.testing.assert_allclose(grad_u[..., 0].numpy(), (array[..., 1] - array[..., 0]) / 2)
    np.testing.assert_allclose(grad_v[..., -1, :].numpy(), (array[..., -1, :] - array[..., -2, :]) / 2)


def test_magnitude_is_the_channel_mean_of_the_gradient_norm():
    ramp = torch.arange(6.0).repeat(1, 2, 4, 1)  # d/du = 1 inside, 0.5 at the left and right border
    magnitude = image_gradient_magnitude(ramp)
    assert magnitude.shape == (1, 1, 4, 6)
    assert torch.allclose(magnitude[..., 1:-1], torch.ones(1, 1, 4, 4), atol=1e-5)
    assert torch.allclose(magnitude[..., 0], torch.full((1, 1, 4), 0.5), atol=1e-5)
