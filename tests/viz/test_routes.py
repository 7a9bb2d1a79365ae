"""Dataset views: routes of one or all records with a sampled frame."""

from __future__ import annotations

import imageio.v2 as iio
import matplotlib as mpl
import numpy as np
import pytest
import torch

from posekit.errors import ShapeError
from posekit.viz.canvas import figure_to_array
from posekit.viz.ground import DisplayUpAxis
from posekit.viz.routes import RecordRoute, SampleFrame, plot_routes, save_routes_png
from posekit.viz.style import series_colour

from .viz_fixtures import helix_trajectory


def _has_colour(pixels: np.ndarray, colour: str, tolerance: int = 10, at_least: int = 20) -> bool:
    rgb = np.array([round(255 * c) for c in mpl.colors.to_rgb(colour)])
    return int((np.abs(pixels.astype(int) - rgb).max(axis=-1) <= tolerance).sum()) >= at_least


def _records():
    traj = helix_trajectory(60)
    shifted = traj.positions + torch.tensor([0.0, 0.0, 0.5], dtype=torch.float64)
    return [RecordRoute("Record001", traj.positions), RecordRoute("Record002", shifted.numpy())]


def test_all_records_get_their_colours_and_the_sample_is_shown(tmp_path):
    sample_image = np.zeros((30, 40, 3), dtype=np.uint8)
    sample_image[..., 1] = 200  # a green frame
    path = save_routes_png(tmp_path / "routes.png", _records(), SampleFrame("Record002", 10, sample_image, "img.png"))
    pixels = iio.imread(path)[..., :3]
    assert pixels.shape[1] > pixels.shape[0] > 300  # the route and the frame side by side
    assert _has_colour(pixels, series_colour(0)) and _has_colour(pixels, series_colour(1))
    assert _has_colour(pixels, "#00c800", at_least=500)  # the sampled frame


def test_one_record_without_sample():
    pixels = figure_to_array(plot_routes(_records()[:1], up=DisplayUpAxis.Z))
    assert _has_colour(pixels, series_colour(0))
    assert not _has_colour(pixels, series_colour(1))


def test_chw_tensor_sample_and_many_records():
    routes = [RecordRoute(f"r{i}", np.random.default_rng(i).normal(size=(5, 3))) for i in range(15)]
    figure = plot_routes(routes, SampleFrame("r3", -1, torch.rand(3, 20, 30)))
    assert figure_to_array(figure).shape[2] == 3


@pytest.mark.parametrize("positions", [np.zeros((1, 3)), np.zeros((0, 3)), np.array([[0, 0, 0], [0, 0, 1.0]])])
def test_degenerate_routes_still_draw(positions, tmp_path):
    path = save_routes_png(tmp_path / "one.png", [RecordRoute("single", positions)])
    assert iio.imread(path).shape[0] > 100


def test_bad_inputs_raise_shape_error():
    routes = _records()
    with pytest.raises(ShapeError, match="at least one route"):
        plot_routes([])
    with pytest.raises(ShapeError, match="not among the routes"):
        plot_routes(routes, SampleFrame("Record999", 0, np.zeros((4, 4))))
    with pytest.raises(ShapeError, match="out of range"):
        plot_routes(routes, SampleFrame("Record001", 60, np.zeros((4, 4))))
    with pytest.raises(ShapeError, match=r"\(N, 3\)"):
        plot_routes([RecordRoute("flat", np.zeros((5, 2)))])
