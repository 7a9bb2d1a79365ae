"""Single-image depth metrics (Eigen et al. 2014, as Monodepth2 computes them), with optional median scaling.

For each image, over the pixels whose ground-truth depth is finite and strictly inside ``(min_depth,
max_depth)`` (Monodepth2's ``gt > MIN_DEPTH & gt < MAX_DEPTH``; no upper bound when ``max_depth`` is
``None``), with ``d`` the prediction and ``g`` the ground truth:

- ``abs_rel = mean(|d - g| / g)``, ``sq_rel = mean((d - g)^2 / g)``;
- ``rmse = sqrt(mean((d - g)^2))`` (metres), ``rmse_log = sqrt(mean((log d - log g)^2))``;
- ``delta_k`` = share of pixels with ``max(d / g, g / d) < 1.25^k``, k = 1, 2, 3.

With **median scaling** (for a network that predicts depth only up to scale, e.g. self-supervised from monocular
video) each prediction is first multiplied by ``median(g) / median(d)`` over its valid pixels, with
``numpy.median``'s median (the mean of the two middle values for an even count; ``torch.median`` takes the
lower one). Predictions are clamped to ``[min_depth, max_depth]`` after scaling, as Monodepth2 does. The
metrics are averaged over images (not pixels); images without a valid ground-truth pixel are skipped and
counted. The scale ratios are summarised as Monodepth2 prints them: their median ``m`` and the standard
deviation of ``ratios / m`` (population, ``numpy.std``).

Worked example (Monodepth2's formulas): ground truth ``[1, 2, 3, 4]``, prediction ``[1, 1, 3, 5]``: the ratio
is ``2.5 / 2.0 = 1.25`` and the scaled prediction ``[1.25, 1.25, 3.75, 6.25]`` has AbsRel
``(0.25 + 0.375 + 0.25 + 0.5625) / 4 = 0.359375``.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import torch

from posekit.errors import ShapeError
from posekit.geometry.checks import check_shape
from posekit.metrics.statistics import median

METRIC_NAMES = ("abs_rel", "sq_rel", "rmse", "rmse_log", "delta1", "delta2", "delta3")
DELTA_BASE = 1.25


@dataclass(frozen=True)
class DepthMetrics:
    """Depth metrics averaged over images.

    Attributes:
        abs_rel, sq_rel, rmse (m), rmse_log, delta1, delta2, delta3: see the module docstring.
        images: images that had valid ground truth (the average is over them).
        skipped: images without any valid ground-truth pixel.
        median_scaling: whether predictions were median-scaled per image.
        scale_ratio_median, scale_ratio_std: over images, the median ``m`` of the median-scaling factors
            ``median(g) / median(d)`` and the population standard deviation of ``ratios / m`` (Monodepth2's
            "Scaling ratios | med | std"; ``None`` without median scaling); a small std means the network's
            scale is consistent across images.
    """

    abs_rel: float
    sq_rel: float
    rmse: float
    rmse_log: float
    delta1: float
    delta2: float
    delta3: float
    images: int
    skipped: int
    median_scaling: bool
    scale_ratio_median: float | None = None
    scale_ratio_std: float | None = None

    def as_dict(self, prefix: str = "") -> dict[str, float | int | bool | None]:
        """Plain dict for JSON, every key prefixed with ``prefix`` (e.g. ``"depth_"``)."""
        return {f"{prefix}{key}": value for key, value in asdict(self).items()}


def _valid_mask(ground_truth: torch.Tensor, min_depth: float, max_depth: float | None) -> torch.Tensor:
    """Monodepth2's strict mask ``min_depth < g < max_depth`` (finite ``g`` only)."""
    valid = torch.isfinite(ground_truth) & (ground_truth > min_depth)
    if max_depth is not None:
        valid &= ground_truth < max_depth
    return valid


