"""Reader edge cases of issue 11 item 5: every text file decoded as UTF-8 with an error naming it, image
sizes checked before decoding, focal-length errors naming their file, files without headers, timestamps
that go back or are all equal, intrinsics.yaml's distortion keys and numbers, empty and interrupted
datasets."""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

import pytest

from posekit.data import load_index
from posekit.data.calibration import read_camera_matrix_txt, read_intrinsics_yaml
from posekit.data.formats import scan_dataset
from posekit.data.imaging import MAX_IMAGE_PIXELS, image_size, read_depth, read_image
from posekit.data.kitti import read_kitti_calib
from posekit.data.verify import SYNTH_COMPLETE_MARKER, SYNTH_INCOMPLETE_MARKER, VerifyLevel
from posekit.errors import DatasetError, FileFormatError, PosekitError

from .layouts import (
    TRAIN_CAMBRIDGE,
    intrinsics_yaml,
    kitti_pose_text,
    pose,
    write_apolloscape_zpark,
    write_cambridge,
    write_kitti_sequence,
    write_sevenscenes,
    write_tum,
)

T0 = 1305031102.0


def _tum(root: Path) -> None:
    rgb = [T0 + 0.033 * i for i in range(4)]
    write_tum(root, rgb, rgb, [(T0 + 0.01 * i, pose(t=(0.01 * i, 0, 0))) for i in range(-2, 15)])
    (root / "intrinsics.yaml").write_text(intrinsics_yaml())


def _sevenscenes(root: Path, matrix: bool = False) -> None:
    k = [[10.0, 0.0, 7.5], [0.0, 10.0, 5.5], [0.0, 0.0, 1.0]]
    write_sevenscenes(root, {1: [pose(t=(0.1 * i, 0, 0)) for i in range(3)]}, train=[1], test=[], camera_matrix=k if matrix else None)


def _kitti(root: Path) -> None:
    write_kitti_sequence(root, 3, cameras=(0,))
    (root / "poses.txt").write_text(kitti_pose_text([pose(t=(0, 0, float(i))) for i in range(3)]))


def _apolloscape(root: Path) -> None:
    write_apolloscape_zpark(root, {"Record001": [("170927_063811892", pose()), ("170927_063812011", pose(t=(1, 0, 0)))]})
    split = root / "trainval_split"
    split.mkdir()
    (split / "train.txt").write_text("Record001/Camera_1/170927_063811892_Camera_1\n")


LAYOUTS = [
    ("tum", _tum, "rgb.txt"),
    ("tum", _tum, "intrinsics.yaml"),
    ("cambridge", lambda r: write_cambridge(r, TRAIN_CAMBRIDGE, {}), "dataset_train.txt"),
    ("cambridge", lambda r: write_cambridge(r, TRAIN_CAMBRIDGE, {}), "reconstruction.nvm"),
    ("apolloscape", _apolloscape, "pose/Record001/Camera_1.txt"),
    ("apolloscape", _apolloscape, "trainval_split/train.txt"),
    ("7scenes", lambda r: _sevenscenes(r, matrix=True), "TrainSplit.txt"),
    ("7scenes", lambda r: _sevenscenes(r, matrix=True), "camera-intrinsics.txt"),
    ("kitti", _kitti, "calib.txt"),
    ("kitti", _kitti, "times.txt"),
    ("kitti", _kitti, "poses.txt"),
]


@pytest.mark.parametrize(("fmt", "make", "name"), LAYOUTS, ids=[f"{f}-{n}" for f, _, n in LAYOUTS])
def test_non_utf8_text_names_the_file(tmp_path, fmt, make, name):
    make(tmp_path)
    load_index(fmt, tmp_path)  # the layout is valid before the corruption
    path = tmp_path / name
    path.write_bytes(path.read_bytes() + b"\n# caf\xe9\n")
    frames, problems = scan_dataset(fmt, tmp_path)
    messages = [str(p) for p in problems]
    assert any(m.startswith(f"{path}:") and "not UTF-8" in m for m in messages), messages


