"""Result figures: trajectories coloured by error, error distributions, depth beside sensor depth."""

from __future__ import annotations

import imageio.v2 as iio
import numpy as np
import pytest
import torch

from posekit.errors import ShapeError, TrajectoryError
from posekit.metrics.pose_errors import absolute_pose_errors
from posekit.metrics.sync import associate_trajectories
from posekit.metrics.trajectory_files import read_tum
from posekit.viz.canvas import figure_to_array
from posekit.viz.depth import plot_depth_comparison, save_depth_comparison_png
from posekit.viz.error_plots import (
    ErrorSeries,
    cumulative_curve,
    plot_error_distributions,
    save_error_distributions_png,
)
from posekit.viz.ground import DisplayUpAxis
from posekit.viz.trajectories import plot_trajectory_comparison, save_trajectory_comparison_png

from .viz_fixtures import helix_trajectory, perturbed


def test_real_trajectory_comparison(trajectories_dir, tmp_path):
    folder = trajectories_dir / "evo_test_data"
    gt = read_tum(folder / "fr2_desk_groundtruth.txt")
    est = read_tum(folder / "fr2_desk_ORB.txt")
    gt, est = associate_trajectories(gt, est)
    gt, est = gt.subset(range(0, len(gt), 5)), est.subset(range(0, len(est), 5))
    path = save_trajectory_comparison_png(tmp_path / "traj.png", gt, est, title="ORB-SLAM2 fr2/desk")
    height, width = iio.imread(path).shape[:2]
    assert width > 1000 and height > 400


def test_trajectory_comparison_edge_cases():
    gt = helix_trajectory(40)
    pred = perturbed(gt, 0.05, 0.02, seed=0)
    errors = absolute_pose_errors(gt.poses, pred.poses).rotation_deg
    errors[3] = float("inf")  # a frame without estimate is drawn grey, not an exception
    figure = plot_trajectory_comparison(gt, pred, errors=errors, up=DisplayUpAxis.Z, error_label="rotation error [deg]")
    assert figure_to_array(figure).shape[2] == 3
    one = plot_trajectory_comparison(gt.subset([0]), pred.subset([0]))
    assert figure_to_array(one).shape[0] > 300
    with pytest.raises(TrajectoryError, match="associated"):
        plot_trajectory_comparison(gt, pred.subset(range(10)))
    with pytest.raises(ShapeError, match="errors"):
        plot_trajectory_comparison(gt, pred, errors=np.zeros(3))


def test_cumulative_curve_counts_missing_frames_in_the_denominator():
    x, y = cumulative_curve(np.array([0.3, 0.1, np.inf, 0.2]), limit=1.0)
    assert x[0] == 0.0 and y[0] == 0.0
    assert x[-1] == 1.0 and y[-1] == 0.75  # three of four frames localised
    # the curve reaches 0.25 at 0.1, 0.5 at 0.2
    assert y[np.searchsorted(x, 0.1, side="right") - 1] == 0.25
    assert y[np.searchsorted(x, 0.2, side="right") - 1] == 0.5
    x, y = cumulative_curve(np.array([np.inf]), limit=2.0)
    assert y.max() == 0.0


def test_error_distributions(tmp_path):
    rng = np.random.default_rng(0)
    good = ErrorSeries("posenet", rng.gamma(2, 0.05, 200), rng.gamma(2, 1.0, 200))
    translation = rng.gamma(2, 0.1, 200)
    translation[:10] = np.inf
    bad = ErrorSeries("retrieval", translation, np.where(np.isinf(translation), np.inf, rng.gamma(2, 3.0, 200)))
    path = save_error_distributions_png(tmp_path / "errors.png", [good, bad], "two methods")
    assert iio.imread(path).shape[1] > 800
    edge = [ErrorSeries("one", [0.1], [1.0]), ErrorSeries("empty", [], []), ErrorSeries("missing", [np.inf], [np.inf]),
            ErrorSeries("zero", [0.0, 0.0], [0.0, 0.0])]
    assert figure_to_array(plot_error_distributions(edge)).shape[2] == 3
    errors = absolute_pose_errors(helix_trajectory(5).poses, helix_trajectory(5).poses)
    assert ErrorSeries.from_pose_errors("perfect", errors).translation_m.tolist() == [0.0] * 5


def test_error_series_checks_shapes():
    with pytest.raises(ShapeError, match="lengths differ"):
        ErrorSeries("x", [0.1, 0.2], [1.0])
    with pytest.raises(ShapeError, match=r"\(N,\)"):
        ErrorSeries("x", np.zeros((2, 2)), np.zeros((2, 2)))
    with pytest.raises(ShapeError, match="at least one"):
        plot_error_distributions([])


def _depth_batch(batch: int = 2, height: int = 24, width: int = 32):
    rows = torch.linspace(1.0, 3.0, height)[:, None].expand(height, width)
    sensor = rows.expand(batch, 1, height, width).clone()
    sensor[:, :, :4, :] = 0.0  # unknown
    return sensor


def test_depth_comparison(tmp_path):
    sensor = _depth_batch()
    predicted = torch.nn.functional.avg_pool2d(sensor.clamp(min=1.0), 2) * 1.1  # half resolution, 10 % too far
    images = torch.rand(2, 3, 24, 32)
    path = save_depth_comparison_png(tmp_path / "depth.png", predicted, sensor_depth=sensor, images=images)
    assert iio.imread(path).shape[1] > 800
    alone = plot_depth_comparison(predicted[:1])
    assert figure_to_array(alone).shape[2] == 3
    no_sensor_values = plot_depth_comparison(predicted[0], sensor_depth=torch.zeros(1, 24, 32))
    assert figure_to_array(no_sensor_values).shape[2] == 3
    with pytest.raises(ShapeError, match="batch size"):
        plot_depth_comparison(predicted, sensor_depth=sensor[:1])
    with pytest.raises(ShapeError):
        plot_depth_comparison(torch.rand(2, 3, 8, 8))
