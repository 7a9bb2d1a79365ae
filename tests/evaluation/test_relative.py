"""The relative-pose evaluation's pieces: pair errors are evo's RPE, scale alignment, the chained trajectory,
frame ranges."""

from __future__ import annotations

import csv
import math
import statistics

import pytest
import torch

from posekit.data import load_index
from posekit.errors import ConfigError
from posekit.data import RelativePoseDataset
from posekit.evaluation.relative import (ChainedTrajectory, DistanceResult, chain_trajectory, evaluation_pairs,
                                         write_relative_evaluation)
from posekit.evaluation.summary import rpe_summary, summary_header
from posekit.metrics.alignment import AlignmentType
from posekit.metrics.ape_rpe import compute_ape
from posekit.metrics.relative_motion import previous_pair_motion
from posekit.metrics.trajectory_files import read_tum
from posekit.geometry import relative_pose, translation_axis_angle_to_matrix
from posekit.metrics.ape_rpe import PoseRelation, compute_rpe
from posekit.metrics.pair_errors import align_translation_scale, pair_errors
from posekit.metrics.pose_errors import RelativePoseErrors
from posekit.metrics.trajectory import Trajectory
from posekit.training.frame_data import FrameDataConfig, FrameRange, resolve_frame_sides
from tests.conftest import SYNTH_SIZE, TEST_FRAMES, TRAIN_FRAMES


def _random_trajectory(n: int, seed: int) -> torch.Tensor:
    generator = torch.Generator().manual_seed(seed)
    steps = translation_axis_angle_to_matrix(0.05 * torch.randn(n, 6, generator=generator, dtype=torch.float64))
    poses = [torch.eye(4, dtype=torch.float64)]
    for step in steps[1:]:
        poses.append(poses[-1] @ step)
    return torch.stack(poses)


@pytest.mark.parametrize("delta", [1, 3])
def test_pair_errors_are_evos_rpe(delta):
    """Pairs stored as T_src_tgt (target i, source i + d) give exactly evo's all-pairs RPE at delta d."""
    T_world_gt = _random_trajectory(12, 0)
    T_world_est = T_world_gt @ translation_axis_angle_to_matrix(
        0.02 * torch.randn(12, 6, generator=torch.Generator().manual_seed(1), dtype=torch.float64))
    i = torch.arange(12 - delta)
    gt = relative_pose(T_world_gt[i + delta], T_world_gt[i])  # T_src_tgt with source i + d
    est = relative_pose(T_world_est[i + delta], T_world_est[i])
    errors = pair_errors(gt, est)
    for relation, ours in ((PoseRelation.translation_part, errors.translation),
                           (PoseRelation.rotation_angle_deg, errors.rotation_deg)):
        evo = compute_rpe(Trajectory(T_world_gt), Trajectory(T_world_est), relation, delta=delta, all_pairs=True)
        torch.testing.assert_close(ours, evo.errors)
    summary = rpe_summary(errors)
    assert summary["rpe_t_rmse_m"] == pytest.approx(math.sqrt(float((errors.translation**2).mean())))
    assert summary["rpe_r_median_deg"] == pytest.approx(statistics.median(errors.rotation_deg.tolist()))


def test_rpe_summary_recalls_count_pairs_within_both_thresholds():
    errors = RelativePoseErrors(torch.tensor([0.005, 0.015, 0.03, 0.001], dtype=torch.float64),
                                torch.tensor([0.1, 0.8, 0.1, 2.0], dtype=torch.float64), torch.zeros(4))
    summary = rpe_summary(errors)
    assert summary["recall_1cm_0.5deg"] == 0.25  # only the first pair
    assert summary["recall_2cm_1deg"] == 0.5  # the first two; the third fails t, the fourth r
    assert summary["rpe_t_median_m"] == pytest.approx(0.01)


