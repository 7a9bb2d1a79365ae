"""The summary schema of every evaluation (``RUN_DIR/eval/<method>.json``) and its recall thresholds.

Every summary has the same header (:func:`summary_header`):

- ``method``: the file stem (``posenet``, ``retrieval``, ``network``, ``direct``, ``depth``, ...);
- ``dataset``, ``data``: the dataset format and folder;
- ``held_out``: which frames were evaluated (a split, e.g. ``test``, or a frame range ``frames 200-299``);
- ``frames``: how many frames were evaluated (an int in every summary);
- ``model``: the model file, or ``null`` for a method that learns nothing;

then the numbers of its kind: :func:`absolute_summary` (``median_t_m``, ``median_r_deg``, ``mean_t_m``,
``mean_r_deg``, recalls), :func:`rpe_summary` (``rpe_t_*_m``, ``rpe_r_*_deg``, recalls) or the depth metrics.
A recall ``recall_<t>cm_<r>deg`` is the share of frames (pairs) whose translation error is below ``t`` cm and
rotation error below ``r`` degrees, at the thresholds of :data:`RECALL_THRESHOLDS`.
"""

from __future__ import annotations

from collections.abc import Sequence

from posekit.metrics.pose_errors import DEFAULT_THRESHOLDS, PoseErrors, RelativePoseErrors
from posekit.metrics.statistics import compute_statistics

# (translation m, rotation deg) thresholds of the recalls, per kind of evaluation: absolute poses (5 cm / 5 deg,
# 2 cm / 2 deg) and relative poses of nearby frames (1 cm / 0.5 deg, 2 cm / 1 deg).
RECALL_THRESHOLDS: dict[str, tuple[tuple[float, float], ...]] = {
    "absolute": DEFAULT_THRESHOLDS,
    "relative": ((0.01, 0.5), (0.02, 1.0)),
}


def recall_key(max_translation_m: float, max_rotation_deg: float) -> str:
    """``recall_5cm_5deg`` for ``(0.05, 5.0)``."""
    return f"recall_{max_translation_m * 100:g}cm_{max_rotation_deg:g}deg"


def recall_entries(errors: PoseErrors, thresholds: Sequence[tuple[float, float]]) -> dict[str, float]:
    """``{recall_key: share}`` of ``errors`` at each ``(m, deg)`` threshold (strict inequalities)."""
    return {recall_key(t, r): errors.recall(t, r) for t, r in thresholds}


def summary_header(method: str, dataset: str, data: str, held_out: str, frames: int, model: str | None) -> dict:
    """The keys every evaluation summary starts with (see the module docstring)."""
    return {"method": method, "dataset": dataset, "data": data, "held_out": held_out, "frames": int(frames),
            "model": model}


def absolute_summary(errors: PoseErrors) -> dict[str, float]:
    """Absolute-pose numbers: ``median_t_m``, ``median_r_deg``, ``mean_t_m``, ``mean_r_deg`` (metres, degrees)
    and the recalls at ``RECALL_THRESHOLDS["absolute"]``."""
    summary = errors.summary(RECALL_THRESHOLDS["absolute"])
    return {
        "median_t_m": summary.median_translation,
        "median_r_deg": summary.median_rotation_deg,
        "mean_t_m": summary.mean_translation,
        "mean_r_deg": summary.mean_rotation_deg,
        **recall_entries(errors, RECALL_THRESHOLDS["absolute"]),
    }


def rpe_summary(errors: PoseErrors | RelativePoseErrors) -> dict[str, float]:
    """Relative-pose numbers of ``(N,)`` per-pair errors: ``rpe_t_{rmse,median,mean}_m``,
    ``rpe_r_{rmse,median,mean}_deg`` and the recalls at ``RECALL_THRESHOLDS["relative"]``."""
    t = compute_statistics(errors.translation)
    r = compute_statistics(errors.rotation_deg)
    return {
        "rpe_t_rmse_m": t["rmse"], "rpe_t_median_m": t["median"], "rpe_t_mean_m": t["mean"],
        "rpe_r_rmse_deg": r["rmse"], "rpe_r_median_deg": r["median"], "rpe_r_mean_deg": r["mean"],
        **recall_entries(PoseErrors(errors.translation, errors.rotation_deg), RECALL_THRESHOLDS["relative"]),
    }
