"""Evaluating relative-pose estimators on the same held-out pairs: trained networks, the network refined by
direct photometric alignment, the classical baselines (direct alignment from the identity, ORB + PnP) and the
zero-motion estimate (``identity``), the reference every method must beat: at a small frame distance "no
motion" is already close.

For every method (:class:`RelativePoseMethod`) and every frame distance ``d`` (default 1, 5 and 10), the pairs are
the held-out frames ``(i, i + d)`` of each contiguous segment of held-out frames (:mod:`.segments`: a pair never
joins two records or two held-out blocks; target ``i``, source ``i + d``). Errors are evo's RPE of the
pair (:mod:`posekit.metrics.pair_errors`): translation (m) and rotation (deg), summarised by rmse, median and
mean, with the zero-motion and the (oracle) constant-velocity estimates of the same pairs beside them
(``baselines`` in the JSON). The estimates of the pairs at the primary distance that start at the first frame of
each segment and go on by ``d`` frames are chained into one trajectory per segment (from that frame's
ground-truth pose) and written **as estimated** to ``eval/<method>/<segment>.tum`` (timestamps the dataset's,
else frame numbers); the ATE of each segment is computed after aligning it to the ground truth (SE(3) for metric
methods, Sim(3) for a monocular network), then pooled; the aligned copy is ``<segment>.aligned-<se3|sim3>.tum``.

A monocular network's translations are known only up to scale: its RPE uses the per-pair least-squares scale
against the ground truth (``scale_alignment`` in the JSON), and its refinement starts from the prediction
scaled by the ratio of the medians of the sensor depth and the predicted depth of the target (no ground-truth
pose used). Depth metrics (:mod:`posekit.metrics.depth_metrics`) are reported where a network predicts depth.

Everything is written into ``RUN_DIR/eval/<method>.{json,csv}`` and ``RUN_DIR/eval/<method>/`` like the
absolute-pose evaluations (``<method>.tum`` too when there is a single segment); the CSV holds the estimated
``T_src_tgt`` of each pair (as estimated) beside its errors.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import torch
import torch.nn.functional as F

from posekit.baselines.direct_alignment import DirectAlignmentConfig, align_photometric
from posekit.baselines.feature_matching import FeatureMatchingConfig, estimate_pose_pnp
from posekit.data import RelativePoseDataset, load_index
from posekit.errors import ConfigError, TrajectoryError
from posekit.evaluation.frames import EvalFrames, eval_data_config, evaluated_side
from posekit.evaluation.methods import RelativePoseMethod
from posekit.evaluation.results import estimate_columns, frame_timestamps, write_method_results, write_record_files
from posekit.evaluation.segments import constant_velocity_of_pairs, frame_key, same_segment, segment_keys
from posekit.evaluation.summary import rpe_summary, summary_header
from posekit.geometry import PinholeIntrinsics, se3_inverse
from posekit.metrics.alignment import AlignmentType, align_trajectory
from posekit.metrics.ape_rpe import PoseRelation, compute_ape
from posekit.metrics.depth_metrics import DepthMetricsAccumulator
from posekit.metrics.pair_errors import align_translation_scale, pair_errors
from posekit.metrics.pose_errors import PoseErrors, RelativePoseErrors
from posekit.metrics.records import POOLED, contiguous_groups, record_file_name
from posekit.metrics.relative_motion import zero_motion
from posekit.metrics.statistics import compute_statistics
from posekit.metrics.trajectory_files import write_tum
from posekit.runs import EVAL_DIR
from posekit.metrics.trajectory import Trajectory
from posekit.training.common import cover_and_crop
from posekit.training.frame_data import FrameDataConfig, FrameSides, paired_batches, record_list, resolve_frame_sides
from posekit.training.relpose import RelativePoseModule, load_relpose

DEFAULT_DISTANCES = (1, 5, 10)
SCALE_ALIGNMENT_PER_PAIR = "per-pair least-squares scale of the translation against the ground truth"


@dataclass
class PairBatch:
    """A batch of evaluation pairs.

    Attributes:
        source, target: ``(B, 3, H, W)`` at the evaluation size (for the geometric methods).
        net_source, net_target: the same pairs at the network's input size (the same tensors when equal).
        target_depth: ``(B, 1, H, W)`` sensor depth at the evaluation size, or ``None``.
        intrinsics: ``(B, 4)`` at the evaluation size.
        T_src_tgt: ``(B, 4, 4)`` float64 ground truth.
        names: ``B`` pair names ``record/target->source``.
    """

    source: torch.Tensor
    target: torch.Tensor
    net_source: torch.Tensor
    net_target: torch.Tensor
    target_depth: torch.Tensor | None
    intrinsics: torch.Tensor
    T_src_tgt: torch.Tensor
    names: list[str]


@dataclass
class MethodOutput:
    """``(B, 4, 4)`` float64 estimates and how many pairs failed (identity returned)."""

    T_src_tgt: torch.Tensor
    failures: int = 0


def _grey(images: torch.Tensor) -> torch.Tensor:
    return images.mean(1, keepdim=True)


def _median_depth_ratio(sensor: torch.Tensor, predicted: torch.Tensor) -> torch.Tensor:
    """``(B,)`` ``median(sensor) / median(predicted)`` over the pixels with sensor depth (1 where none)."""
    predicted = F.interpolate(predicted, size=sensor.shape[-2:], mode="bilinear", align_corners=False)
    ratios = []
    for s, p in zip(sensor, predicted):
        valid = s > 0
        ratios.append(float(s[valid].median() / p[valid].median()) if bool(valid.any()) else 1.0)
    return torch.tensor(ratios, dtype=torch.float64)


class PairEstimator:
    """One method's estimator: call it on a :class:`PairBatch`."""

    def __init__(self, method: RelativePoseMethod, module: RelativePoseModule | None = None,
                 direct: DirectAlignmentConfig = DirectAlignmentConfig(),
                 features: FeatureMatchingConfig = FeatureMatchingConfig()):
        if method.needs_model and module is None:
            raise ConfigError(f"method {method.value}: needs a trained relative-pose model (--model)")
        self.method = method
        self.module = module
        self.direct = direct
        self.features = features

    @property
    def metric(self) -> bool:
        """Whether the estimates are in metres (False: a monocular network's, up to scale)."""
        return self.method is not RelativePoseMethod.NETWORK or self.module.mode.metric

    @torch.no_grad()
    def __call__(self, batch: PairBatch) -> MethodOutput:
        if self.method.needs_depth and batch.target_depth is None:
            raise ConfigError(f"method {self.method.value}: needs sensor depth; the dataset has none")
        if self.method is RelativePoseMethod.ORB_PNP:
            return self._orb_pnp(batch)
        if self.method is RelativePoseMethod.IDENTITY:
            return MethodOutput(torch.eye(4, dtype=torch.float64).expand(batch.source.shape[0], 4, 4).clone())
        initial = None
        if self.method.needs_model:
            initial = self.module.predict_T_src_tgt(batch.net_source, batch.net_target).double()
            if self.method is RelativePoseMethod.NETWORK:
                return MethodOutput(initial)
            if not self.module.mode.metric:
                scale = _median_depth_ratio(batch.target_depth, self.module.predict_depth(batch.net_target))
                initial = initial.clone()
                initial[:, :3, 3] *= scale[:, None]
        result = align_photometric(_grey(batch.source), _grey(batch.target), batch.target_depth, batch.intrinsics,
                                   None if initial is None else initial.float(), self.direct)
        return MethodOutput(result.T_src_tgt.double())

    def _orb_pnp(self, batch: PairBatch) -> MethodOutput:
        h, w = batch.source.shape[-2:]
        poses, failures = [], 0
        for i in range(batch.source.shape[0]):
            fx, fy, cx, cy = (float(v) for v in batch.intrinsics[i])
            result = estimate_pose_pnp(batch.source[i], batch.target[i], batch.target_depth[i],
                                       PinholeIntrinsics(fx, fy, cx, cy, w, h), self.features)
            poses.append(result.T_src_tgt.double())
            failures += int(not result.success)
        return MethodOutput(torch.stack(poses), failures)


