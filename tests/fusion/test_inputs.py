"""Relative CSV and per-frame flag files: round trip, and bad lines named by file:line."""

from __future__ import annotations

import pytest
import torch

from posekit.errors import FileFormatError, TrajectoryError
from posekit.fusion.inputs import read_frame_flags, read_relative_csv, rows_at_timestamps, write_relative_csv
from posekit.geometry import relative_pose
from tests.fusion.synthetic import ground_truth


def test_relative_csv_round_trip(tmp_path):
    gt = ground_truth(6)
    steps = relative_pose(gt[:-1], gt[1:])
    stamps = torch.arange(6, dtype=torch.float64) * 0.1
    write_relative_csv(tmp_path / "r.csv", stamps[:-1], stamps[1:], steps)
    table = read_relative_csv(tmp_path / "r.csv")
    assert torch.allclose(table.T_i_j, steps, atol=1e-12)
    assert torch.equal(table.t_to, stamps[1:])


@pytest.mark.parametrize(("line", "message"), [
    ("0,1,0,0,0,0,0,0", "expected 9 values"),
    ("0,1,0,0,x,0,0,0,1", "not a number"),
    ("0,1,0,0,nan,0,0,0,1", "non-finite"),
    ("0,1,0,0,0,0,0,0,2", "quaternion norm"),
])
def test_relative_csv_bad_lines(tmp_path, line, message):
    (tmp_path / "r.csv").write_text("t_from,t_to,tx,ty,tz,qx,qy,qz,qw\n0,1,0,0,0,0,0,0,1\n" + line + "\n")
    with pytest.raises(FileFormatError, match=f"r.csv:3: .*{message}"):
        read_relative_csv(tmp_path / "r.csv")


def test_frame_flags(tmp_path):
    (tmp_path / "f.csv").write_text("name,translation_error_m,success\na/0,0.1,1\na/1,0.2,false\n")
    flags = read_frame_flags(tmp_path / "f.csv")
    assert flags.names == ["a/0", "a/1"] and flags.success.tolist() == [True, False]
    (tmp_path / "g.csv").write_text("name,success\na/0,maybe\n")
    with pytest.raises(FileFormatError, match="g.csv:2"):
        read_frame_flags(tmp_path / "g.csv")


def test_rows_at_timestamps():
    reference = torch.tensor([1.0, 2.0, 3.0], dtype=torch.float64)
    other = torch.tensor([3.0, 0.0, 1.0, 2.0], dtype=torch.float64)
    assert rows_at_timestamps(reference, other, "o.tum").tolist() == [2, 3, 0]
    with pytest.raises(TrajectoryError, match="o.tum: no frame at timestamp 2.5"):
        rows_at_timestamps(torch.tensor([2.5], dtype=torch.float64), other, "o.tum")