def test_scale_alignment_recovers_a_translation_known_up_to_scale():
    gt = _random_trajectory(6, 2)
    factors = torch.tensor([0.1, 2.0, 5.0, 0.5, 1.0, 3.0], dtype=torch.float64)
    scaled = gt.clone()
    scaled[:, :3, 3] *= factors[:, None]
    aligned, scales = align_translation_scale(scaled, gt)
    torch.testing.assert_close(aligned[1:], gt[1:])  # the first pose of the trajectory has no translation
    torch.testing.assert_close(scales[1:], 1.0 / factors[1:])
    zero = gt.clone()
    zero[0, :3, 3] = 0.0
    _, scales = align_translation_scale(zero, gt)
    assert float(scales[0]) == 1.0  # nothing to scale


def _config(data, **overrides) -> FrameDataConfig:
    values = dict(dataset=data.format, data=str(data.root), train_frames=TRAIN_FRAMES, test_frames=TEST_FRAMES,
                  image_size=tuple(int(v) for v in SYNTH_SIZE.split("x")))
    values.update(overrides)
    return FrameDataConfig(**values)


def test_chaining_the_true_poses_gives_the_true_trajectory(synth_sequence, shared_cache):  # noqa: F811
    config = _config(synth_sequence, cache_dir=str(shared_cache))
    sides = resolve_frame_sides(config)
    (pairs,) = evaluation_pairs(sides, config, [3], None)
    truth = torch.stack([s.T_src_tgt[0] for s in pairs.dataset.samples])
    chained = chain_trajectory(pairs, truth)
    reference, estimate = chained.ground_truth, chained.estimate
    assert len(reference) == 6  # frames 24, 27, ..., 39
    assert reference.names[0].endswith("000024") and reference.names[-1].endswith("000039")
    torch.testing.assert_close(estimate.poses, reference.poses)
    # a constant error per pair accumulates along the chain
    biased = chain_trajectory(pairs, translation_axis_angle_to_matrix(
        torch.tensor([0.01, 0, 0, 0, 0, 0], dtype=torch.float64)) @ truth).estimate
    drift = (biased.positions - reference.positions).norm(dim=1)
    assert bool((drift[1:] > 0.005).all()) and float(drift[-1]) > float(drift[1])


def test_frame_ranges(synth_sequence):  # noqa: F811
    assert FrameRange.parse("200-299") == FrameRange(200, 299) and FrameRange.parse("7") == FrameRange(7, 7)
    for bad in ("a-b", "5-2", "-3", "1-2-3"):
        with pytest.raises(ConfigError, match="frame range"):
            FrameRange.parse(bad)
    index = load_index(synth_sequence.format, synth_sequence.root)
    sides = resolve_frame_sides(_config(synth_sequence), index)
    assert [f.order for f in sides.train.index.frames] == list(range(0, 24))
    assert [f.order for f in sides.test.index.frames] == list(range(24, 40))
    with pytest.raises(ConfigError, match="both training"):
        resolve_frame_sides(_config(synth_sequence, train_frames="0-30"), index)
    with pytest.raises(ConfigError, match="no frame"):
        resolve_frame_sides(_config(synth_sequence, test_frames="500-600"), index)


