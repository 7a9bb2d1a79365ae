"""The HTML report of a run folder: content, robustness to missing and broken parts, the file formats."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest
import torch

from posekit.errors import ConfigError, FileFormatError
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


def test_empty_run_folder_gives_one_note_and_no_empty_section(tmp_path):
    html = write_report(tmp_path, tmp_path / "out" / "r.html").read_text(encoding="utf-8")
    assert not any(f'<section id="{anchor}">' in html for anchor in SECTIONS) and "Omitted" not in html
    assert html.count('<section id="empty">') == 1 and "Nothing to report" in html
    assert [p.name for p in (tmp_path / "out").iterdir()] == ["r.html"]


def test_parts_without_files_are_left_out(tmp_path):
    run = make_run_folder(tmp_path / "run", helix_trajectory(20), with_figures=False)
    html = build_report_html(run)
    assert '<section id="figures">' not in html and "Figures" not in html and "Omitted" not in html
    assert '<section id="trajectories">' in html


def test_tables_fit_and_columns_are_not_repeated(tmp_path):
    run = make_run_folder(tmp_path / "run", helix_trajectory(20), with_figures=False)
    summary = json.loads((run / "eval" / "posenet.json").read_text())
    (run / "eval" / "posenet.json").write_text(json.dumps({"method": "posenet", **summary}))  # as evaluations write it
    html = build_report_html(run)
    for header in re.findall(r"<thead><tr>(.*?)</tr></thead>", html):
        names = re.findall(r"<th>(.*?)</th>", header)
        assert len(names) == len(set(names)), names
    assert html.count('<div class="table-wrap"><table') == html.count("<table")  # every table scrolls in its box
    assert ".table-wrap { max-width: 100%; overflow-x: auto;" in html and "overflow-wrap: anywhere" in html


def test_config_table_lists_only_the_options_that_are_set(tmp_path):
    run = make_run_folder(tmp_path / "run", helix_trajectory(20), with_figures=False)
    (run / "config.yaml").write_text("split: auto\nval_frames: null\ncameras: null\nlr: 0.001\n")
    html = build_report_html(run)
    table = re.search(r'<table class="config">(.*?)</table>', html, re.S).group(1)
    assert "<td>lr</td>" in table and "<td>split</td>" in table
    assert "val_frames" not in table and "cameras" not in table
    assert "val_frames: null" in html  # the whole file is still there, folded


def test_comparison_report_of_two_runs(tmp_path):
    first = make_run_folder(tmp_path / "a" / "run", helix_trajectory(20), with_figures=False)
    second = make_run_folder(tmp_path / "b" / "run", helix_trajectory(20), with_figures=False)
    (second / "config.yaml").write_text((second / "config.yaml").read_text().replace("lr: 0.0003", "lr: 0.001"))
    with pytest.raises(ConfigError, match="--out"):
        write_report([first, second])
    html = write_report([first, second], tmp_path / "cmp.html").read_text(encoding="utf-8")
    table = re.search(r'<table class="config">(.*?)</table>', html, re.S).group(1)
    assert re.findall(r"<th>(.*?)</th>", table) == ["option", "a/run", "b/run"]
    assert "<td>training.lr</td><td class=num>0.0003</td><td class=num>0.001</td>" in table
    assert "model.backbone" not in table  # equal in both runs
    names = [s["name"] for s in _viewer_data(html)["series"]]
    assert names == ["ground truth", "a/run/posenet", "a/run/retrieval", "b/run/posenet", "b/run/retrieval"]
    assert "<td>a/run/posenet</td>" in html and "<td>b/run/retrieval</td>" in html
    assert html.count("a/run/logs/posenet/version_0/metrics.csv") >= 1 and "b/run/logs/posenet" in html


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
