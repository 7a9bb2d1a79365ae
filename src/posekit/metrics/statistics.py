"""Summary statistics of an error array, with evo's definitions (population std, median of the two middle
values for an even count)."""

from __future__ import annotations

from enum import Enum

import torch

from posekit.errors import ShapeError


class StatisticsType(Enum):
    """The statistics reported for every trajectory metric (evo's ``StatisticsType``), in report order."""

    rmse = "rmse"
    mean = "mean"
    median = "median"
    std = "std"
    min = "min"
    max = "max"
    sse = "sse"


def _as_errors(errors: torch.Tensor) -> torch.Tensor:
    errors = torch.as_tensor(errors, dtype=torch.float64).reshape(-1)
    if errors.numel() == 0:
        raise ShapeError("statistics: the error array is empty")
    return errors


def median(errors: torch.Tensor) -> float:
    """Median of a 1-D array: the mean of the two middle values for an even count (``numpy.median``).

    ``torch.median`` returns the lower middle value instead, which is why this exists.
    """
    values = _as_errors(errors).sort().values
    n = values.numel()
    if n % 2:
        return float(values[n // 2])
    return float((values[n // 2 - 1] + values[n // 2]) / 2.0)


def compute_statistic(errors: torch.Tensor, statistic: StatisticsType) -> float:
    """One statistic of an ``(N,)`` error array (any shape is flattened).

    - ``rmse``: ``sqrt(mean(e^2))``; ``sse``: ``sum(e^2)``; ``std``: population standard deviation.
    """
    e = _as_errors(errors)
    if statistic is StatisticsType.rmse:
        return float(torch.sqrt((e * e).mean()))
    if statistic is StatisticsType.mean:
        return float(e.mean())
    if statistic is StatisticsType.median:
        return median(e)
    if statistic is StatisticsType.std:
        return float(e.std(correction=0))
    if statistic is StatisticsType.min:
        return float(e.min())
    if statistic is StatisticsType.max:
        return float(e.max())
    if statistic is StatisticsType.sse:
        return float((e * e).sum())
    raise ValueError(f"unsupported statistic {statistic!r}")


def compute_statistics(errors: torch.Tensor) -> dict[str, float]:
    """All :class:`StatisticsType` values of an error array, as ``{"rmse": ..., "mean": ..., ...}``.

    Example:
        >>> compute_statistics(torch.tensor([1.0, 2.0, 3.0, 4.0]))["median"]
        2.5
    """
    return {statistic.value: compute_statistic(errors, statistic) for statistic in StatisticsType}