# ----------------------------------------------------------------------------------------------------------
# Pairs


@dataclass
class EvalPairs:
    """The evaluation pairs at one distance, at the evaluation size and (if different) the network's."""

    distance: int
    dataset: RelativePoseDataset
    net_dataset: RelativePoseDataset | None = None
    segments: dict | None = None  # segment key of each held-out frame (segments.segment_keys); None: the record

    def batches(self, batch_size: int) -> Iterator[PairBatch]:
        """:class:`PairBatch` es in dataset order."""
        for batch, net in paired_batches(self.dataset, self.net_dataset, batch_size):
            names = [f"{r}/{t}->{s}" for r, t, s in zip(batch["record"], batch["target_frame"], batch["source_frame"])]
            yield PairBatch(batch["source_image"], batch["target_image"], net["source_image"], net["target_image"],
                            batch.get("target_depth"), batch["intrinsics"], batch["T_src_tgt"].double(), names)


def _within_segments(dataset: RelativePoseDataset, segments: dict) -> RelativePoseDataset:
    """Drop the pairs of ``dataset`` that join two segments (in place; returns it)."""
    dataset.samples = [s for s in dataset.samples if all(same_segment(segments, s.target, f) for f in s.sources)]
    return dataset


def evaluation_pairs(sides: FrameSides, config: FrameDataConfig, distances: Sequence[int],
                     net_image_size: tuple[int, int] | None) -> list[EvalPairs]:
    """Pairs of the held-out frames at each distance within each segment (:mod:`.segments`), with depth where the
    data has it."""
    side = sides.test
    common = dict(records=record_list(config.records), cache=config.cache, cache_dir=config.cache_dir,
                  split_policy=sides.policy, load_depth=side.index.has_depth)
    pairs = []
    for d in distances:
        if d <= 0:
            raise ConfigError(f"evaluation distances must be positive frame offsets, got {d}")
        dataset = RelativePoseDataset(side.index, side.split, distances=d, transform=sides.transform, **common)
        segments = segment_keys([*sides.train.index.frames, *side.index.frames], dataset.selection.frames)
        _within_segments(dataset, segments)
        if not dataset.samples:
            raise ConfigError(f"distance {d}: no pair of held-out frames within one record and held-out block")
        net_dataset = None
        if net_image_size is not None and tuple(net_image_size) != tuple(config.image_size):
            net_dataset = _within_segments(RelativePoseDataset(side.index, side.split, distances=d,
                                           transform=cover_and_crop(side.index, *net_image_size), **common), segments)
        pairs.append(EvalPairs(d, dataset, net_dataset, segments))
    return pairs


