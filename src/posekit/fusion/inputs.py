"""Reading the inputs of ``posekit fuse``: relative-pose CSV files, per-frame flag CSV files, and matching
frames between files by timestamp.

Relative CSV (one relative measurement per line; a header line is allowed)::

    t_from,t_to,tx,ty,tz,qx,qy,qz,qw

``(t_from, t_to)`` are the timestamps (s) of frames i and j and the pose is ``T_i_j = inv(T_world_i) @
T_world_j`` (maps frame-j points into frame i), quaternion in TUM's (x, y, z, w) order on disk.

Per-frame CSV (an evaluation's ``eval/<method>.csv`` or a localisation run's per-frame file), one row per
row of the absolute TUM file, in the same order: an optional ``name`` column (``"<record>/<frame>"`` gives
the records) and an optional ``success`` column (``1/0``, ``true/false``): failed frames get no absolute factor.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

import torch

from posekit.errors import FileFormatError, TrajectoryError
from posekit.fileio import atomic_write_text
from posekit.geometry import make_pose, matrix_to_quaternion, quaternion_to_matrix
from posekit.metrics.sync import matching_time_indices

RELATIVE_COLUMNS = ("t_from", "t_to", "tx", "ty", "tz", "qx", "qy", "qz", "qw")
QUATERNION_NORM_TOLERANCE = 1e-2
# Timestamps of the same frame in two files must agree within this (s).
TIMESTAMP_TOLERANCE = 1e-6
_TRUE = {"1", "true", "yes", "ok", "success"}
_FALSE = {"0", "false", "no", "fail", "failed"}


@dataclass(eq=False)
class RelativeTable:
    """A relative CSV file: ``t_from``, ``t_to`` ``(M,)`` float64 and ``T_i_j`` ``(M, 4, 4)`` float64."""

    t_from: torch.Tensor
    t_to: torch.Tensor
    T_i_j: torch.Tensor


def _rows(path: Path) -> list[tuple[int, list[str]]]:
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise FileFormatError(path, "file not found") from None
    except (OSError, UnicodeDecodeError) as error:
        raise FileFormatError(path, f"cannot read the file ({error})") from None
    return [(number, [cell.strip() for cell in row]) for number, row in enumerate(csv.reader(text.splitlines()), 1)
            if row and not row[0].lstrip().startswith("#")]


def read_relative_csv(path: str | Path) -> RelativeTable:
    """Read a relative-pose CSV (see the module doc). Raises :class:`FileFormatError` naming file and line."""
    path = Path(path)
    rows = _rows(path)
    if rows and rows[0][1][0].lower() == RELATIVE_COLUMNS[0]:
        rows = rows[1:]
    values, numbers = [], []
    for number, cells in rows:
        if len(cells) != len(RELATIVE_COLUMNS):
            raise FileFormatError(path, f"expected {len(RELATIVE_COLUMNS)} values ({','.join(RELATIVE_COLUMNS)}), got {len(cells)}", number)
        try:
            row = [float(c) for c in cells]
        except ValueError:
            raise FileFormatError(path, f"not a number in {cells}", number) from None
        if not all(v == v and abs(v) != float("inf") for v in row):
            raise FileFormatError(path, "non-finite value", number)
        values.append(row)
        numbers.append(number)
    if not values:
        raise FileFormatError(path, "the file holds no relative poses")
    table = torch.tensor(values, dtype=torch.float64)
    quaternion_wxyz = table[:, [8, 5, 6, 7]]
    norm = torch.linalg.vector_norm(quaternion_wxyz, dim=-1)
    bad = ((norm - 1.0).abs() >= QUATERNION_NORM_TOLERANCE).nonzero()
    if bad.numel():
        raise FileFormatError(path, f"quaternion norm {float(norm[int(bad[0])]):.6g} is not 1", numbers[int(bad[0])])
    T_i_j = make_pose(quaternion_to_matrix(quaternion_wxyz / norm[:, None]), table[:, 2:5])
    return RelativeTable(table[:, 0].clone(), table[:, 1].clone(), T_i_j)


def write_relative_csv(path: str | Path, t_from: torch.Tensor, t_to: torch.Tensor, T_i_j: torch.Tensor) -> None:
    """Write relative poses ``T_i_j`` ``(M, 4, 4)`` between frames at ``t_from``, ``t_to`` ``(M,)`` atomically."""
    quaternion_xyzw = matrix_to_quaternion(T_i_j[:, :3, :3].double())[:, [1, 2, 3, 0]]
    lines = [",".join(RELATIVE_COLUMNS)]
    for a, b, t, q in zip(t_from.tolist(), t_to.tolist(), T_i_j[:, :3, 3].double().tolist(), quaternion_xyzw.tolist()):
        lines.append(",".join(repr(float(v)) for v in (a, b, *t, *q)))
    atomic_write_text(path, "\n".join(lines) + "\n")


@dataclass(eq=False)
class FrameFlags:
    """A per-frame CSV: ``names`` (or ``None`` without a ``name`` column) and ``success`` ``(N,)`` bool
    (all True without a ``success`` column)."""

    names: list[str] | None
    success: torch.Tensor


def read_frame_flags(path: str | Path) -> FrameFlags:
    """Read the ``name`` and ``success`` columns of a per-frame CSV with a header line."""
    path = Path(path)
    rows = _rows(path)
    if not rows:
        raise FileFormatError(path, "the file is empty (a header line is needed)")
    header = [cell.lower() for cell in rows[0][1]]
    if "name" not in header and "success" not in header:
        raise FileFormatError(path, f"no 'name' or 'success' column in the header {rows[0][1]}", rows[0][0])
    names: list[str] = []
    success: list[bool] = []
    for number, cells in rows[1:]:
        if len(cells) != len(header):
            raise FileFormatError(path, f"expected {len(header)} cells like the header, got {len(cells)}", number)
        if "name" in header:
            names.append(cells[header.index("name")])
        if "success" in header:
            flag = cells[header.index("success")].lower()
            if flag not in _TRUE | _FALSE:
                raise FileFormatError(path, f"success: {flag!r} is not one of 1/0/true/false", number)
            success.append(flag in _TRUE)
        else:
            success.append(True)
    return FrameFlags(names if "name" in header else None, torch.tensor(success, dtype=torch.bool))


def rows_at_timestamps(reference: torch.Tensor, other: torch.Tensor, other_path: str | Path,
                       tolerance: float = TIMESTAMP_TOLERANCE) -> torch.Tensor:
    """``(N,)`` rows of ``other`` (``(M,)`` timestamps of the file ``other_path``) matching each ``reference``
    timestamp; raises :class:`TrajectoryError` naming the first timestamp without a match."""
    ref_rows, other_rows = matching_time_indices(reference, other, max_diff=tolerance)
    if len(ref_rows) != len(reference):
        missing = sorted(set(range(len(reference))) - set(ref_rows.tolist()))[0]
        raise TrajectoryError(f"{other_path}: no frame at timestamp {float(reference[missing])!r} "
                              f"(row {missing} of the absolute trajectory; tolerance {tolerance} s)")
    order = torch.argsort(ref_rows)
    return other_rows[order]
