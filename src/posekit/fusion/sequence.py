"""Fusing a whole query sequence: one pose graph per record, never a factor between two records.

Rows are the frames of the sequence in order; ``records[row]`` names each row's record (contiguous rows).
Relative measurements refer to rows; one that links rows of two records raises instead of being dropped
silently, since it means the inputs were put together wrongly.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch

from posekit.errors import TrajectoryError
from posekit.fusion.graph import FusionOptions, FusionResult, fuse_record
from posekit.fusion.measurements import AbsoluteMeasurements, RelativeMeasurements
from posekit.metrics.records import contiguous_groups


@dataclass(eq=False)
class SequenceFusion:
    """Output of :func:`fuse_sequence`: ``T_world_cam`` ``(N, 4, 4)`` fused poses in row order,
    ``absolute_residual`` and ``anchored`` ``(N,)`` (see :class:`~posekit.fusion.graph.FusionResult`) and each
    record's result."""

    T_world_cam: torch.Tensor
    absolute_residual: torch.Tensor
    anchored: torch.Tensor
    records: dict[str, FusionResult]


def fuse_sequence(
    absolute: AbsoluteMeasurements,
    relative: RelativeMeasurements,
    records: Sequence[str] | None = None,
    options: FusionOptions = FusionOptions(),
    absolute_every: int | None = None,
) -> SequenceFusion:
    """Fuse every record of a sequence separately.

    Args:
        absolute: all ``N`` rows.
        relative: pairs of rows (each pair within one record).
        records: ``N`` record names (default: one record).
        options: graph settings.
        absolute_every: VO mode: keep the absolute factor on every ``absolute_every``-th frame of each record
            (frames 0, N, 2N, ... of the record) and chain the relative measurements in between.

    Raises:
        TrajectoryError: a relative pair links two records, ``records`` has the wrong length, or a record
            cannot be fused (see :func:`~posekit.fusion.graph.fuse_record`).
    """
    n = len(absolute)
    records = list(records) if records is not None else [""] * n
    if len(records) != n:
        raise TrajectoryError(f"records: expected {n} names (one per frame), got {len(records)}")
    relative.check_frames(n)
    record_of_row = torch.empty(n, dtype=torch.long)
    groups = contiguous_groups(records)
    for number, rows in enumerate(groups.values()):
        record_of_row[rows] = number
    if len(relative):
        crossing = record_of_row[relative.pairs[:, 0]] != record_of_row[relative.pairs[:, 1]]
        if bool(crossing.any()):
            i, j = relative.pairs[int(crossing.nonzero()[0])].tolist()
            raise TrajectoryError(
                f"a relative measurement links row {i} (record {records[i]!r}) and row {j} (record {records[j]!r})"
            )
    fused = absolute.T_world_cam.clone()
    residual = torch.full((n,), float("nan"), dtype=torch.float64)
    anchored = torch.zeros(n, dtype=torch.bool)
    results: dict[str, FusionResult] = {}
    for record, rows in groups.items():
        first, count = rows[0], len(rows)
        part = AbsoluteMeasurements(absolute.T_world_cam[first : first + count], absolute.sigmas[first : first + count],
                                    absolute.valid[first : first + count])
        if absolute_every is not None:
            part = part.every(absolute_every)
        inside = (record_of_row[relative.pairs[:, 0]] == record_of_row[first]) if len(relative) else torch.zeros(0, dtype=torch.bool)
        part_relative = RelativeMeasurements(relative.pairs[inside] - first, relative.T_i_j[inside], relative.sigmas[inside])
        try:
            result = fuse_record(part, part_relative, options)
        except TrajectoryError as error:
            raise TrajectoryError(f"record {record!r}: {error}") from None
        fused[first : first + count] = result.T_world_cam
        residual[first : first + count] = result.absolute_residual
        anchored[first : first + count] = result.anchored
        results[record] = result
    return SequenceFusion(fused, residual, anchored, results)
