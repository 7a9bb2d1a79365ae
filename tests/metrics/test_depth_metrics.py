"""Depth metrics on hand-computed cases: unknown depth ignored, median scaling, averaging over images, range."""

from __future__ import annotations

import math

import pytest
import torch

from posekit.errors import ShapeError
from posekit.metrics.depth_metrics import DepthMetricsAccumulator, compute_depth_metrics, per_image_depth_errors


def _image(values) -> torch.Tensor:
    return torch.tensor(values, dtype=torch.float64).reshape(1, 1, 1, -1)


def test_hand_computed_metrics_ignore_unknown_depth():
    gt = _image([1.0, 2.0, 4.0, 0.0])  # the last pixel is unknown: its wild prediction must not count
    pred = _image([1.5, 2.0, 3.0, 100.0])
    m = compute_depth_metrics(pred, gt)
    # |d - g| = 0.5, 0, 1 ; |d - g| / g = 0.5, 0, 0.25
    assert m.abs_rel == pytest.approx((0.5 + 0 + 0.25) / 3)
    assert m.sq_rel == pytest.approx((0.25 / 1 + 0 + 1.0 / 4) / 3)
    assert m.rmse == pytest.approx(math.sqrt((0.25 + 0 + 1.0) / 3))
    logs = [math.log(1.5), 0.0, math.log(3.0 / 4.0)]
    assert m.rmse_log == pytest.approx(math.sqrt(sum(v * v for v in logs) / 3))
    # max ratios 1.5, 1, 4/3: below 1.25 only the exact pixel; below 1.5625 all three
    assert m.delta1 == pytest.approx(1 / 3)
    assert m.delta2 == pytest.approx(1.0) and m.delta3 == pytest.approx(1.0)
    assert m.images == 1 and m.skipped == 0 and not m.median_scaling and m.scale_ratio_median is None


def test_metrics_are_averaged_over_images_not_pixels():
    gt = torch.tensor([[[[1.0, 1.0, 1.0, 1.0]]], [[[1.0, 0.0, 0.0, 0.0]]]], dtype=torch.float64)
    pred = torch.tensor([[[[1.0, 1.0, 1.0, 1.0]]], [[[2.0, 5.0, 5.0, 5.0]]]], dtype=torch.float64)
    m = compute_depth_metrics(pred, gt)
    assert m.abs_rel == pytest.approx((0.0 + 1.0) / 2)  # per pixel it would be 1/5
    assert m.delta1 == pytest.approx(0.5)


def test_median_scaling_makes_the_metrics_invariant_to_a_global_scale():
    generator = torch.Generator().manual_seed(0)
    gt = 0.5 + 3.0 * torch.rand(3, 1, 8, 10, generator=generator, dtype=torch.float64)
    gt[:, :, :2] = 0.0  # holes
    pred = gt * (1.0 + 0.2 * torch.randn(gt.shape, generator=generator, dtype=torch.float64)).clamp(0.5, 1.5)
    reference = compute_depth_metrics(pred, gt, median_scaling=True)
    for scale in (0.01, 0.37, 25.0):
        scaled = compute_depth_metrics(pred * scale, gt, median_scaling=True)
        for name in ("abs_rel", "sq_rel", "rmse", "rmse_log", "delta1", "delta2", "delta3"):
            assert getattr(scaled, name) == pytest.approx(getattr(reference, name), rel=1e-9, abs=1e-12), name
        assert scaled.scale_ratio_median == pytest.approx(reference.scale_ratio_median / scale)
    # without median scaling a wrong scale is punished
    assert compute_depth_metrics(pred * 2.0, gt).abs_rel > 0.5


def test_median_scaling_recovers_an_exact_prediction_up_to_scale():
    gt = _image([1.0, 2.0, 3.0, 0.0, 5.0])
    m = compute_depth_metrics(gt * 0.125, gt, median_scaling=True)
    assert m.abs_rel == pytest.approx(0.0, abs=1e-12) and m.rmse == pytest.approx(0.0, abs=1e-12)
    assert m.delta1 == 1.0 and m.scale_ratio_median == pytest.approx(8.0) and m.scale_ratio_std == pytest.approx(0.0)