def per_image_depth_errors(
    prediction: torch.Tensor,
    ground_truth: torch.Tensor,
    *,
    median_scaling: bool = False,
    min_depth: float = 1e-3,
    max_depth: float | None = None,
) -> tuple[dict[str, torch.Tensor], torch.Tensor, torch.Tensor]:
    """The metrics of each image.

    Args:
        prediction: ``(B, 1, H, W)`` predicted depth (metres, or any scale with ``median_scaling``).
        ground_truth: ``(B, 1, H, W)`` sensor depth in metres, 0 = unknown.
        median_scaling: scale each prediction by ``median(g) / median(d)`` over its valid pixels first.
        min_depth, max_depth: only ground truth strictly inside the range counts; predictions are clamped
            to it.

    Returns:
        ``(errors, has_pixels, ratios)``: ``errors[name]`` is ``(B,)`` float64 for each of :data:`METRIC_NAMES`
        (NaN for an image without valid pixels), ``has_pixels`` ``(B,)`` bool, ``ratios`` ``(B,)`` the scaling
        factors (1 without median scaling, NaN where no valid pixel).
    """
    check_shape("ground_truth", ground_truth, (None, 1, None, None))
    check_shape("prediction", prediction, tuple(ground_truth.shape))
    if not (0 < min_depth and (max_depth is None or min_depth < max_depth)):
        raise ShapeError(f"depth range: expected 0 < min_depth < max_depth, got {min_depth}, {max_depth}")
    upper = float("inf") if max_depth is None else max_depth
    errors: dict[str, list[float]] = {name: [] for name in METRIC_NAMES}
    has_pixels, ratios = [], []
    for pred_image, gt_image in zip(prediction.detach().double(), ground_truth.detach().double()):
        valid = _valid_mask(gt_image, min_depth, max_depth)
        if not bool(valid.any()):
            has_pixels.append(False)
            ratios.append(float("nan"))
            for name in METRIC_NAMES:
                errors[name].append(float("nan"))
            continue
        g = gt_image[valid]
        d = torch.nan_to_num(pred_image[valid], nan=min_depth, posinf=upper, neginf=min_depth)
        ratio = 1.0
        if median_scaling:
            ratio = median(g) / max(median(d), 1e-12)
            d = d * ratio
        d = d.clamp(min_depth, upper)
        threshold = torch.maximum(g / d, d / g)
        log_difference = torch.log(d) - torch.log(g)
        values = {
            "abs_rel": ((d - g).abs() / g).mean(),
            "sq_rel": ((d - g) ** 2 / g).mean(),
            "rmse": torch.sqrt(((d - g) ** 2).mean()),
            "rmse_log": torch.sqrt((log_difference**2).mean()),
            "delta1": (threshold < DELTA_BASE).double().mean(),
            "delta2": (threshold < DELTA_BASE**2).double().mean(),
            "delta3": (threshold < DELTA_BASE**3).double().mean(),
        }
        for name in METRIC_NAMES:
            errors[name].append(float(values[name]))
        has_pixels.append(True)
        ratios.append(ratio)
    as_tensor = {name: torch.tensor(v, dtype=torch.float64) for name, v in errors.items()}
    return as_tensor, torch.tensor(has_pixels, dtype=torch.bool), torch.tensor(ratios, dtype=torch.float64)


class DepthMetricsAccumulator:
    """Collects per-image depth errors over batches and averages them at the end.

    Example:
        >>> acc = DepthMetricsAccumulator(median_scaling=True)
        >>> gt = torch.full((1, 1, 4, 4), 2.0)
        >>> acc.update(gt * 3.0, gt)
        >>> acc.compute().abs_rel
        0.0
    """

    def __init__(self, *, median_scaling: bool = False, min_depth: float = 1e-3, max_depth: float | None = None):
        self.median_scaling = median_scaling
        self.min_depth = min_depth
        self.max_depth = max_depth
        self._errors: dict[str, list[torch.Tensor]] = {name: [] for name in METRIC_NAMES}
        self._ratios: list[torch.Tensor] = []
        self.skipped = 0

    def update(self, prediction: torch.Tensor, ground_truth: torch.Tensor) -> None:
        """Add a batch: ``(B, 1, H, W)`` prediction and ground truth (see :func:`per_image_depth_errors`)."""
        errors, has_pixels, ratios = per_image_depth_errors(
            prediction, ground_truth, median_scaling=self.median_scaling, min_depth=self.min_depth, max_depth=self.max_depth
        )
        for name in METRIC_NAMES:
            self._errors[name].append(errors[name][has_pixels])
        self._ratios.append(ratios[has_pixels])
        self.skipped += int((~has_pixels).sum())

    def compute(self) -> DepthMetrics:
        """The averages over the images seen.

        Raises:
            ShapeError: no image had a valid ground-truth pixel.
        """
        ratios = torch.cat(self._ratios) if self._ratios else torch.zeros(0, dtype=torch.float64)
        if ratios.numel() == 0:
            raise ShapeError(f"depth metrics: no image with valid ground-truth depth ({self.skipped} skipped)")
        means = {name: float(torch.cat(values).mean()) for name, values in self._errors.items()}
        scale_median = scale_std = None
        if self.median_scaling:
            scale_median = median(ratios)
            scale_std = float((ratios / scale_median).std(correction=0))
        return DepthMetrics(**means, images=int(ratios.numel()), skipped=self.skipped, median_scaling=self.median_scaling,
                            scale_ratio_median=scale_median, scale_ratio_std=scale_std)


def compute_depth_metrics(
    prediction: torch.Tensor,
    ground_truth: torch.Tensor,
    *,
    median_scaling: bool = False,
    min_depth: float = 1e-3,
    max_depth: float | None = None,
) -> DepthMetrics:
    """Depth metrics of a batch of predictions, averaged over images (see the module docstring).

    Args:
        prediction: ``(B, 1, H, W)`` predicted depth.
        ground_truth: ``(B, 1, H, W)`` sensor depth in metres, 0 = unknown.
        median_scaling: per-image median scaling of the prediction first.
        min_depth, max_depth: valid ground-truth range (strict bounds); predictions are clamped to it.

    Example:
        >>> gt = torch.tensor([[[[1.0, 2.0], [0.0, 4.0]]]])
        >>> round(compute_depth_metrics(gt * 1.1, gt).abs_rel, 6)
        0.1
    """
    accumulator = DepthMetricsAccumulator(median_scaling=median_scaling, min_depth=min_depth, max_depth=max_depth)
    accumulator.update(prediction, ground_truth)
    return accumulator.compute()
