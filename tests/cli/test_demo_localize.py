"""The full demo's map + localize line: run here on the quick room (which the demo's --quick skips: the map build
and localisation take ~45 s on their own). The quick room (64x48, 12 frames, 3 keyframes) is too small to localise,
so only the line and the run folder are checked, not the accuracy (the full demo's numbers are in docs/results.md)."""

from __future__ import annotations

import json

from posekit.demo.pipeline import DemoConfig, run_demo


def test_demo_prints_the_map_and_localize_line(tmp_path):
    lines: list[str] = []
    result = run_demo(DemoConfig.quick(out=tmp_path / "demo", localize=True, progress=False), echo=lines.append)
    line = next(line for line in result.lines if line.startswith("Map + localize"))
    assert "median" in line and "recall 5 cm/5 deg" in line and "frames/s" in line and "(12 test frames)" in line
    summary = json.loads((tmp_path / "demo" / "localize" / "summary.json").read_text())
    assert summary["frames"] == 12 and summary["refine"] == "both"
    assert (tmp_path / "demo" / "map" / "manifest.json").is_file()
    assert DemoConfig.quick().localize is False and DemoConfig().localize is True
