"""An interactive 3-D trajectory viewer for the report: a canvas and ~150 lines of inline JavaScript.

No library, no network, no server: the points are embedded as JSON in the page. Drag rotates, shift-drag
(or the right button) pans, the wheel zooms, a double click resets; the legend's boxes show and hide series.
After each draw the canvas carries ``data-segments``, the number of line segments it drew.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from posekit.viz.report.html import escape

# Each series is thinned to at most this many points (evenly, keeping the last one) to keep the page small.
MAX_POINTS_PER_SERIES = 3000
DECIMALS = 4  # coordinates are rounded to 0.1 mm


@dataclass
class ViewerSeries:
    """One polyline: ``points`` ``(N, 3)`` in the display frame (e1, e2, up), a colour ``#rrggbb``."""

    name: str
    points: np.ndarray
    colour: str
    dashed: bool = False


def _thinned(points: np.ndarray) -> list[list[float]]:
    points = points[np.all(np.isfinite(points), axis=1)]
    if len(points) > MAX_POINTS_PER_SERIES:
        keep = np.unique(np.linspace(0, len(points) - 1, MAX_POINTS_PER_SERIES).round().astype(int))
        points = points[keep]
    return np.round(points, DECIMALS).tolist()


def viewer_html(
    series: Sequence[ViewerSeries], axis_labels: Sequence[str], element_id: str = "trajectory-viewer"
) -> str:
    """The viewer's HTML block (container, canvas, legend, embedded data and script)."""
    data = {
        "labels": list(axis_labels),
        "series": [
            {"name": s.name, "colour": s.colour, "dashed": s.dashed, "points": _thinned(s.points)} for s in series
        ],
    }
    # "</" inside a script element would end it; JSON allows the escaped form "<\/".
    payload = json.dumps(data, separators=(",", ":"), allow_nan=False).replace("</", "<\\/")
    return (
        f'<div class="viewer" id="{escape(element_id)}">'
        '<div class="viewer-bar"><span class="viewer-legend"></span>'
        '<button type="button" data-view="reset">reset</button>'
        '<button type="button" data-view="top">top</button>'
        '<button type="button" data-view="side">side</button></div>'
        '<canvas class="viewer-canvas" height="480"></canvas>'
        '<div class="viewer-hint">drag: rotate &middot; shift-drag or right-drag: pan &middot; wheel: zoom '
        '&middot; double-click: reset</div>'
        f'<script type="application/json" class="viewer-data">{payload}</script>'
        f"<script>{_VIEWER_JS.replace('__ELEMENT_ID__', json.dumps(element_id))}</script>"
        "</div>"
    )


