"""``posekit synth``: determinism, readable by the dataset readers, clear errors."""

from __future__ import annotations

import json

import numpy as np
import pytest
import trimesh
from tests.conftest import invoke, message_lines


def _tree(folder):
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


TINY = ("--frames", 4, "--size", "48x64", "--sequences", 2)


@pytest.mark.parametrize(
    "extra",
    [
        ("--scene", "room", "--trajectory", "handheld", "--format", "7scenes", "--realistic"),
        ("--scene", "street", "--trajectory", "driving", "--fps", 10, "--format", "tum"),
    ],
    ids=["room-7scenes-realistic", "street-tum"],
)
def test_same_arguments_and_seed_give_byte_identical_files(tmp_path, extra):
    runs = []
    for name in ("a", "b"):
        result = invoke("synth", *TINY, "--seed", 3, *extra, "--out", tmp_path / name)
        assert result.exit_code == 0, result.output
        runs.append(_tree(tmp_path / name))
    assert runs[0] == runs[1]
    assert sum(name.endswith(".png") for name in runs[0]) == 2 * 2 * 4  # colour + depth, 2 sequences x 4
    other = invoke("synth", *TINY, "--seed", 4, *extra, "--out", tmp_path / "c")
    assert other.exit_code == 0
    assert _tree(tmp_path / "c") != runs[0]


def test_data_info_reports_the_frames_asked_for(tmp_path):
    out = tmp_path / "room"
    result = invoke("synth", "--frames", 5, "--size", "48x64", "--sequences", 3, "--out", out)
    assert result.exit_code == 0, result.output
    assert "3 sequence(s), 15 frames" in result.output
    info = invoke("data", "info", "7scenes", out, "--json")
    assert info.exit_code == 0, info.output
    facts = json.loads(info.stdout)
    assert facts["frames"] == 15
    assert facts["records"] == {"seq-01": 5, "seq-02": 5, "seq-03": 5}
    assert facts["splits"] == {"train": 10, "test": 5}
    assert facts["has_depth"] is True and facts["problems"] == []
    k = facts["intrinsics"]["cam0"]
    assert (k["width"], k["height"], k["cx"], k["cy"]) == (64, 48, 31.5, 23.5)
    check = invoke("data", "check", "7scenes", out)
    assert check.exit_code == 0, check.output


def test_tum_output_passes_the_dataset_check(tmp_path):
    out = tmp_path / "tum"
    assert invoke("synth", "--frames", 3, "--size", "36x48", "--format", "tum", "--out", out).exit_code == 0
    info = json.loads(invoke("data", "info", "tum", out, "--json").stdout)
    assert info["frames"] == 3 and info["has_timestamps"] is True
    assert invoke("data", "check", "tum", out).exit_code == 0


def test_mesh_scene_from_the_command_line(tmp_path):
    mesh = trimesh.creation.icosphere(subdivisions=2, radius=0.5)
    mesh.visual.vertex_colors = np.tile([40, 160, 90, 255], (len(mesh.vertices), 1))
    mesh.export(tmp_path / "ball.ply")
    result = invoke("synth", "--mesh", tmp_path / "ball.ply", "--trajectory", "orbit", "--frames", 3,
                  "--size", "36x48", "--out", tmp_path / "out")
    assert result.exit_code == 0, result.output
    meta = json.loads((tmp_path / "out" / "posekit-synth.json").read_text())
    assert meta["config"]["scene"] == "mesh" and meta["config"]["trajectory"] == "orbit"


@pytest.mark.parametrize(
    "args, message",
    [
        (("--size", "64by48"), "expected a size HxW"),
        (("--size", "320,240"), "expected a size HxW"),
        (("--trajectory", "driving"), "road"),
    ],
)
def test_bad_requests_give_a_one_line_error_and_exit_code_2(tmp_path, args, message):
    result = invoke("synth", "--frames", 2, *args, "--out", tmp_path / "out")
    assert result.exit_code == 2
    lines = message_lines(result)
    assert len(lines) == 1 and message in lines[0]


def test_refuses_to_write_into_a_folder_that_is_not_empty(tmp_path):
    (tmp_path / "keep.txt").write_text("mine")
    result = invoke("synth", "--frames", 2, "--size", "24x32", "--out", tmp_path)
    assert result.exit_code == 2 and "not empty" in result.output
    assert [p.name for p in tmp_path.iterdir()] == ["keep.txt"]
