"""Strict trajectory reading (issue 11 item 4): C strtod's number grammar, line numbers on \\n, \\r\\n, \\r
only, timestamp order, KITTI frame indices, coordinates that would overflow the metrics."""

from __future__ import annotations

import pytest
import torch

from posekit.errors import FileFormatError, TrajectoryError
from posekit.metrics.trajectory_files import (
    MAX_COORDINATE,
    TimestampOrder,
    associate_kitti,
    kitti_frame_indices,
    read_euroc_csv,
    read_kitti,
    read_kitti_times,
    read_tum,
    read_visloc_poses,
)

KITTI_ROW = "1 0 0 {x} 0 1 0 0 0 0 1 0"


def _tum(stamp: str, x: str = "0") -> str:
    return f"{stamp} {x} 0 0 0 0 0 1"


def _expect_error(path, reader, line, message, **kwargs):
    with pytest.raises(FileFormatError) as info:
        reader(path, **kwargs)
    assert info.value.path == path
    assert info.value.line == line, str(info.value)
    assert message in str(info.value)


@pytest.mark.parametrize("token", ["1_3", "\uff11", "\u0661", "1,5", "0x", "1e", "--1", "1.2.3", "١٢", "infinity!"])
def test_numbers_python_accepts_but_strtod_does_not_are_refused(tmp_path, token):
    path = tmp_path / "t.txt"
    path.write_text("\n".join([_tum("1"), _tum("2", token)]) + "\n", encoding="utf-8")
    _expect_error(path, read_tum, 2, "is not a number")


@pytest.mark.parametrize(("token", "value"), [("1.", 1.0), (".5", 0.5), ("+2e-1", 0.2), ("0x1.8p1", 3.0), ("1E2", 100.0)])
def test_every_strtod_spelling_reads_its_value(tmp_path, token, value):
    path = tmp_path / "t.txt"
    path.write_text(_tum("1", token) + "\n")
    assert float(read_tum(path).positions[0, 0]) == value


@pytest.mark.parametrize("token", ["inf", "-Infinity", "nan", "NAN(0x1)", "1e999"])
def test_non_finite_values_are_refused(tmp_path, token):
    path = tmp_path / "t.txt"
    path.write_text(_tum("1", token) + "\n")
    _expect_error(path, read_tum, 1, token)


def test_coordinates_that_would_overflow_the_metrics_are_refused(tmp_path):
    path = tmp_path / "t.txt"
    path.write_text("\n".join([_tum("1"), _tum("2", "1e200")]) + "\n")
    _expect_error(path, read_tum, 2, f"beyond {MAX_COORDINATE:g}")
    kitti = tmp_path / "k.txt"
    kitti.write_text("\n".join([KITTI_ROW.format(x=0), KITTI_ROW.format(x="-1e13")]) + "\n")
    _expect_error(kitti, read_kitti, 2, "beyond")


@pytest.mark.parametrize("separator", ["\n", "\r\n", "\r"])
@pytest.mark.parametrize("odd", ["\f", "\v", "\u2028", "\u0085", "\x1c"])
def test_line_numbers_count_only_newline_crlf_and_cr(tmp_path, separator, odd):
    """A comment holding a form feed, U+2028 or U+0085 is one line (Python's splitlines would make two),
    and the file stays valid."""
    path = tmp_path / "t.txt"
    lines = [f"# comment{odd}with odd breaks", _tum("1"), _tum("2"), _tum("3", "x")]
    path.write_bytes(separator.join(lines).encode("utf-8") + separator.encode())
    _expect_error(path, read_tum, 4, "'x' is not a number")
    path.write_bytes(separator.join(lines[:3]).encode("utf-8"))
    assert len(read_tum(path)) == 2


def test_a_field_separated_by_an_odd_blank_is_refused_not_split(tmp_path):
    path = tmp_path / "t.txt"
    path.write_text("1 0 0\f0 0 0 0 1\n", encoding="utf-8")
    with pytest.raises(FileFormatError, match=":1: "):
        read_tum(path)


def test_non_utf8_trajectory_names_file_and_line(tmp_path):
    path = tmp_path / "t.txt"
    path.write_bytes(b"# ok\n1 0 0 0 0 0 0 1\n# caf\xe9\n")
    _expect_error(path, read_tum, 3, "not UTF-8")