# ----------------------------------------------------------------------------------------------------------
# Summaries and files


@dataclass
class DistanceResult:
    """A method's estimates and errors on the pairs at one distance.

    Attributes:
        T_src_tgt_raw: ``(N, 4, 4)`` the estimates as the method gave them.
        T_src_tgt_est: the estimates the errors are computed on (scale-aligned for a monocular network).
        scales: the per-pair scales applied, or ``None`` (metric).
    """

    distance: int
    names: list[str]
    T_src_tgt_gt: torch.Tensor
    T_src_tgt_raw: torch.Tensor
    T_src_tgt_est: torch.Tensor
    errors: RelativePoseErrors
    failures: int
    seconds: float
    scales: torch.Tensor | None = None


def run_method(estimator: PairEstimator, pairs: EvalPairs, batch_size: int) -> DistanceResult:
    """Estimate every pair of ``pairs``; time only the estimation (not the data loading)."""
    names, gts, ests, failures, seconds = [], [], [], 0, 0.0
    for batch in pairs.batches(batch_size):
        start = time.perf_counter()
        output = estimator(batch)
        seconds += time.perf_counter() - start
        names.extend(batch.names)
        gts.append(batch.T_src_tgt)
        ests.append(output.T_src_tgt)
        failures += output.failures
    T_gt, T_raw = torch.cat(gts), torch.cat(ests)
    T_est, scales = (T_raw, None) if estimator.metric else align_translation_scale(T_raw, T_gt)
    return DistanceResult(pairs.distance, names, T_gt, T_raw, T_est, pair_errors(T_gt, T_est), failures, seconds, scales)


