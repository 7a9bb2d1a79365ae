"""Masked photometric errors: the mask really excludes pixels, SSIM is a dissimilarity, edge weighting keeps scale."""

from __future__ import annotations

import pytest
import torch

from posekit.losses.photometric import masked_l1_error, masked_mean, photometric_error_map, ssim_dissimilarity


def test_masked_l1_ignores_invalid_pixels():
    target = torch.zeros(2, 3, 4, 4)
    warped = torch.zeros(2, 3, 4, 4)
    warped[:, :, 0, 0] = 1.0  # a large error at one pixel ...
    valid = torch.ones(2, 1, 4, 4, dtype=torch.bool)
    valid[0, :, 0, 0] = False  # ... masked out in the first batch element only
    error = masked_l1_error(target, warped, valid)
    assert error[0] == 0.0
    assert error[1] == pytest.approx(1.0 / 16)


def test_masked_mean_of_empty_mask_is_zero_not_nan():
    out = masked_mean(torch.ones(1, 1, 2, 2), torch.zeros(1, 1, 2, 2, dtype=torch.bool))
    assert out.item() == 0.0


def test_masked_mean_rejects_mask_of_wrong_shape():
    with pytest.raises(ValueError, match=r"mask: expected shape \(1, 1, 2, 2\)"):
        masked_mean(torch.ones(1, 3, 2, 2), torch.ones(1, 3, 2, 2))


def test_ssim_dissimilarity_zero_for_equal_images_and_positive_otherwise():
    x = torch.rand(1, 3, 16, 16, generator=torch.Generator().manual_seed(0))
    assert float(ssim_dissimilarity(x, x).max()) < 1e-5
    assert float(ssim_dissimilarity(x, torch.flip(x, dims=[-1])).mean()) > 0.1


def test_error_map_combines_ssim_and_l1_and_edge_weights_average_one():
    x = torch.rand(1, 3, 16, 16, generator=torch.Generator().manual_seed(1))
    y = (x + 0.1).clamp(0, 1)
    l1 = photometric_error_map(x, y)
    mixed = photometric_error_map(x, y, ssim_weight=0.85)
    torch.testing.assert_close(l1, (x - y).abs().mean(1, keepdim=True))
    expected = 0.85 * ssim_dissimilarity(x, y).mean(1, keepdim=True) + 0.15 * l1
    torch.testing.assert_close(mixed, expected)
    # With a constant error (y = x + 0.1 without clamping) the edge weights, normalised to mean 1, keep the mean.
    x_low = x * 0.5
    weighted = photometric_error_map(x_low, x_low + 0.1, edge_weight=2.0)
    assert weighted.shape == (1, 1, 16, 16)
    assert float(weighted.mean()) == pytest.approx(0.1, rel=1e-5)
    assert float(weighted.std()) > 0.0  # and the pixels are really weighted differently