def _png_header(width: int, height: int) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)) + chunk(b"IEND", b"")


@pytest.mark.parametrize("size", [(30000, 30000), (9000, 8000)])  # beyond Pillow's bomb limit; beyond ours only
def test_huge_image_headers_are_refused_before_decoding(tmp_path, size):
    path = tmp_path / "bomb.png"
    path.write_bytes(_png_header(*size))
    assert size[0] * size[1] > MAX_IMAGE_PIXELS
    for read in (image_size, read_image, lambda p: read_depth(p, 0.001)):
        with pytest.raises(FileFormatError) as info:
            read(path)
        assert info.value.path == path and f"more than {MAX_IMAGE_PIXELS}" in str(info.value)


def test_huge_image_in_a_dataset_is_a_problem_naming_it(tmp_path):
    _sevenscenes(tmp_path)
    image = tmp_path / "seq-01" / "frame-000001.color.png"
    image.write_bytes(_png_header(30000, 30000))
    _, problems = scan_dataset("7scenes", tmp_path, VerifyLevel.DECODE)
    assert any(str(p).startswith(str(image)) and "pixels" in str(p) for p in problems), [str(p) for p in problems]


def test_kitti_focal_length_errors_name_calib_txt(tmp_path):
    _kitti(tmp_path)
    calib = tmp_path / "calib.txt"
    calib.write_text(calib.read_text().replace("P0: 7.0", "P0: -7.0", 1).replace("P0: 7.000000000000e+00", "P0: -7.000000000000e+00"))
    with pytest.raises(DatasetError, match=r"calib\.txt: intrinsics: focal lengths must be positive"):
        load_index("kitti", tmp_path)
    calib.write_text("P0: inf 0 7.5 0 0 7 5.5 0 0 0 1 0\n")
    with pytest.raises(FileFormatError, match=r"calib\.txt:1: P0: non-finite value 'inf'"):
        read_kitti_calib(calib)


def test_nvm_focal_length_errors_name_the_file_and_line(tmp_path):
    write_cambridge(tmp_path, TRAIN_CAMBRIDGE, {}, focal=-5.0)
    with pytest.raises(DatasetError, match=r"reconstruction\.nvm:4: focal length -5\.0 of .* is not positive"):
        load_index("cambridge", tmp_path)
    write_cambridge(tmp_path, TRAIN_CAMBRIDGE, {}, focal=float("inf"))
    with pytest.raises(DatasetError, match=r"reconstruction\.nvm:4: .*non-finite"):
        load_index("cambridge", tmp_path)


def test_cambridge_file_without_its_header_keeps_every_pose(tmp_path):
    write_cambridge(tmp_path, TRAIN_CAMBRIDGE, {})
    path = tmp_path / "dataset_train.txt"
    path.write_text("".join(path.read_text().splitlines(keepends=True)[3:]))
    index = load_index("cambridge", tmp_path)
    assert len(index.frames) == len(TRAIN_CAMBRIDGE)
    assert any("no 3-line header" in note for note in index.notes)


def test_decreasing_kitti_times_are_a_problem(tmp_path):
    _kitti(tmp_path)
    (tmp_path / "times.txt").write_text("0.0\n0.2\n0.1\n")
    with pytest.raises(DatasetError, match=r"times\.txt:3: timestamp 0\.1 goes back"):
        load_index("kitti", tmp_path)