@dataclass
class ChainedTrajectory:
    """Chained estimates of one method and the ground truth of the same frames, one segment after another.

    Attributes:
        ground_truth, estimate: the trajectories (estimate as estimated, never aligned); timestamps the dataset's,
            else the frame numbers.
        segments: the segment key of each row (the rows of a segment are contiguous).
    """

    ground_truth: Trajectory
    estimate: Trajectory
    segments: list[str]


def chain_trajectory(pairs: EvalPairs, T_src_tgt: torch.Tensor) -> ChainedTrajectory:
    """Chain the estimates of the pairs starting at the first frame of each segment (record, camera and
    held-out block), then at ``d``, ``2d``, ... frames on (each pair's source is the next pair's target).

    Args:
        pairs: the evaluation pairs (in dataset order).
        T_src_tgt: ``(N, 4, 4)`` one estimate per pair of ``pairs``.

    Returns:
        the chained trajectories; each chain starts at its first frame's ground-truth pose.
    """
    samples = pairs.dataset.samples
    segments = pairs.segments or {frame_key(f): f.record_id for s in samples for f in (s.target, *s.sources)}
    row_of_target: dict[tuple[str, str, int], int] = {}
    first_rows: dict[str, int] = {}
    for row, sample in enumerate(samples):
        row_of_target[frame_key(sample.target)] = row
        segment = segments[frame_key(sample.target)]
        if segment not in first_rows or sample.target.order < samples[first_rows[segment]].target.order:
            first_rows[segment] = row
    gt_poses, est_poses, frames, keys = [], [], [], []
    for segment, row in first_rows.items():
        target = samples[row].target
        T_world_est = target.T_world_cam.double()
        gt_poses.append(target.T_world_cam.double())
        est_poses.append(T_world_est)
        frames.append(target)
        while row is not None:
            source = samples[row].sources[0]
            T_world_est = T_world_est @ se3_inverse(T_src_tgt[row].double())
            gt_poses.append(source.T_world_cam.double())
            est_poses.append(T_world_est)
            frames.append(source)
            row = row_of_target.get(frame_key(source))
        keys.extend([segment] * (len(frames) - len(keys)))
    stamps = frame_timestamps(frames)
    names = [f"{f.record_id}/{f.frame_id}" for f in frames]
    return ChainedTrajectory(Trajectory(torch.stack(gt_poses), stamps, names),
                             Trajectory(torch.stack(est_poses), stamps.clone(), list(names)), keys)


def chained_ate(trajectory: ChainedTrajectory, alignment: AlignmentType) -> tuple[dict, dict[str, Trajectory]]:
    """ATE (positions, m) of each segment after its own ``alignment`` to the ground truth, pooled over the
    segments (segments under 3 frames are left out; a segment that cannot be aligned, e.g. a straight ground
    truth, is measured unaligned and says so in ``ate_alignment``); returns the summary entries and the aligned
    copies (only of the segments that were aligned)."""
    per_segment: dict[str, dict] = {}
    aligned_parts: dict[str, Trajectory] = {}
    pooled, labels = [], set()
    groups = contiguous_groups(trajectory.segments)
    for segment, rows in groups.items():
        if len(rows) < 3:
            continue
        gt, est = trajectory.ground_truth.subset(rows), trajectory.estimate.subset(rows)
        try:
            aligned, _ = align_trajectory(est, gt, alignment)
            labels.add(alignment.value)
            aligned_parts[segment] = aligned
        except TrajectoryError as error:  # a straight ground truth, or all chained poses coincide
            aligned = est
            labels.add(f"none ({error})")
        ape = compute_ape(gt, aligned, PoseRelation.translation_part, AlignmentType.none)
        per_segment[segment] = ape.statistics
        pooled.append(ape.errors)
    if not pooled:
        return {}, {}
    statistics = compute_statistics(torch.cat(pooled))
    entries = {"ate_rmse_m": statistics["rmse"], "ate_median_m": statistics["median"],
               "ate_alignment": "; ".join(sorted(labels)), "trajectory_frames": len(trajectory.ground_truth),
               "trajectory_segments": len(groups), "ate_per_segment": {**per_segment, POOLED: statistics}}
    return entries, aligned_parts


