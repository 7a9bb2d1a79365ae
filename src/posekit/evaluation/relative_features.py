"""Held-out evaluation of relative-pose heads on cached features, beside the trivial and classical estimates.

On the pairs of the test frames at each distance ``d`` (target ``i``, source ``i + d``, both in the test range):

- ``zero``: the identity (:func:`posekit.metrics.relative_motion.zero_motion`);
- ``constant_velocity``: the previous pair's motion from the poses of frames ``i - d`` and ``i``
  (:func:`posekit.metrics.relative_motion.constant_velocity`; an oracle tracker: ground truth up to frame ``i``);
- one row per trained network (its head on the cached maps of the two frames);
- refinement rows on every ``refine_stride``-th pair (the same pairs for each): direct photometric alignment
  with the target's sensor depth (:func:`posekit.baselines.direct_alignment.align_photometric`) from the
  identity and from a network's estimate, and ORB + PnP with the sensor depth.

Errors are evo's RPE of the pair (:func:`posekit.metrics.pair_errors.pair_errors`); ``solved`` is the share of
pairs within 2 cm and 1 deg (and 1 cm and 0.5 deg).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field

import torch

from posekit.baselines.direct_alignment import DirectAlignmentConfig, align_photometric
from posekit.baselines.feature_matching import FeatureMatchingConfig, estimate_pose_pnp
from posekit.data.loader import FrameLoader
from posekit.geometry import relative_pose
from posekit.metrics.relative_motion import constant_velocity, pair_indices, zero_motion
from posekit.metrics.statistics import compute_statistics
from posekit.models import RelativePoseNet
from posekit.training.frame_data import FrameRange
from posekit.metrics.pair_errors import pair_errors
from posekit.training.relpose_features import FeatureSequence, sequence_transform

SOLVED_THRESHOLDS = ((0.02, 1.0), (0.01, 0.5))  # (m, deg)


@dataclass
class HeldOutPairs:
    """The test pairs at one distance: ``(M,)`` target and source positions in the sequence and the
    ``(M, 4, 4)`` float64 ground-truth ``T_src_tgt``."""

    distance: int
    targets: torch.Tensor
    sources: torch.Tensor
    T_src_tgt: torch.Tensor

    def subset(self, stride: int) -> HeldOutPairs:
        """Every ``stride``-th pair."""
        keep = slice(None, None, max(1, int(stride)))
        return HeldOutPairs(self.distance, self.targets[keep], self.sources[keep], self.T_src_tgt[keep])


def held_out_pairs(sequence: FeatureSequence, frames: FrameRange, distance: int) -> HeldOutPairs:
    """Pairs ``(i, i + distance)`` with both frames in ``frames`` (consecutive positions of the sequence)."""
    positions = sequence.positions(frames)
    first = int(positions[0])
    targets, sources = pair_indices(int(positions.numel()), distance)
    targets, sources = targets + first, sources + first
    poses = sequence.T_world_cam
    return HeldOutPairs(distance, targets, sources, relative_pose(poses[sources], poses[targets]))


def summarize(T_src_tgt_gt: torch.Tensor, T_src_tgt_est: torch.Tensor) -> dict[str, float]:
    """``pairs``, ``t_median_m``, ``t_mean_m``, ``r_median_deg``, ``r_mean_deg``, ``solved_2cm_1deg`` and
    ``solved_1cm_0.5deg`` of ``(M, 4, 4)`` estimates."""
    errors = pair_errors(T_src_tgt_gt, T_src_tgt_est)
    t, r = compute_statistics(errors.translation), compute_statistics(errors.rotation_deg)
    out = {"pairs": float(T_src_tgt_gt.shape[0]), "t_median_m": t["median"], "t_mean_m": t["mean"],
           "r_median_deg": r["median"], "r_mean_deg": r["mean"]}
    for max_t, max_r in SOLVED_THRESHOLDS:
        solved = (errors.translation < max_t) & (errors.rotation_deg < max_r)
        out[f"solved_{max_t * 100:g}cm_{max_r:g}deg"] = float(solved.double().mean())
    return out


@torch.no_grad()
def network_estimates(pose_net: RelativePoseNet, sequence: FeatureSequence, pairs: HeldOutPairs,
                      batch_size: int = 256, translation_factor: float = 1.0) -> torch.Tensor:
    """``(M, 4, 4)`` float64 ``T_src_tgt`` of a late-fusion network from the cached maps of the pairs; the
    translations times ``translation_factor`` (below 1: shrunk toward zero motion's)."""
    pose_net.eval()
    out = []
    for start in range(0, pairs.targets.numel(), batch_size):
        t = pairs.targets[start:start + batch_size]
        s = pairs.sources[start:start + batch_size]
        out.append(pose_net.forward_maps(sequence.features[s], sequence.features[t]).T_src_tgt().double())
    out = torch.cat(out)
    out[:, :3, 3] *= translation_factor
    return out


class GeometricEstimator:
    """Direct alignment and ORB + PnP on the sequence's frames at ``image_size`` with the target's sensor depth.

    Args:
        sequence: the frames.
        image_size: ``(H, W)`` of the geometric methods (the images are resized to cover and centre-cropped).
        direct, features: their settings.
        batch_size: pairs per direct-alignment call.
    """

    def __init__(self, sequence: FeatureSequence, image_size: tuple[int, int] = (240, 320),
                 direct: DirectAlignmentConfig = DirectAlignmentConfig(),
                 features: FeatureMatchingConfig = FeatureMatchingConfig(), batch_size: int = 8):
        self.sequence = sequence
        self.loader = FrameLoader(sequence_transform(sequence.frames, image_size), load_depth=True)
        self.direct = direct
        self.features = features
        self.batch_size = batch_size
        self._loaded: dict[int, object] = {}

    def _frame(self, position: int):
        if position not in self._loaded:
            self._loaded[position] = self.loader.load(self.sequence.frames[position])
        return self._loaded[position]

    def refine(self, pairs: HeldOutPairs, T_src_tgt_init: torch.Tensor | None) -> tuple[torch.Tensor, float]:
        """``(M, 4, 4)`` float64 direct-alignment estimates from ``T_src_tgt_init`` (``None``: the identity)
        and the seconds spent aligning."""
        out, seconds = [], 0.0
        for start in range(0, pairs.targets.numel(), self.batch_size):
            chunk = range(start, min(start + self.batch_size, pairs.targets.numel()))
            targets = [self._frame(int(pairs.targets[i])) for i in chunk]
            sources = [self._frame(int(pairs.sources[i])) for i in chunk]
            init = None if T_src_tgt_init is None else T_src_tgt_init[start:start + len(chunk)].float()
            begin = time.perf_counter()
            result = align_photometric(torch.stack([f.image.mean(0, keepdim=True) for f in sources]),
                                       torch.stack([f.image.mean(0, keepdim=True) for f in targets]),
                                       torch.stack([f.depth for f in targets]), targets[0].intrinsics, init, self.direct)
            seconds += time.perf_counter() - begin
            out.append(result.T_src_tgt.double())
        return torch.cat(out), seconds

    def orb_pnp(self, pairs: HeldOutPairs) -> tuple[torch.Tensor, int]:
        """``(M, 4, 4)`` float64 ORB + PnP estimates (identity on failure) and the number of failures."""
        poses, failures = [], 0
        for t, s in zip(pairs.targets.tolist(), pairs.sources.tolist()):
            target, source = self._frame(t), self._frame(s)
            result = estimate_pose_pnp(source.image, target.image, target.depth, target.intrinsics, self.features)
            poses.append(result.T_src_tgt.double())
            failures += int(not result.success)
        return torch.stack(poses), failures


@dataclass
class HeldOutEvaluation:
    """Rows ``{method: {distance: summary}}`` and the refinement subset's stride."""

    rows: dict[str, dict[int, dict[str, float]]] = field(default_factory=dict)
    refine_stride: int = 1
    seconds: dict[str, float] = field(default_factory=dict)

    def add(self, method: str, distance: int, summary: dict[str, float]) -> None:
        self.rows.setdefault(method, {})[distance] = summary


def evaluate_held_out(sequence: FeatureSequence, test_frames: FrameRange, distances: Sequence[int],
                      networks: dict[str, RelativePoseNet], refine_network: str | None = None,
                      refine_stride: int = 4, geometric: GeometricEstimator | None = None,
                      translation_factor: float = 1.0) -> HeldOutEvaluation:
    """Evaluate the trivial estimates, ``networks`` and (unless ``refine_stride`` is 0) the refinement rows.

    Args:
        sequence: frames, poses and cached maps (the test frames included).
        test_frames: the held-out frames.
        distances: frame distances.
        networks: ``{name: pose_net}`` evaluated on all pairs.
        refine_network: the network whose estimates start the ``<name>+refine`` row (default: none).
        refine_stride: refinement rows on every ``refine_stride``-th pair (0: no refinement rows).
        geometric: the direct / ORB estimator (default: built on ``sequence`` at 240 x 320).
        translation_factor: the networks' translations times this factor (:func:`network_estimates`).
    """
    evaluation = HeldOutEvaluation(refine_stride=refine_stride)
    if refine_stride > 0 and geometric is None:
        geometric = GeometricEstimator(sequence)
    for d in distances:
        pairs = held_out_pairs(sequence, test_frames, int(d))
        evaluation.add("zero", d, summarize(pairs.T_src_tgt, zero_motion(pairs.targets.numel())))
        evaluation.add("constant_velocity", d, summarize(pairs.T_src_tgt, constant_velocity(sequence.T_world_cam, pairs.targets, d)))
        estimates = {}
        for name, net in networks.items():
            estimates[name] = network_estimates(net, sequence, pairs, translation_factor=translation_factor)
            evaluation.add(name, d, summarize(pairs.T_src_tgt, estimates[name]))
        if refine_stride <= 0:
            continue
        subset = pairs.subset(refine_stride)
        keep = slice(None, None, refine_stride)
        evaluation.add("zero@subset", d, summarize(subset.T_src_tgt, zero_motion(subset.targets.numel())))
        refined, seconds = geometric.refine(subset, None)
        evaluation.add("identity+refine", d, summarize(subset.T_src_tgt, refined))
        evaluation.seconds[f"identity+refine@{d}"] = seconds
        if refine_network is not None:
            evaluation.add(f"{refine_network}@subset", d, summarize(subset.T_src_tgt, estimates[refine_network][keep]))
            refined, seconds = geometric.refine(subset, estimates[refine_network][keep])
            evaluation.add(f"{refine_network}+refine", d, summarize(subset.T_src_tgt, refined))
            evaluation.seconds[f"{refine_network}+refine@{d}"] = seconds
        orb, failures = geometric.orb_pnp(subset)
        summary = summarize(subset.T_src_tgt, orb)
        summary["failures"] = float(failures)
        evaluation.add("orb_pnp", d, summary)
    return evaluation


def format_table(evaluation: HeldOutEvaluation) -> str:
    """A plain-text table: one row per method and distance."""
    lines = [f"{'method':28s} {'d':>3s} {'pairs':>5s} {'t_med(cm)':>9s} {'r_med(deg)':>10s} {'solved 2cm/1deg':>15s}"]
    for method, by_distance in evaluation.rows.items():
        for d, s in sorted(by_distance.items()):
            lines.append(f"{method:28s} {d:3d} {int(s['pairs']):5d} {100 * s['t_median_m']:9.2f} "
                         f"{s['r_median_deg']:10.2f} {100 * s['solved_2cm_1deg']:14.1f}%")
    return "\n".join(lines)