def test_all_equal_rgb_timestamps_are_a_problem(tmp_path):
    _tum(tmp_path)
    lines = (tmp_path / "rgb.txt").read_text().splitlines()
    stamp = lines[3].split()[0]
    (tmp_path / "rgb.txt").write_text("\n".join(lines[:3] + [f"{stamp} {line.split()[1]}" for line in lines[3:]]) + "\n")
    with pytest.raises(DatasetError, match=r"rgb\.txt:7: all 4 timestamps are equal"):
        load_index("tum", tmp_path)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("k1: 0.1\n", "k1: 0.1: posekit's pinhole camera has no distortion"),
        ("distortion: [0.0, 0.2, 0, 0]\n", "no distortion"),
        ("depth_sclae: 0.001\n", "unknown key 'depth_sclae'"),
        ("fx: .inf\n", "fx must be a finite number"),
        ("fx: '1_0.5'\n", "fx must be a finite number"),
    ],
)
def test_intrinsics_yaml_refuses_distortion_unknown_keys_and_bad_numbers(tmp_path, text, message):
    path = tmp_path / "intrinsics.yaml"
    base = "".join(line + "\n" for line in intrinsics_yaml().splitlines() if not line.startswith(text.split(":")[0] + ":"))
    path.write_text(base + text)
    with pytest.raises(FileFormatError, match=message):
        read_intrinsics_yaml(path)


def test_intrinsics_yaml_accepts_exponents_and_zero_distortion(tmp_path):
    path = tmp_path / "intrinsics.yaml"
    path.write_text("fx: 5.85e2\nfy: '585'\ncx: 7.5\ncy: 5.5\nwidth: 16\nheight: 12\nk1: 0\ndistortion: [0, 0.0, 0, 0, 0]\n")
    k = read_intrinsics_yaml(path).intrinsics
    assert (k.fx, k.fy) == (585.0, 585.0)


def test_camera_matrix_with_infinite_focal_length_names_file_and_line(tmp_path):
    path = tmp_path / "camera-intrinsics.txt"
    path.write_text("585 0 320\n0 inf 240\n0 0 1\n")
    with pytest.raises(FileFormatError, match=r"camera-intrinsics\.txt:2: camera matrix: non-finite value 'inf'"):
        read_camera_matrix_txt(path)


def test_a_dataset_where_nothing_matched_fails_the_check(tmp_path):
    _tum(tmp_path)
    gt = tmp_path / "groundtruth.txt"
    gt.write_text("# timestamp tx ty tz qx qy qz qw\n1.0 0 0 0 0 0 0 1\n2.0 0 0 0 0 0 0 1\n")  # far from every image
    frames, problems = scan_dataset("tum", tmp_path)
    assert frames == [] and any("no frame found" in str(p) for p in problems)


def test_interrupted_and_finished_synth_outputs(tmp_path):
    _sevenscenes(tmp_path, matrix=True)
    (tmp_path / SYNTH_INCOMPLETE_MARKER).write_text("writing\n")
    _, problems = scan_dataset("7scenes", tmp_path)
    assert any("interrupted `posekit synth` output" in str(p) for p in problems)
    (tmp_path / SYNTH_INCOMPLETE_MARKER).unlink()
    (tmp_path / SYNTH_COMPLETE_MARKER).write_text('{"frames_per_sequence": [3]}\n')
    assert not scan_dataset("7scenes", tmp_path)[1]
    (tmp_path / SYNTH_COMPLETE_MARKER).write_text('{"frames_per_sequence": [5]}\n')
    assert any("3 frames found, but `posekit synth` wrote 5" in str(p) for p in scan_dataset("7scenes", tmp_path)[1])


def test_every_reader_error_is_a_posekit_error(tmp_path):
    """A sanity net: an empty file of each kind never escapes as a non-posekit exception."""
    for fmt, make, name in LAYOUTS:
        root = tmp_path / f"{fmt}-{name.replace('/', '_')}"
        root.mkdir()
        make(root)
        (root / name).write_bytes(b"")
        try:
            scan_dataset(fmt, root)
        except PosekitError:
            pass


def test_pose_statistics_file_that_is_not_utf8_names_the_file(tmp_path):
    from posekit.data.poses import PoseStats

    path = tmp_path / "pose_stats.json"
    path.write_bytes(b'{"mean": [0, 0, 0]\n\xff}')
    with pytest.raises(FileFormatError, match=r"pose_stats\.json:2: not UTF-8"):
        PoseStats.load(path)