def relative_baselines(pairs: EvalPairs, T_src_tgt_gt: torch.Tensor) -> dict[str, dict]:
    """RPE summaries of zero motion and of the oracle constant velocity on the pairs of ``pairs``."""
    samples = pairs.dataset.samples
    velocity = constant_velocity_of_pairs([s.target for s in samples], [s.sources[0] for s in samples], T_src_tgt_gt)
    return {"zero_motion": rpe_summary(pair_errors(T_src_tgt_gt, zero_motion(len(samples)))),
            "constant_velocity_oracle": rpe_summary(pair_errors(T_src_tgt_gt, velocity))}


def write_relative_evaluation(run_dir: str | Path, header: dict, results: Sequence[DistanceResult],
                              primary: DistanceResult, trajectory: ChainedTrajectory | None, metric: bool,
                              extra: dict | None = None) -> dict:
    """Write ``eval/<method>.{json,csv}`` and the chained trajectories, and return the JSON summary.

    ``header`` is the :func:`~posekit.evaluation.summary.summary_header` of the evaluation. The top-level
    ``rpe_*`` keys are those of the primary distance; ``by_distance`` has every distance's.
    """
    summary: dict = {**header, "distance": primary.distance, "pairs": len(primary.names)}
    summary.update(rpe_summary(primary.errors))
    summary["by_distance"] = {
        str(r.distance): {"pairs": len(r.names), **rpe_summary(r.errors), "failures": r.failures} for r in results
    }
    summary["failures"] = primary.failures
    total_pairs = sum(len(r.names) for r in results)
    total_seconds = sum(r.seconds for r in results)
    summary["pairs_per_second"] = total_pairs / total_seconds if total_seconds > 0 else float("inf")
    summary["scale_alignment"] = "none (metric)" if metric else SCALE_ALIGNMENT_PER_PAIR
    if not metric and primary.scales is not None:
        summary["scale_median"] = float(primary.scales.median())
    method = header["method"]
    estimate = ground_truth = None
    if trajectory is not None:
        alignment = AlignmentType.se3 if metric else AlignmentType.sim3
        entries, aligned = chained_ate(trajectory, alignment)
        summary.update(entries)
        summary["trajectories"] = write_record_files(run_dir, method, trajectory.ground_truth, trajectory.estimate,
                                                     trajectory.segments)
        folder = Path(run_dir) / EVAL_DIR / method
        for segment, part in aligned.items():
            write_tum(folder / record_file_name("", segment, f".aligned-{alignment.value}.tum"), part)
        if len(contiguous_groups(trajectory.segments)) == 1:
            estimate, ground_truth = trajectory.estimate, trajectory.ground_truth
    summary.update(extra or {})
    frame_errors = PoseErrors(primary.errors.translation, primary.errors.rotation_deg)
    columns = estimate_columns(primary.T_src_tgt_raw)
    if primary.scales is not None:
        columns["scale"] = primary.scales.tolist()
    return write_method_results(run_dir, summary, frame_errors, primary.names, estimate, ground_truth, columns)


@torch.no_grad()
def depth_metrics_of(module: RelativePoseModule, pairs: EvalPairs, batch_size: int) -> dict:
    """Depth metrics of a monocular model's depth on the targets of ``pairs``, median-scaled and raw."""
    scaled = DepthMetricsAccumulator(median_scaling=True, max_depth=module.config.max_depth)
    raw = DepthMetricsAccumulator(median_scaling=False, max_depth=module.config.max_depth)
    for batch in pairs.batches(batch_size):
        if batch.target_depth is None:
            return {}
        depth = module.predict_depth(batch.net_target)
        depth = F.interpolate(depth, size=batch.target_depth.shape[-2:], mode="bilinear", align_corners=False)
        scaled.update(depth, batch.target_depth)
        raw.update(depth, batch.target_depth)
    out = scaled.compute().as_dict("depth_median_scaled_")
    out.update(raw.compute().as_dict("depth_"))
    return out


