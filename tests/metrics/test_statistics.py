"""Error statistics follow numpy's definitions (as evo's do)."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from posekit.errors import ShapeError
from posekit.metrics import StatisticsType, compute_statistic, compute_statistics, median


@pytest.mark.parametrize("n", [1, 2, 7, 8])
def test_statistics_match_numpy(n):
    errors = torch.rand(n, generator=torch.Generator().manual_seed(n), dtype=torch.float64)
    e = errors.numpy()
    expected = {
        "rmse": math.sqrt(np.mean(e**2)),
        "mean": np.mean(e),
        "median": np.median(e),
        "std": np.std(e),
        "min": np.min(e),
        "max": np.max(e),
        "sse": np.sum(e**2),
    }
    stats = compute_statistics(errors)
    assert list(stats) == [s.value for s in StatisticsType] == list(expected)
    for key, value in expected.items():
        assert stats[key] == pytest.approx(float(value), rel=1e-12, abs=1e-15)


def test_median_averages_the_two_middle_values():
    assert median(torch.tensor([4.0, 1.0, 3.0, 2.0])) == 2.5
    assert median(torch.tensor([3.0, 1.0, 2.0])) == 2.0
    assert median(torch.tensor([1.0, float("inf")])) == float("inf")


def test_single_statistic_and_empty_input():
    assert compute_statistic(torch.tensor([3.0, 4.0]), StatisticsType.rmse) == pytest.approx(math.sqrt(12.5))
    with pytest.raises(ShapeError, match="empty"):
        compute_statistics(torch.zeros(0))
