"""The HTML report of a run folder: content, robustness to missing and broken parts, the file formats."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest
import torch

from posekit.errors import FileFormatError
from posekit.metrics.pose_errors import PoseErrors, absolute_pose_errors
from posekit.metrics.trajectory_files import read_tum, write_tum
from posekit.viz.report import RunFolder, build_report_html, read_frame_errors, write_frame_errors, write_report
from posekit.viz.report.html import format_value

from .viz_fixtures import helix_trajectory, make_run_folder, perturbed

SECTIONS = ("configuration", "metrics", "trajectories", "errors", "training", "figures")


@pytest.fixture(scope="module")
def full_run(tmp_path_factory):
    return make_run_folder(tmp_path_factory.mktemp("run") / "demo", helix_trajectory(80))


def _viewer_data(html: str) -> dict:
    match = re.search(r'<script type="application/json" class="viewer-data">(.*?)</script>', html, re.S)
    return json.loads(match.group(1))


def test_full_report_has_every_section_with_its_content(full_run):
    path = write_report(full_run)
    assert path == full_run / "report.html"
    html = path.read_text(encoding="utf-8")
    for anchor in SECTIONS:
        assert f'<section id="{anchor}">' in html
    assert "Omitted" not in html and "Could not read" not in html
    # configuration table and metric tables
    assert "<td>model.backbone</td><td>resnet18</td>" in html
    assert "rpe_trans_m" in html and "recall_5cm_5deg" in html
    # the per-frame statistics agree with the errors of the files
    gt = read_tum(full_run / "eval" / "groundtruth.tum")
    retrieval = read_tum(full_run / "eval" / "retrieval.tum")
    median = float(absolute_pose_errors(gt.poses, retrieval.poses).translation.median())
    row = f"<td>retrieval</td><td class=num>80</td><td class=num>80</td><td class=num>{format_value(median)}</td>"
    assert row in html
    # figures: two trajectory comparisons, the error distributions, the training curves, the run's warp panel
    images = re.findall(r'<img src="data:image/(png|jpeg);base64,', html)
    assert len(images) == 5
    data = _viewer_data(html)
    assert [s["name"] for s in data["series"]] == ["ground truth", "posenet", "retrieval"]  # one shared GT
    assert all(len(s["points"]) == 80 for s in data["series"])
    assert data["labels"] == ["x", "y", "z"]  # the helix rises along z, its least-spread axis


def test_report_is_self_contained(full_run):
    html = build_report_html(full_run)
    assert not re.search(r'(src|href)="(?!data:|#)', html)  # nothing loaded from outside the file
    assert "<link" not in html and "@import" not in html


def test_empty_run_folder_gives_notes_for_every_section(tmp_path):
    html = write_report(tmp_path, tmp_path / "out" / "r.html").read_text(encoding="utf-8")
    assert html.count('class="note">Omitted') == len(SECTIONS)
    assert [p.name for p in (tmp_path / "out").iterdir()] == ["r.html"]


def test_broken_files_become_notes_and_the_rest_is_kept(tmp_path):
    run = make_run_folder(tmp_path / "run", helix_trajectory(20), with_figures=False)
    (run / "config.yaml").write_text("model: [unclosed\n")
    (run / "metrics.json").write_text("{not json")
    (run / "eval" / "posenet.csv").write_text("name,translation_error_m\nx,0.1\n")
    (run / "eval" / "retrieval.tum").write_text("0.0 1 2 3 0 0 0\n")
    (run / "logs" / "posenet" / "version_0" / "metrics.csv").write_text("epoch,step,loss\n0,1,oops\n")
    html = build_report_html(run)
    assert "Could not read" in html
    for name in ("config.yaml", "metrics.json", "posenet.csv", "retrieval.tum", "metrics.csv:2"):
        assert name in html, name
    # posenet's errors still come from its trajectory; its summary table is still there
    assert "<td>posenet</td>" in html and "median_translation_m" in html


def test_method_specific_ground_truth_and_methods_without_one(tmp_path):
    run = tmp_path / "run"
    gt = helix_trajectory(30)
    write_tum(run / "eval" / "vo.tum", perturbed(gt, 0.01, 0.0, seed=4))
    write_tum(run / "eval" / "vo.gt.tum", gt)
    write_tum(run / "eval" / "lonely.tum", gt)
    methods = {m.name: m for m in RunFolder(run).methods()}
    assert set(methods) == {"vo", "lonely"}
    assert methods["vo"].ground_truth.name == "vo.gt.tum" and methods["lonely"].ground_truth is None
    html = build_report_html(run)
    assert "lonely: no ground truth" in html
    assert [s["name"] for s in _viewer_data(html)["series"]] == ["lonely", "ground truth", "vo"]


def test_missing_run_folder_raises(tmp_path):
    with pytest.raises(FileFormatError, match="run folder not found"):
        write_report(tmp_path / "nope")


def test_frame_errors_round_trip(tmp_path):
    errors = PoseErrors(torch.tensor([0.1, float("inf"), 0.0], dtype=torch.float64),
                        torch.tensor([1.5, float("inf"), 0.25], dtype=torch.float64))
    write_frame_errors(tmp_path / "e.csv", errors, ["a.png", "b.png", "c,d.png"])
    read = read_frame_errors(tmp_path / "e.csv")
    assert read.names == ["a.png", "b.png", "c,d.png"]
    np.testing.assert_array_equal(read.translation_m, errors.translation.numpy())
    np.testing.assert_array_equal(read.rotation_deg, errors.rotation_deg.numpy())
    write_frame_errors(tmp_path / "n.csv", errors)
    assert read_frame_errors(tmp_path / "n.csv").names == ["", "", ""]


@pytest.mark.parametrize("text, message", [
    ("", "empty"),
    ("name,translation_error_m\n", "rotation_error_deg"),
    ("translation_error_m,rotation_error_deg\n0.1,x\n", ":2"),
    ("translation_error_m,rotation_error_deg\n0.1\n", ":2"),
    ("translation_error_m,rotation_error_deg\nnan,1\n", "NaN"),
])
def test_bad_frame_error_files(tmp_path, text, message):
    (tmp_path / "e.csv").write_text(text)
    with pytest.raises(FileFormatError, match=message):
        read_frame_errors(tmp_path / "e.csv")