# ----------------------------------------------------------------------------------------------------------
# The evaluation


@dataclass
class RelativePoseEvalSettings:
    """What ``posekit eval relpose`` evaluates (the frames are :class:`~posekit.evaluation.frames.EvalFrames`).

    Attributes:
        methods: the estimators to run.
        distances: frame distances of the pairs.
        primary_distance: the distance of the top-level numbers and of the chained trajectory (default: the
            model's training distance if it is one of ``distances``, else the middle one).
        direct, features: settings of the direct alignment and of ORB + PnP.
    """

    methods: tuple[RelativePoseMethod, ...] = (RelativePoseMethod.NETWORK,)
    distances: tuple[int, ...] = DEFAULT_DISTANCES
    primary_distance: int | None = None
    direct: DirectAlignmentConfig = field(default_factory=DirectAlignmentConfig)
    features: FeatureMatchingConfig = field(default_factory=FeatureMatchingConfig)


# Evaluation size (H, W) of the geometric methods without a model.
BASELINE_IMAGE_SIZE = (240, 320)


def evaluate_relpose(dataset_format: str, data: str | Path, out: str | Path, model_path: str | Path | None = None,
                     frames: EvalFrames = EvalFrames(), *, settings: RelativePoseEvalSettings = RelativePoseEvalSettings()
                     ) -> dict[str, dict]:
    """Evaluate each method of ``settings`` on the held-out pairs of ``frames`` (default: the model's; the
    geometric methods run at ``frames.image_size``, default the model's, else 240x320); write
    ``out/eval/<method>.*``.

    Returns:
        ``{method: summary}``.
    """
    module = load_relpose(model_path) if model_path is not None else None
    if module is None and any(m.needs_model for m in settings.methods):
        raise ConfigError("the network methods need --model (a trained relative-pose model)")
    config = eval_data_config(dataset_format, data, frames, None if module is None else module.config,
                              BASELINE_IMAGE_SIZE)
    index = load_index(config.dataset, config.data)
    sides = resolve_frame_sides(config, index, check_overlap=module is not None)  # baselines learn nothing
    sides = dataclasses.replace(sides, test=evaluated_side(sides, frames))
    distances = tuple(settings.distances)
    primary_distance = settings.primary_distance
    if primary_distance is None:
        trained = abs(module.config.distance) if module is not None else None
        primary_distance = trained if trained in distances else distances[len(distances) // 2]
    if primary_distance not in distances:
        distances = distances + (primary_distance,)
    net_size = tuple(module.config.image_size) if module is not None else None
    all_pairs = evaluation_pairs(sides, config, distances, net_size)
    primary_pairs = next(p for p in all_pairs if p.distance == primary_distance)
    held_out_frames = len({(f.record_id, f.camera_id, f.order) for sample in primary_pairs.dataset.samples
                           for f in (sample.target, *sample.sources)})
    base = {"image_size": list(config.image_size)}
    if module is not None:
        base.update(mode=module.mode.value, network_image_size=list(module.config.image_size))
    summaries = {}
    baselines = relative_baselines(primary_pairs, torch.stack([s.T_src_tgt[0] for s in primary_pairs.dataset.samples]))
    for method in settings.methods:
        estimator = PairEstimator(method, module, settings.direct, settings.features)
        results = [run_method(estimator, pairs, frames.batch_size) for pairs in all_pairs]
        primary = next(r for r in results if r.distance == primary_distance)
        # a monocular network's trajectory chains its own (unscaled) translations; the Sim(3) alignment fixes the scale
        trajectory = chain_trajectory(primary_pairs, primary.T_src_tgt_raw)
        extra = dict(base, baselines=baselines)
        if method is RelativePoseMethod.NETWORK and module is not None and module.depth_net is not None:
            extra.update(depth_metrics_of(module, primary_pairs, frames.batch_size))
        header = summary_header(method.value, index.format, str(index.root), sides.test.description, held_out_frames,
                                str(model_path) if model_path else None)
        summaries[method.value] = write_relative_evaluation(out, header, results, primary, trajectory,
                                                            estimator.metric, extra)
    return summaries