_VIEWER_JS = r"""
(function () {
  "use strict";
  var root = document.getElementById(__ELEMENT_ID__);
  var canvas = root.querySelector("canvas");
  var ctx = canvas.getContext("2d");
  var data = JSON.parse(root.querySelector(".viewer-data").textContent);
  var series = data.series;
  var visible = series.map(function () { return true; });
  // Dashed series (ground truth) are drawn last, on top of the predictions that scatter around them.
  var order = series.map(function (s, i) { return i; }).filter(function (i) { return !series[i].dashed; })
    .concat(series.map(function (s, i) { return i; }).filter(function (i) { return series[i].dashed; }));
  var lo = [Infinity, Infinity, Infinity], hi = [-Infinity, -Infinity, -Infinity];
  series.forEach(function (s) {
    s.points.forEach(function (p) {
      for (var k = 0; k < 3; k++) { lo[k] = Math.min(lo[k], p[k]); hi[k] = Math.max(hi[k], p[k]); }
    });
  });
  if (!isFinite(lo[0])) { lo = [-1, -1, -1]; hi = [1, 1, 1]; }
  var centre = [0, 1, 2].map(function (k) { return (lo[k] + hi[k]) / 2; });
  var radius = Math.max(hi[0] - lo[0], hi[1] - lo[1], hi[2] - lo[2]) / 2;
  if (!(radius > 1e-9)) { radius = 0.5; }
  var HOME = {yaw: -0.7, pitch: 0.55, zoom: 1, panX: 0, panY: 0};
  var view = Object.assign({}, HOME);

  function project(p, w, h) {
    var x = p[0] - centre[0], y = p[1] - centre[1], z = p[2] - centre[2];
    var cy = Math.cos(view.yaw), sy = Math.sin(view.yaw);
    var x1 = cy * x - sy * y, y1 = sy * x + cy * y;
    var cp = Math.cos(view.pitch), sp = Math.sin(view.pitch);
    var up = z * cp + y1 * sp, depth = y1 * cp - z * sp;
    var f = 4 / (4 + depth / radius);
    var scale = 0.42 * Math.min(w, h) / radius * view.zoom * f;
    return [w / 2 + view.panX + x1 * scale, h / 2 + view.panY - up * scale];
  }

  function niceStep(span) {
    var raw = span / 6, base = Math.pow(10, Math.floor(Math.log10(raw)));
    var m = raw / base;
    return base * (m < 2 ? 1 : m < 5 ? 2 : 5);
  }

  function line(a, b, w, h) {
    var p = project(a, w, h), q = project(b, w, h);
    ctx.moveTo(p[0], p[1]);
    ctx.lineTo(q[0], q[1]);
  }

  function drawGrid(w, h) {
    var floor = lo[2], step = niceStep(2 * radius);
    var x0 = Math.floor((centre[0] - radius) / step) * step, x1 = Math.ceil((centre[0] + radius) / step) * step;
    var y0 = Math.floor((centre[1] - radius) / step) * step, y1 = Math.ceil((centre[1] + radius) / step) * step;
    ctx.strokeStyle = "#e2e2e2";
    ctx.lineWidth = 1;
    ctx.setLineDash([]);
    ctx.beginPath();
    for (var x = x0; x <= x1 + 1e-9; x += step) { line([x, y0, floor], [x, y1, floor], w, h); }
    for (var y = y0; y <= y1 + 1e-9; y += step) { line([x0, y, floor], [x1, y, floor], w, h); }
    ctx.stroke();
    var origin = [x0, y0, floor], ends = [[x0 + step, y0, floor], [x0, y0 + step, floor], [x0, y0, floor + step]];
    var colours = ["#c0392b", "#27ae60", "#2980b9"];
    ctx.lineWidth = 2;
    ctx.font = "12px sans-serif";
    for (var k = 0; k < 3; k++) {
      ctx.strokeStyle = colours[k];
      ctx.beginPath();
      line(origin, ends[k], w, h);
      ctx.stroke();
      var t = project(ends[k], w, h);
      ctx.fillStyle = colours[k];
      ctx.fillText(data.labels[k], t[0] + 3, t[1] - 3);
    }
    ctx.fillStyle = "#666";
    ctx.fillText("grid " + step.toPrecision(2) + " m", 8, h - 8);
  }

  function draw() {
    var dpr = window.devicePixelRatio || 1;
    var w = Math.max(200, root.clientWidth), h = Math.round(Math.min(560, Math.max(320, w * 0.55)));
    if (canvas.width !== Math.round(w * dpr) || canvas.height !== Math.round(h * dpr)) {
      canvas.width = Math.round(w * dpr);
      canvas.height = Math.round(h * dpr);
      canvas.style.width = w + "px";
      canvas.style.height = h + "px";
    }
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.fillStyle = "#ffffff";
    ctx.fillRect(0, 0, w, h);
    drawGrid(w, h);
    var segments = 0;
    order.forEach(function (i) {
      var s = series[i];
      if (!visible[i] || s.points.length === 0) { return; }
      ctx.strokeStyle = s.colour;
      ctx.fillStyle = s.colour;
      ctx.lineWidth = s.dashed ? 1.5 : 2;
      ctx.setLineDash(s.dashed ? [6, 4] : []);
      ctx.beginPath();
      s.points.forEach(function (p, j) {
        var q = project(p, w, h);
        if (j === 0) { ctx.moveTo(q[0], q[1]); } else { ctx.lineTo(q[0], q[1]); segments++; }
      });
      ctx.stroke();
      var start = project(s.points[0], w, h);
      ctx.beginPath();
      ctx.arc(start[0], start[1], s.points.length === 1 ? 4 : 3, 0, 2 * Math.PI);
      ctx.fill();
    });
    ctx.setLineDash([]);
    canvas.setAttribute("data-segments", String(segments));
  }

  var legend = root.querySelector(".viewer-legend");
  series.forEach(function (s, i) {
    var label = document.createElement("label");
    var box = document.createElement("input");
    box.type = "checkbox";
    box.checked = true;
    box.addEventListener("change", function () { visible[i] = box.checked; draw(); });
    var swatch = document.createElement("span");
    swatch.className = "swatch";
    swatch.style.background = s.colour;
    label.appendChild(box);
    label.appendChild(swatch);
    label.appendChild(document.createTextNode(s.name + " (" + s.points.length + ")"));
    legend.appendChild(label);
  });

  root.querySelectorAll("button[data-view]").forEach(function (button) {
    button.addEventListener("click", function () {
      view = Object.assign({}, HOME);
      if (button.dataset.view === "top") { view.pitch = Math.PI / 2; view.yaw = 0; }
      if (button.dataset.view === "side") { view.pitch = 0; }
      draw();
    });
  });

  var drag = null;
  canvas.addEventListener("contextmenu", function (e) { e.preventDefault(); });
  canvas.addEventListener("pointerdown", function (e) {
    drag = {x: e.clientX, y: e.clientY, pan: e.shiftKey || e.button === 2};
    canvas.setPointerCapture(e.pointerId);
  });
  canvas.addEventListener("pointermove", function (e) {
    if (!drag) { return; }
    var dx = e.clientX - drag.x, dy = e.clientY - drag.y;
    drag.x = e.clientX;
    drag.y = e.clientY;
    if (drag.pan) { view.panX += dx; view.panY += dy; } else {
      view.yaw += dx * 0.01;
      view.pitch = Math.max(-Math.PI / 2, Math.min(Math.PI / 2, view.pitch + dy * 0.01));
    }
    draw();
  });
  canvas.addEventListener("pointerup", function () { drag = null; });
  canvas.addEventListener("pointercancel", function () { drag = null; });
  canvas.addEventListener("wheel", function (e) {
    e.preventDefault();
    view.zoom = Math.max(0.05, Math.min(50, view.zoom * Math.exp(-e.deltaY * 0.0015)));
    draw();
  }, {passive: false});
  canvas.addEventListener("dblclick", function () { view = Object.assign({}, HOME); draw(); });
  window.addEventListener("resize", draw);
  draw();
})();
"""
