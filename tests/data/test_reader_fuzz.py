"""Property-based tests of the dataset text parsers (issue 11 item 7): split files, list files, pose files,
calibration and intrinsics files. On any content each gives its values or problems / a FileFormatError
naming the file and an existing line, never another exception type and never a non-finite number."""

from __future__ import annotations

import math
import re
from pathlib import Path

import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from posekit.data.apolloscape import _parse_road_line, _parse_zpark_line, _read_pose_file, _read_splits
from posekit.data.calibration import read_camera_matrix_txt, read_intrinsics_yaml
from posekit.data.cambridge import _read_split_file, read_nvm_focal_lengths
from posekit.data.kitti import read_kitti_calib
from posekit.data.problems import ProblemLog
from posekit.data.records import Split
from posekit.data.sevenscenes import _read_split_files
from posekit.data.tum_rgbd import read_stamped_list
from posekit.errors import FileFormatError

FUZZ = settings(
    max_examples=50, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
TOKENS = st.sampled_from([
    "0", "1", "-1", "2.5", "1e3", ".5", "0x1p3", "1e400", "1_0", "\uff11", "nan", "inf", "-inf", "sequence1",
    "sequence02", "seq-01", "Record001/Camera_1/170927_063811892_Camera_1", "a/b", "P0:", "P2:", "Tr:", "NVM_V3",
    "seq1/frame00001.png", "rgb/1.0.png", "0,0,0,1,2,3", "1,2", "#", "\f", "\u2028", "\x85", "", "x", ":",
    "fx:", "fy:", "cx:", "cy:", "width:", "height:", "depth_scale:", "k1:", "[0, 0]", "'5.85e2'", "{", "-",
])


def _lines(data: bytes) -> int:
    return len(re.split(rb"\r\n|\r|\n", data))


@st.composite
def fuzz_text(draw) -> bytes:
    lines = draw(st.lists(st.lists(TOKENS, max_size=13).map(" ".join), max_size=7))
    data = draw(st.sampled_from(["\n", "\r\n", "\r"])).join(lines).encode("utf-8")
    if draw(st.booleans()) and data:
        at = draw(st.integers(0, len(data)))
        data = data[:at] + draw(st.sampled_from([b"\xff", b"\xc3", b"\x80"])) + data[at:]
    return data


def _check_problems(problems: ProblemLog, path: Path, data: bytes) -> None:
    for problem in problems:
        assert problem.path == path, str(problem)
        assert problem.line is None or 1 <= problem.line <= _lines(data), str(problem)
        assert "\n" not in problem.message


def _finite(values) -> bool:
    if isinstance(values, torch.Tensor):
        return bool(torch.isfinite(values).all())
    return all(math.isfinite(v) for v in values)


@FUZZ
@given(data=fuzz_text())
def test_split_list_and_pose_files(tmp_path_factory, data):
    root = tmp_path_factory.mktemp("reader")
    files = {
        "TrainSplit.txt": lambda p, log: _read_split_files(root, log),
        "trainval_split/train.txt": lambda p, log: _read_splits(root, log),
        "dataset_train.txt": lambda p, log: [_finite(pose) for _, pose, _, _ in _read_split_file(p, Split.TRAIN, log)],
        "reconstruction.nvm": lambda p, log: [_finite([f]) for f in read_nvm_focal_lengths(p, log).values()],
        "rgb.txt": lambda p, log: [_finite([e.stamp]) for e in read_stamped_list(p, log)],
        "Camera_1.txt": lambda p, log: [_finite(pose) for pose, _ in _read_pose_file(p, _parse_zpark_line, log).values()],
        "pose.txt": lambda p, log: [_finite(pose) for pose, _ in _read_pose_file(p, _parse_road_line, log).values()],
    }
    for name, read in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        problems = ProblemLog()
        result = read(path, problems)
        if isinstance(result, list):
            assert all(result), name
        _check_problems(problems, path, data)
        path.unlink()


@FUZZ
@given(data=fuzz_text())
def test_calibration_files(tmp_path_factory, data):
    root = tmp_path_factory.mktemp("calib")
    for name, read in (
        ("calib.txt", lambda p: [m for m in read_kitti_calib(p).values()]),
        ("camera-intrinsics.txt", lambda p: [torch.tensor(read_camera_matrix_txt(p))]),
        ("intrinsics.yaml", lambda p: [torch.tensor([read_intrinsics_yaml(p).intrinsics.fx])]),
    ):
        path = root / name
        path.write_bytes(data)
        try:
            values = read(path)
        except FileFormatError as error:
            assert error.path == path and (error.line is None or 1 <= error.line <= _lines(data)), str(error)
        else:
            assert all(_finite(v) for v in values), name


YAML_VALUES = st.sampled_from(["10", "5.85e2", "'585'", ".inf", "-1", "0", "1_0", "yes", "null", "[1, 2]", "7.5",
                               "16", "12", "16.0", "16.5", "1e400", "nan", "'x'", "0.001", "{a: 1}"])
YAML_KEYS = st.sampled_from(["fx", "fy", "cx", "cy", "width", "height", "depth_scale", "k1", "distortion", "D", "fz"])


@FUZZ
@given(entries=st.lists(st.tuples(YAML_KEYS, YAML_VALUES), max_size=9))
def test_intrinsics_yaml_values(tmp_path_factory, entries):
    path = tmp_path_factory.mktemp("yaml") / "intrinsics.yaml"
    base = {"fx": "10", "fy": "10", "cx": "7.5", "cy": "5.5", "width": "16", "height": "12"}
    base.update(dict(entries))
    path.write_text("".join(f"{k}: {v}\n" for k, v in base.items()))
    try:
        calibration = read_intrinsics_yaml(path)
    except FileFormatError as error:
        assert error.path == path
    else:
        k = calibration.intrinsics
        assert all(math.isfinite(v) for v in (k.fx, k.fy, k.cx, k.cy)) and k.fx > 0 and k.fy > 0
        assert isinstance(k.width, int) and isinstance(k.height, int)
        assert calibration.depth_scale is None or (math.isfinite(calibration.depth_scale) and calibration.depth_scale > 0)
