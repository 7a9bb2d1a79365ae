"""Property-based tests of the trajectory parsers (issue 11 item 7): on any text, every reader gives the
right trajectory or a FileFormatError naming the file and a line that exists, never another exception
and never a non-finite number. Deterministic (derandomize) and small, so CI runs the same cases."""

from __future__ import annotations

import re

import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from posekit.errors import FileFormatError
from posekit.geometry import axis_angle_to_matrix, make_pose
from posekit.metrics.trajectory import Trajectory
from posekit.metrics.trajectory_files import (
    read_euroc_csv,
    read_kitti,
    read_kitti_times,
    read_pose_matrix_file,
    read_tum,
    read_visloc_poses,
    write_tum,
)

FUZZ = settings(
    max_examples=60, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
READERS = [read_tum, read_kitti, read_kitti_times, read_euroc_csv, read_visloc_poses, read_pose_matrix_file]

# Tokens chosen to hit the grammar's edges: valid numbers, what Python's float() accepts and strtod does not,
# non-finite spellings, huge values, odd white space and line breaks, names.
TOKENS = st.sampled_from([
    "0", "1", "-1", "0.5", ".5", "1.", "1e3", "-2.5E-3", "0x1p-2", "1e200", "1e400", "-0", "1000000000000001",
    "1_3", "\uff11", "\u0663", "1,5", "nan", "inf", "-Infinity", "NaN(1)", "", "#", "# c", "a.png", "x",
    "\f", "\v", "\u2028", "\x85", "\x1c", "\t", " ", ",", "0.7071067811865476", "0.7071067811865475",
])
BREAKS = st.sampled_from(["\n", "\r\n", "\r"])


def _physical_lines(data: bytes) -> int:
    return len(re.split(rb"\r\n|\r|\n", data))


@st.composite
def fuzz_files(draw) -> bytes:
    lines = draw(st.lists(st.lists(TOKENS, max_size=14).map(" ".join), min_size=0, max_size=8))
    text = draw(BREAKS).join(lines)
    data = text.encode("utf-8")
    if draw(st.booleans()) and data:
        position = draw(st.integers(0, len(data)))
        data = data[:position] + draw(st.sampled_from([b"\xff", b"\xc3", b"\xe9", b"\x00"])) + data[position:]
    return data


def _check_result(traj, path):
    if isinstance(traj, torch.Tensor):  # read_kitti_times, read_pose_matrix_file
        assert bool(torch.isfinite(traj).all()), path
        return
    assert isinstance(traj, Trajectory)
    assert bool(torch.isfinite(traj.poses).all())
    if traj.timestamps is not None:
        assert bool(torch.isfinite(traj.timestamps).all())
        assert bool((traj.timestamps[1:] >= traj.timestamps[:-1]).all())


@FUZZ
@given(data=fuzz_files())
def test_every_reader_gives_a_trajectory_or_an_error_naming_an_existing_line(tmp_path_factory, data):
    path = tmp_path_factory.mktemp("fuzz") / "traj.txt"
    path.write_bytes(data)
    for reader in READERS:
        try:
            result = reader(path)
        except FileFormatError as error:
            assert error.path == path
            assert error.line is None or 1 <= error.line <= _physical_lines(data), (reader.__name__, str(error))
            assert "\n" not in str(error)
        else:
            _check_result(result, path)


@st.composite
def trajectories(draw) -> Trajectory:
    n = draw(st.integers(1, 6))
    rotvecs = draw(st.lists(st.tuples(*[st.floats(-3.0, 3.0)] * 3), min_size=n, max_size=n))
    positions = draw(st.lists(st.tuples(*[st.floats(-1e6, 1e6)] * 3), min_size=n, max_size=n))
    start = draw(st.floats(0.0, 2e9))
    steps = draw(st.lists(st.floats(1e-3, 10.0), min_size=n, max_size=n))
    stamps = torch.tensor([start + sum(steps[: i + 1]) for i in range(n)], dtype=torch.float64)
    poses = make_pose(axis_angle_to_matrix(torch.tensor(rotvecs, dtype=torch.float64)), torch.tensor(positions, dtype=torch.float64))
    return Trajectory(poses, stamps)


@FUZZ
@given(traj=trajectories(), breaks=BREAKS, comment=st.sampled_from(["", "# a\fb\u2028c\x85d", "#\v"]),
       blank=st.sampled_from([" ", "\t", " \t "]))
def test_tum_files_with_any_line_breaks_blanks_and_comments_read_back_exactly(tmp_path_factory, traj, breaks, comment, blank):
    folder = tmp_path_factory.mktemp("tum")
    write_tum(folder / "clean.txt", traj)
    lines = (folder / "clean.txt").read_text().splitlines()
    mangled = [comment] + [blank + blank.join(line.split(" ")) + blank for line in lines]
    (folder / "mangled.txt").write_bytes(breaks.join(mangled).encode("utf-8"))
    back = read_tum(folder / "mangled.txt")
    assert torch.equal(back.timestamps, read_tum(folder / "clean.txt").timestamps)
    torch.testing.assert_close(back.poses, traj.poses, rtol=0, atol=1e-9)
