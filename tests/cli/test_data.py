"""``posekit data info`` and ``posekit data check``."""

from __future__ import annotations

import json

from tests.conftest import invoke
from tests.data.layouts import kitti_pose_text, pose, write_kitti_sequence, write_sevenscenes

K = [[20.0, 0.0, 7.5], [0.0, 20.0, 5.5], [0.0, 0.0, 1.0]]


def _run(*args):
    return invoke("data", *args)


def test_info_json_on_real_excerpt(sevenscenes_dir):
    result = _run("info", "frames", str(sevenscenes_dir), "--json")
    assert result.exit_code == 0, result.output
    info = json.loads(result.stdout)
    assert info["frames"] == 1000 and info["records"] == {"frames": 1000}  # the whole of seq-01 (SOURCE.md)
    assert info["splits"] == {"train": 800, "test": 200} and info["split_source"] == "generated-by-time"
    assert info["split_frames"] == {"frames": {"train": [{"positions": [0, 799], "numbers": [0, 799], "count": 800}],
                                              "test": [{"positions": [800, 999], "numbers": [800, 999], "count": 200}]}}
    assert info["has_depth"] is True and info["has_timestamps"] is False
    assert info["intrinsics"]["cam0"]["fx"] == 585.0


def test_info_text_official_split(tmp_path):
    write_sevenscenes(tmp_path, {1: [pose()] * 2, 2: [pose()] * 3}, train=[1], test=[2], camera_matrix=K)
    result = _run("info", "7scenes", str(tmp_path))
    assert result.exit_code == 0, result.output
    assert "Split: auto (official): train 2, test 3" in result.output and "Depth: yes" in result.output
    assert "seq-01: train 2: 0-1" in result.output and "seq-02: test 3: 0-2" in result.output


def test_info_shows_the_frames_of_each_split_per_record(tmp_path):
    """--split blocks:10:5 on two 50-frame records: per record, test frames 20-29 between training frames."""
    for name in ("00", "01"):
        write_kitti_sequence(tmp_path / "sequences" / name, 50, cameras=(0,))
    (tmp_path / "poses").mkdir()
    for name in ("00", "01"):
        (tmp_path / "poses" / f"{name}.txt").write_text(kitti_pose_text([pose()] * 50))
    result = _run("info", "kitti", str(tmp_path), "--split", "blocks:10:5")
    assert result.exit_code == 0, result.output
    assert "Split: blocks:10:5 (generated-by-blocks): train 80, test 20" in result.output
    assert result.output.count("train 40: 0-19, 30-49; test 10: 20-29") == 2
    assert _run("info", "kitti", str(tmp_path), "--split", "blocks:10").exit_code == 2


def test_check_lists_every_problem(tmp_path):
    write_kitti_sequence(tmp_path, 4, cameras=(0,))
    (tmp_path / "poses.txt").write_text(kitti_pose_text([pose()] * 4))
    assert _run("check", "kitti", str(tmp_path)).output.startswith("OK: 4 frames")
    (tmp_path / "image_0" / "000001.png").write_bytes(b"garbage")
    (tmp_path / "image_0" / "000003.png").unlink()
    result = _run("check", "kitti", str(tmp_path))
    assert result.exit_code == 2
    lines = result.output.splitlines()
    assert any("000001.png: cannot read image header" in line for line in lines)
    assert any("poses.txt: 4 poses for 3 images" in line for line in lines)
    assert "posekit: error: 2 problem(s) found" in result.output and "(2 of 3 frames usable)" in result.output


def test_bad_format_name_and_missing_folder(tmp_path):
    assert _run("info", "nuscenes", str(tmp_path)).exit_code == 2
    result = _run("info", "tum", str(tmp_path / "nowhere"))
    assert result.exit_code == 2 and "dataset folder not found" in result.output
