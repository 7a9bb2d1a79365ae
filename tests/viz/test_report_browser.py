"""The report in a real headless browser (Debian's chromium driven by Playwright): the tables, figures and the
3-D view are not just in the HTML source but laid out, loaded and drawn, with no network access.

Needs /usr/bin/chromium (``scripts/install-browser.sh``) and the ``playwright`` package; skipped without them,
failed without them under CI=true. Screenshots go to ``test-artifacts/viz/``.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from posekit.metrics.trajectory_files import read_tum
from posekit.viz.report import write_report

from .viz_fixtures import make_run_folder

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "viz"
POSENET_RGB = (31, 119, 180)  # series_colour(0), the first method in name order


def _require_browser():
    problems = []
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        problems.append("the playwright package is not installed (pip install playwright)")
    if not CHROMIUM.exists():
        problems.append(f"{CHROMIUM} is missing (run scripts/install-browser.sh)")
    if problems:
        message = "; ".join(problems)
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message)
        pytest.skip(message)


@contextmanager
def opened_report(report: Path, width: int = 1280, height: int = 900
                  ) -> Iterator[tuple[object, list[str], list[str]]]:
    """``report`` loaded in headless Chromium: yields ``(page, errors, requests)``, where ``errors`` collects page
    errors and console errors and ``requests`` every URL the page asked for; the browser is closed afterwards."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": width, "height": height})
            errors: list[str] = []
            requests: list[str] = []
            page.on("pageerror", lambda error: errors.append(str(error)))
            page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
            page.on("request", lambda request: requests.append(request.url))
            page.goto(report.as_uri(), wait_until="load")
            yield page, errors, requests
        finally:
            browser.close()


_COUNT_COLOUR_JS = """([selector, rgb]) => {
  const canvas = document.querySelector(selector);
  const pixels = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height).data;
  let drawn = 0, colour = 0;
  for (let i = 0; i < pixels.length; i += 4) {
    if (pixels[i] < 250 || pixels[i + 1] < 250 || pixels[i + 2] < 250) drawn++;
    if (Math.abs(pixels[i] - rgb[0]) < 12 && Math.abs(pixels[i + 1] - rgb[1]) < 12
        && Math.abs(pixels[i + 2] - rgb[2]) < 12) colour++;
  }
  return [drawn, colour];
}"""


def test_report_renders_in_headless_chromium(trajectories_dir, tmp_path):
    _require_browser()
    ground_truth = read_tum(trajectories_dir / "evo_test_data" / "fr2_desk_groundtruth.txt")
    ground_truth = ground_truth.subset(range(0, 6000, 20))  # 300 poses, the first 60 s of fr2/desk
    run = make_run_folder(tmp_path / "fr2_desk_run", ground_truth)
    report = write_report(run)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)

    with opened_report(report) as (page, errors, requests):

        for anchor in ("configuration", "metrics", "trajectories", "errors", "training", "figures"):
            box = page.locator(f"section#{anchor}").bounding_box()
            assert box and box["width"] > 0 and box["height"] > 0, anchor

        tables = page.locator("table")
        assert tables.count() >= 5  # config, metrics.json (3 groups), summaries, statistics
        for i in range(tables.count()):
            box = tables.nth(i).bounding_box()
            assert box and box["width"] > 50 and box["height"] > 20
        assert page.locator("td", has_text="retrieval").first.is_visible()

        images = page.locator("img")
        assert images.count() == 5
        for i in range(images.count()):
            image = images.nth(i)
            image.scroll_into_view_if_needed()
            assert image.evaluate("img => img.complete && img.naturalWidth > 0 && img.naturalHeight > 0")
            box = image.bounding_box()
            assert box and box["width"] > 200 and box["height"] > 100

        viewer = page.locator("#trajectory-viewer")
        viewer.scroll_into_view_if_needed()
        canvas = page.locator("#trajectory-viewer canvas")
        assert int(canvas.get_attribute("data-segments")) == 3 * 299
        drawn, posenet = page.evaluate(_COUNT_COLOUR_JS, ["#trajectory-viewer canvas", POSENET_RGB])
        assert drawn > 2000 and posenet > 100
        viewer.screenshot(path=str(ARTIFACTS / "report-viewer.png"))

        # Dragging rotates the view: the picture changes.
        before = canvas.screenshot()
        box = canvas.bounding_box()
        page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
        page.mouse.down()
        page.mouse.move(box["x"] + box["width"] / 2 + 120, box["y"] + box["height"] / 2 + 40, steps=5)
        page.mouse.up()
        assert canvas.screenshot() != before

        # Hiding posenet in the legend removes its colour from the canvas.
        page.locator("#trajectory-viewer label", has_text="posenet").locator("input").uncheck()
        assert page.evaluate(_COUNT_COLOUR_JS, ["#trajectory-viewer canvas", POSENET_RGB])[1] < posenet / 10

        page.screenshot(path=str(ARTIFACTS / "report.png"), full_page=True)
        assert not errors, errors
        assert all(url.startswith(("file:", "data:")) for url in requests), requests
    shutil.copy(report, ARTIFACTS / "report.html")


def test_wide_tables_stay_inside_the_page(trajectories_dir, tmp_path):
    """A summary with many long columns and a long config value: the page itself never scrolls sideways; the
    table scrolls inside its box and the long value wraps."""
    _require_browser()
    import json

    ground_truth = read_tum(trajectories_dir / "evo_test_data" / "fr2_desk_groundtruth.txt").subset(range(0, 600, 20))
    run = make_run_folder(tmp_path / "wide_run", ground_truth, with_figures=False)
    wide = {"method": "posenet", **{f"a_rather_long_metric_name_{i}": 0.123456 * i for i in range(40)}}
    (run / "eval" / "posenet.json").write_text(json.dumps(wide), encoding="utf-8")
    (run / "config.yaml").write_text("data: /" + "very_long_folder_name/" * 30 + "\nlr: 0.001\n", encoding="utf-8")
    report = write_report(run)
    with opened_report(report, 800, 700) as (page, errors, requests):
        width = page.evaluate("document.documentElement.clientWidth")
        assert page.evaluate("document.documentElement.scrollWidth") <= width
        for section in page.locator("section").all():
            box = section.bounding_box()
            assert box["x"] + box["width"] <= width + 1
        boxes = page.locator(".table-wrap")
        widths = [boxes.nth(i).evaluate("b => [b.scrollWidth, b.clientWidth]") for i in range(boxes.count())]
        assert any(scroll > client for scroll, client in widths)  # the wide summary scrolls in its box
        page.screenshot(path=str(ARTIFACTS / "report_wide_tables.png"), full_page=False)
