"""What a localisation run writes for its report (ground truth, render-and-compare panels) and the report of such
a run and of its map, on the small real 7-Scenes map."""

from __future__ import annotations

import json
import math

import imageio.v3 as iio
import numpy as np
import pytest
import torch

from posekit.geometry.lie import se3_exp
from posekit.localization import Localizer, LocalizerConfig, Refinement, localize_frames
from posekit.localization.report_files import choose_panel_frames, render_at
from posekit.metrics.trajectory_files import read_tum
from posekit.viz.ground import to_display_frame
from posekit.viz.render_compare import GAP_PX, NO_SURFACE_RGB, panel_parts
from posekit.viz.report import write_report
from posekit.viz.report.map_report import camera_up_axis
from posekit.viz.report.viewer import decode_cloud
from tests.conftest import invoke, require_real_data
from tests.mapping.small_map import sevenscenes_frames
from tests.viz.test_map_report import viewer_data

QUERIES = "9-11,50"  # three among the map's frames (0-39) and one beyond them


def test_panel_frames_are_best_median_worst_and_a_flagged_one():
    errors = np.array([0.3, 0.01, 0.02, np.inf, 0.05])
    success = np.array([True, True, True, True, False])
    chosen = choose_panel_frames(errors, success)
    assert chosen == [(1, "best translation error"), (4, "median translation error"), (3, "worst translation error")]
    success[4] = True
    success[0] = False
    assert chosen_indices(choose_panel_frames(errors, success)) == [1, 4, 3, 0]  # the flagged frame is added


def test_panel_frames_without_ground_truth_are_evenly_spaced():
    assert chosen_indices(choose_panel_frames(None, np.ones(9, bool))) == [0, 4, 8]
    assert chosen_indices(choose_panel_frames(None, np.ones(2, bool))) == [0, 1]
    assert choose_panel_frames(None, np.ones(0, bool)) == []


def chosen_indices(chosen):
    return [i for i, _ in chosen]


@pytest.fixture(scope="module")
def data():
    return require_real_data("7scenes_redkitchen_seq01")


@pytest.fixture(scope="module")
def localize_run(small_map, data, tmp_path_factory):
    out = tmp_path_factory.mktemp("run")
    localize_frames(Localizer(small_map, LocalizerConfig(refine=Refinement.PNP, top_k=4)), sevenscenes_frames(data, QUERIES), out)
    return out


def _shifted(T_world_depth: torch.Tensor, metres: float, degrees: float) -> torch.Tensor:
    return T_world_depth @ se3_exp(torch.tensor([metres, 0, 0, 0, math.radians(degrees), 0], dtype=torch.float64))


def test_difference_is_zero_at_the_rendered_pose_and_large_at_a_wrong_one(small_map):
    T = small_map.keyframes.T_world_depth[2]
    query = small_map.renderer().render(small_map.calibration.T_world_colour(T), small_map.colour_intrinsics).colour
    same = render_at(small_map, query, T)
    h, w = small_map.size.hw
    assert same.panel.shape == (h, 3 * w + 2 * GAP_PX, 3) and same.panel.dtype == np.uint8
    assert same.coverage > 0.5 and same.mean_abs_difference < 1e-6
    _, rendering, difference = panel_parts(same.panel)
    covered = ~np.all(difference == NO_SURFACE_RGB, axis=2)
    assert covered.mean() == pytest.approx(same.coverage) and difference[covered].max() <= 1
    assert np.array_equal(rendering, panel_parts(same.panel)[0])  # query = rendering
    # measured: 0.088 at 5 cm, 0.20 at 10 cm and 5 deg
    assert render_at(small_map, query, _shifted(T, 0.05, 0.0)).mean_abs_difference > 0.05
    assert render_at(small_map, query, _shifted(T, 0.10, 5.0)).mean_abs_difference > 0.12


def test_real_query_matches_the_map_at_its_true_pose_not_at_a_wrong_one(small_map, data):
    frame = sevenscenes_frames(data, "8")[0]
    from posekit.mapping.frames import load_colour

    query = load_colour(frame, small_map.size.hw)[None]
    right = render_at(small_map, query, frame.T_world_cam).mean_abs_difference
    wrong = render_at(small_map, query, _shifted(frame.T_world_cam, 0.10, 5.0)).mean_abs_difference
    assert right < 0.04 and wrong > 3 * right  # measured 0.023 and 0.154


def test_localize_run_writes_ground_truth_and_panels(localize_run, small_map, data):
    frames = sevenscenes_frames(data, QUERIES)
    truth = read_tum(localize_run / "groundtruth_frames.tum")
    assert torch.allclose(truth.poses, torch.stack([f.T_world_cam for f in frames]).double(), atol=1e-6)
    index = json.loads((localize_run / "panels" / "panels.json").read_text())["panels"]
    assert [e["label"].split()[0] for e in index][:3] == ["best", "median", "worst"]
    h, w = small_map.size.hw
    for entry in index:
        panel = iio.imread(localize_run / entry["file"])
        assert panel.shape == (h, 3 * w + 2 * GAP_PX, 3)
        assert 0 <= entry["mean_abs_difference"] < 0.1 and entry["coverage"] > 0.3


def test_report_of_the_run_shows_map_trajectories_and_panels(localize_run, small_map):
    html = write_report(localize_run).read_text(encoding="utf-8")
    for anchor in ("localization", "trajectories", "errors", "panels"):
        assert f'<section id="{anchor}">' in html
    data = viewer_data(html, "trajectory-viewer")
    up = camera_up_axis(small_map.keyframes.T_world_depth.numpy())
    names = [s["name"] for s in data["series"]]
    assert names == ["keyframe cameras", "ground truth (frames)", "estimated (frames)"]
    truth = to_display_frame(read_tum(localize_run / "groundtruth_frames.tum").positions, up)[0]
    estimate = to_display_frame(read_tum(localize_run / "poses_frames.tum").positions, up)[0]
    assert np.allclose(data["series"][1]["points"], truth, atol=1e-4)
    assert np.allclose(data["series"][2]["points"], estimate, atol=1e-4)
    cloud = data["clouds"][0]
    assert cloud["count"] == small_map.manifest["mesh"]["vertices"]  # under the limit: every vertex
    assert len(decode_cloud(cloud)[0]) == cloud["count"]
    assert html.count('<img src="data:image/png;base64,') == 1 + 3  # the error plot and three panels
    assert "Map: " in html and "no map surface" in html


def test_report_of_the_map_folder(small_map):
    result = invoke("report", small_map.folder, "--out", small_map.folder.parent / "map.html")
    assert result.exit_code == 0, result.output
    html = (small_map.folder.parent / "map.html").read_text(encoding="utf-8")
    data = viewer_data(html, "map-viewer")
    up = camera_up_axis(small_map.keyframes.T_world_depth.numpy())
    cameras = to_display_frame(small_map.keyframes.T_world_depth[:, :3, 3].numpy(), up)[0]
    assert np.allclose(data["series"][0]["points"], cameras, atol=1e-4)
    assert len(data["segments"][0]["lines"]) == 8 * len(cameras)
    assert "<td>calibration.colour.fx</td><td class=num>525</td>" in html
    assert "<td>voxel_size_m</td><td class=num>0.02</td>" in html and "libraries.open3d" in html
