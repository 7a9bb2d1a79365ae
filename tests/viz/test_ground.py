"""The display frame: right-handed, up where the dataset says, AUTO on the axis of least motion."""

from __future__ import annotations

import numpy as np
import pytest

from posekit.errors import ShapeError
from posekit.viz.ground import DisplayUpAxis, resolve_up_axis, to_display_frame


@pytest.mark.parametrize("up", [u for u in DisplayUpAxis if u is not DisplayUpAxis.AUTO])
def test_display_frame_is_a_proper_rotation_with_up_last(up):
    points = np.eye(3)
    display, labels = to_display_frame(points, up)  # rows: the world axes in display coordinates
    assert np.isclose(np.linalg.det(display), 1.0)
    assert labels[2] == up.value
    up_world = np.zeros(3)
    up_world["xyz".index(up.value[-1])] = -1.0 if up.value.startswith("-") else 1.0
    assert np.allclose(to_display_frame(up_world[None], up)[0], [[0.0, 0.0, 1.0]])


def test_kitti_convention_y_down():
    display, labels = to_display_frame(np.array([[1.0, 2.0, 3.0]]), DisplayUpAxis.NEG_Y)
    assert display.tolist() == [[1.0, 3.0, -2.0]] and labels == ["x", "z", "-y"]


def test_auto_takes_the_axis_of_least_spread():
    rng = np.random.default_rng(0)
    flat_in_y = rng.normal(size=(50, 3)) * [5.0, 0.1, 3.0]
    assert resolve_up_axis(flat_in_y, DisplayUpAxis.AUTO) is DisplayUpAxis.Y
    assert resolve_up_axis(np.zeros((1, 3)), DisplayUpAxis.AUTO) is DisplayUpAxis.Z  # a single pose: default z
    assert resolve_up_axis(flat_in_y, DisplayUpAxis.NEG_Z) is DisplayUpAxis.NEG_Z


def test_positions_must_be_n_by_3():
    with pytest.raises(ShapeError, match=r"\(N, 3\)"):
        to_display_frame(np.zeros((4, 2)))