def test_timestamps_going_back_are_refused_or_sorted(tmp_path):
    path = tmp_path / "t.txt"
    path.write_text("\n".join([_tum("1", "1"), _tum("3", "3"), _tum("2", "2")]) + "\n")
    _expect_error(path, read_tum, 3, "timestamp 2.0 goes back from 3.0 at line 2")
    _expect_error(path, read_tum, 3, "goes back", timestamps=TimestampOrder.strict)
    traj = read_tum(path, timestamps=TimestampOrder.sort)
    assert traj.timestamps.tolist() == [1.0, 2.0, 3.0]
    assert traj.positions[:, 0].tolist() == [1.0, 2.0, 3.0]


def test_repeated_timestamps_kept_by_default_refused_when_strict_or_all_equal(tmp_path):
    path = tmp_path / "t.txt"
    path.write_text("\n".join([_tum("1"), _tum("2", "1"), _tum("2", "2"), _tum("3")]) + "\n")
    assert len(read_tum(path)) == 4  # evo reads the benchmark files' repeats the same way
    _expect_error(path, read_tum, 3, "timestamp 2.0 repeats 2.0 at line 2", timestamps=TimestampOrder.strict)
    path.write_text("\n".join([_tum("5")] * 3) + "\n")
    _expect_error(path, read_tum, 3, "all 3 timestamps are equal")
    csv = tmp_path / "data.csv"
    csv.write_text("#t\n2,0,0,0,1,0,0,0\n1,0,0,0,1,0,0,0\n")
    _expect_error(csv, read_euroc_csv, 3, "goes back")


def test_kitti_times_must_increase(tmp_path):
    path = tmp_path / "times.txt"
    path.write_text("0.0\n0.1\n0.05\n")
    _expect_error(path, read_kitti_times, 3, "goes back")
    path.write_text("0.0\n0.0\n")
    _expect_error(path, read_kitti_times, 2, "repeats")


def test_kitti_frame_indices_must_increase(tmp_path):
    path = tmp_path / "k.txt"
    rows = [f"{i} " + KITTI_ROW.format(x=0) for i in (2, 5, 5)]
    path.write_text("\n".join(rows) + "\n")
    _expect_error(path, read_kitti, 3, "frame index 5.0 repeats")
    path.write_text("\n".join(f"{i} " + KITTI_ROW.format(x=0) for i in (5, 2)) + "\n")
    _expect_error(path, read_kitti, 2, "goes back")


def test_associate_kitti_honours_the_frame_index_column(tmp_path):
    gt_path, est_path = tmp_path / "gt.txt", tmp_path / "est.txt"
    gt_path.write_text("\n".join(KITTI_ROW.format(x=i) for i in range(6)) + "\n")
    est_path.write_text("\n".join(f"{i} " + KITTI_ROW.format(x=i + 0.5) for i in (1, 4, 5)) + "\n")
    gt, est = associate_kitti(read_kitti(gt_path), read_kitti(est_path))
    assert gt.positions[:, 0].tolist() == [1.0, 4.0, 5.0]
    assert est.positions[:, 0].tolist() == [1.5, 4.5, 5.5]
    assert kitti_frame_indices(est).tolist() == [1, 4, 5]
    est_path.write_text(f"9 {KITTI_ROW.format(x=0)}\n")
    with pytest.raises(TrajectoryError, match="frame 9 is not in ground truth"):
        associate_kitti(read_kitti(gt_path), read_kitti(est_path))
    est_path.write_text(KITTI_ROW.format(x=0) + "\n")
    with pytest.raises(TrajectoryError, match="has 6, estimate has 1"):
        associate_kitti(read_kitti(gt_path), read_kitti(est_path))


def test_visloc_fields_split_on_spaces_and_tabs_only(tmp_path):
    path = tmp_path / "v.txt"
    path.write_text("a.png\t1 0 0 0  0 0 0 extra\n", encoding="utf-8")
    traj = read_visloc_poses(path)
    assert traj.names == ["a.png"]
    torch.testing.assert_close(traj.poses[0], torch.eye(4, dtype=torch.float64))