def test_pairs_and_chains_never_cross_held_out_blocks(synth_sequence, shared_cache):  # noqa: F811
    """blocks:5:4 holds out two blocks of one record: no pair joins them, the chain restarts in each."""
    config = _config(synth_sequence, train_frames=None, test_frames=None, split="blocks:5:4", cache_dir=str(shared_cache))
    sides = resolve_frame_sides(config)
    held_out = sorted(f.order for f in sides.test.index.frames if f.order in
                      {g.order for g in RelativePoseDataset(sides.test.index, sides.test.split, distances=1,
                                                             split_policy=sides.policy, load_depth=False).selection.frames})
    (pairs,) = evaluation_pairs(sides, config, [1], None)
    blocks = [o // 5 for o in held_out]
    assert len(set(blocks)) == 2, held_out
    for sample in pairs.dataset.samples:
        assert sample.sources[0].order == sample.target.order + 1  # never the jump from one block to the next
    truth = torch.stack([s.T_src_tgt[0] for s in pairs.dataset.samples])
    chained = chain_trajectory(pairs, truth)
    assert len(set(chained.segments)) == 2 and len(chained.ground_truth) == len(held_out)
    torch.testing.assert_close(chained.estimate.poses, chained.ground_truth.poses)


def _straight_path(n: int) -> torch.Tensor:
    poses = torch.eye(4, dtype=torch.float64).repeat(n, 1, 1)
    poses[:, 0, 3] = 0.1 * torch.arange(n, dtype=torch.float64)
    return poses


def test_saved_chained_trajectory_keeps_the_estimators_orientation_error(tmp_path):
    """A short straight path, each pair's estimate turned by 2 deg about the optical axis: the saved trajectory's
    APE rotation (no alignment, as eval-traj --pose-relation angle_deg measures it) is exactly the accumulated
    2, 4, 6 ... deg (before, the file was stored after a positions-only alignment)."""
    n = 5
    T_world_gt = _straight_path(n)
    i = torch.arange(n - 1)
    T_src_tgt_gt = relative_pose(T_world_gt[i + 1], T_world_gt[i])
    turn = translation_axis_angle_to_matrix(torch.tensor([0, 0, 0, 0, 0, math.radians(2.0)], dtype=torch.float64))
    T_src_tgt_est = T_src_tgt_gt @ turn.expand(n - 1, 4, 4)
    chained_est = [T_world_gt[0]]
    for k in range(n - 1):
        chained_est.append(chained_est[-1] @ torch.linalg.inv(T_src_tgt_est[k]))
    stamps = torch.arange(n, dtype=torch.float64) * 0.5 + 100.0
    names = [f"seq/{k:06d}" for k in range(n)]
    chained = ChainedTrajectory(Trajectory(T_world_gt, stamps, names), Trajectory(torch.stack(chained_est), stamps, names),
                                ["seq"] * n)
    names_pairs = [f"seq/{k:06d}->{k + 1:06d}" for k in range(n - 1)]
    errors = pair_errors(T_src_tgt_gt, T_src_tgt_est)
    result = DistanceResult(1, names_pairs, T_src_tgt_gt, T_src_tgt_est, T_src_tgt_est, errors, 0, 1.0)
    header = summary_header("network", "7scenes", "x", "frames 0-4", n, None)
    summary = write_relative_evaluation(tmp_path, header, [result], result, chained, metric=True)
    saved, truth = read_tum(tmp_path / "eval" / "network" / "seq.tum"), read_tum(tmp_path / "eval" / "network" / "seq.gt.tum")
    torch.testing.assert_close(saved.timestamps, stamps)
    rotation = compute_ape(truth, saved, PoseRelation.rotation_angle_deg, AlignmentType.none).errors
    torch.testing.assert_close(rotation, 2.0 * torch.arange(n, dtype=torch.float64), atol=1e-6, rtol=0)
    assert summary["trajectories"] == {"seq": "network/seq.tum"} and summary["trajectory_segments"] == 1
    rows = list(csv.DictReader(open(tmp_path / "eval" / "network.csv")))
    assert float(rows[0]["est_tx"]) == pytest.approx(float(T_src_tgt_est[0, 0, 3]))
    # a straight ground truth leaves the SE(3) alignment undetermined: measured unaligned, said so, no aligned copy
    assert summary["ate_alignment"].startswith("none (umeyama")
    assert not (tmp_path / "eval" / "network" / "seq.aligned-se3.tum").exists()


def test_relative_baselines_on_constant_motion():
    """On a path of equal steps the (oracle) constant velocity is exact except on each segment's first pair."""
    poses = _straight_path(6)
    i = torch.arange(5)
    gt = relative_pose(poses[i + 1], poses[i])
    previous = torch.tensor([-1, 0, 1, 2, 3])
    torch.testing.assert_close(previous_pair_motion(gt, previous)[1:], gt[1:])
    torch.testing.assert_close(previous_pair_motion(gt, previous)[0], torch.eye(4, dtype=torch.float64))