def test_range_limits_ground_truth_and_clamps_predictions():
    gt = _image([0.5, 2.0, 20.0])
    pred = _image([0.5, 50.0, 1.0])
    errors, has_pixels, _ = per_image_depth_errors(pred, gt, min_depth=1.0, max_depth=10.0)
    # only the 2 m pixel is inside [1, 10]; its prediction 50 m is clamped to 10 m
    assert bool(has_pixels[0])
    assert float(errors["abs_rel"][0]) == pytest.approx(4.0)


def test_images_without_ground_truth_are_skipped_and_all_empty_raises():
    accumulator = DepthMetricsAccumulator()
    accumulator.update(torch.ones(2, 1, 3, 3), torch.cat((torch.zeros(1, 1, 3, 3), torch.full((1, 1, 3, 3), 2.0))))
    m = accumulator.compute()
    assert m.images == 1 and m.skipped == 1 and m.abs_rel == pytest.approx(0.5)
    with pytest.raises(ShapeError, match="no image with valid ground-truth depth"):
        compute_depth_metrics(torch.ones(1, 1, 2, 2), torch.zeros(1, 1, 2, 2))


def test_shape_mismatch_is_reported():
    with pytest.raises(ShapeError, match="prediction"):
        compute_depth_metrics(torch.ones(1, 1, 2, 3), torch.ones(1, 1, 2, 2))


# ----------------------------------------------------------------------------- Monodepth2's formulas (issue 10)


def test_monodepth2_worked_example_uses_numpy_median():
    """gt [1, 2, 3, 4], pred [1, 1, 3, 5]: np.median gives 2.5 / 2.0 = 1.25 (torch.median's lower middle
    values would give 2 / 1 = 2.0 and AbsRel 0.875)."""
    gt, pred = _image([1.0, 2.0, 3.0, 4.0]), _image([1.0, 1.0, 3.0, 5.0])
    m = compute_depth_metrics(pred, gt, median_scaling=True)
    assert m.scale_ratio_median == pytest.approx(1.25)
    assert m.abs_rel == pytest.approx((0.25 / 1 + 0.75 / 2 + 0.75 / 3 + 2.25 / 4) / 4)  # 0.359375
    assert m.abs_rel == pytest.approx(0.359375)
    assert m.rmse == pytest.approx(math.sqrt((0.25**2 + 0.75**2 + 0.75**2 + 2.25**2) / 4))


def test_valid_mask_is_strict_like_monodepth2():
    """Monodepth2 keeps min_depth < g < max_depth: pixels exactly at either bound do not count."""
    gt, pred = _image([1e-3, 1.0, 80.0]), _image([5.0, 1.5, 5.0])
    m = compute_depth_metrics(pred, gt, min_depth=1e-3, max_depth=80.0)
    assert m.abs_rel == pytest.approx(0.5)  # only the middle pixel
    _, has_pixels, _ = per_image_depth_errors(_image([1e-3, 80.0]), _image([1e-3, 80.0]), min_depth=1e-3, max_depth=80.0)
    assert not bool(has_pixels.any())


def test_scale_ratio_std_is_the_std_of_ratios_over_their_median():
    """Ratios 1, 2, 3 (three images): median 2, std(ratios / 2) = std(0.5, 1, 1.5) = sqrt(1/6)."""
    gt = torch.ones(3, 1, 1, 2, dtype=torch.float64)
    pred = torch.tensor([1.0, 0.5, 1.0 / 3.0], dtype=torch.float64).reshape(3, 1, 1, 1).expand(3, 1, 1, 2)
    m = compute_depth_metrics(pred, gt, median_scaling=True)
    assert m.scale_ratio_median == pytest.approx(2.0)
    assert m.scale_ratio_std == pytest.approx(math.sqrt(1.0 / 6.0))
    assert m.abs_rel == pytest.approx(0.0, abs=1e-12)
