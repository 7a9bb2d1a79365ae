"""Contiguous segments of held-out frames: what a relative-pose evaluation may pair and chain.

A held-out set is often several blocks of a record (``--split blocks:N:K``) or several records. Two held-out
frames are **contiguous** when no frame of their record and camera lies between them in the dataset. A segment is
a maximal run of contiguous held-out frames; pairs never join two segments (RPE), and chained trajectories
restart at the first frame of each segment (ATE per segment, then pooled).

Segment keys name the trajectory file: the record (``seq-01``), with the camera where the held-out frames have
several (``00.image_2``), and the first frame where the record has several segments (``seq-01.from-000400``).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch

from posekit.data.records import FrameRecord
from posekit.metrics.relative_motion import previous_pair_motion

FrameKey = tuple[str, str, int]  # (record, camera, order)


def frame_key(frame: FrameRecord) -> FrameKey:
    return (frame.record_id, frame.camera_id, frame.order)


def segment_keys(all_frames: Sequence[FrameRecord], held_out: Sequence[FrameRecord]) -> dict[FrameKey, str]:
    """The segment key of every held-out frame.

    Args:
        all_frames: every frame of the dataset (what lies between two held-out frames; repeats allowed).
        held_out: the held-out frames.
    """
    position: dict[FrameKey, int] = {}
    by_sequence: dict[tuple[str, str], list[FrameRecord]] = {}
    for frame in {frame_key(f): f for f in all_frames}.values():  # each frame once
        by_sequence.setdefault((frame.record_id, frame.camera_id), []).append(frame)
    for frames in by_sequence.values():
        for i, frame in enumerate(sorted(frames, key=lambda f: f.order)):
            position[frame_key(frame)] = i
    held: dict[tuple[str, str], list[FrameRecord]] = {}
    for frame in held_out:
        held.setdefault((frame.record_id, frame.camera_id), []).append(frame)
    several_cameras = len({camera for _, camera in held}) > 1
    out: dict[FrameKey, str] = {}
    for (record, camera), frames in held.items():
        frames = sorted({frame_key(f): f for f in frames}.values(), key=lambda f: f.order)
        runs: list[list[FrameRecord]] = []
        for frame in frames:
            if runs and position[frame_key(frame)] == position[frame_key(runs[-1][-1])] + 1:
                runs[-1].append(frame)
            else:
                runs.append([frame])
        base = f"{record}.{camera}" if several_cameras else record
        for run in runs:
            key = base if len(runs) == 1 else f"{base}.from-{run[0].frame_id}"
            out.update({frame_key(f): key for f in run})
    return out


def same_segment(segments: dict[FrameKey, str], a: FrameRecord, b: FrameRecord) -> bool:
    """Whether two held-out frames lie in one segment."""
    return segments[frame_key(a)] == segments[frame_key(b)]


def constant_velocity_of_pairs(targets: Sequence[FrameRecord], sources: Sequence[FrameRecord],
                               T_src_tgt_gt: torch.Tensor) -> torch.Tensor:
    """Constant-velocity estimates of pairs ``(target i, source i + d)`` at one distance: the ground-truth motion
    of the pair ``(i - d, i)`` among the same pairs (that pair's source is this pair's target), the identity
    where there is none (the first ``d`` pairs of a segment). Ground truth of the previous pair: the oracle
    constant-velocity model of a tracker that was right so far.

    Args:
        targets, sources: ``N`` frame records of the pairs.
        T_src_tgt_gt: ``(N, 4, 4)`` their ground truth.

    Returns:
        ``(N, 4, 4)`` float64.
    """
    row_of_source = {frame_key(s): row for row, s in enumerate(sources)}
    previous = torch.tensor([row_of_source.get(frame_key(t), -1) for t in targets], dtype=torch.long)
    return previous_pair_motion(T_src_tgt_gt, previous)
