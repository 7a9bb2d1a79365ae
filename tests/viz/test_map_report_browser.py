"""A map folder's report in headless Chromium: the cloud is decoded and drawn in its colours, the frustums and
keyframe cameras too, the legend hides the cloud, and nothing is loaded from outside the file."""

from __future__ import annotations

import numpy as np

from posekit.viz.report import write_report

from .test_map_report import make_map_folder
from .test_report_browser import ARTIFACTS, _COUNT_COLOUR_JS, _require_browser, opened_report

CLOUD_RGB = (40, 160, 60)  # one colour for every point, told apart from the white page and the red cameras


def test_map_viewer_draws_the_cloud_in_chromium(tmp_path):
    _require_browser()
    rng = np.random.default_rng(1)
    points = rng.uniform([-1, 1, 0], [2, 4, 2.5], (5000, 3))
    folder = make_map_folder(tmp_path / "map", points, np.tile(np.array(CLOUD_RGB) / 255.0, (len(points), 1)))
    report = write_report(folder)
    with opened_report(report) as (page, errors, requests):
        canvas = page.locator("#map-viewer canvas")
        canvas.scroll_into_view_if_needed()
        assert int(canvas.get_attribute("data-points")) == 5000  # every point lands in the default view
        _, green = page.evaluate(_COUNT_COLOUR_JS, ["#map-viewer canvas", CLOUD_RGB])
        assert green > 5000  # 2x2-pixel squares, partly hidden behind nearer ones
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        page.locator("#map-viewer").screenshot(path=str(ARTIFACTS / "map-viewer.png"))
        page.locator("#map-viewer label", has_text="map points").locator("input").uncheck()
        assert canvas.get_attribute("data-points") == "0"
        assert page.evaluate(_COUNT_COLOUR_JS, ["#map-viewer canvas", CLOUD_RGB])[1] < green / 100
        assert not errors, errors
        assert all(url.startswith(("file:", "data:")) for url in requests), requests
