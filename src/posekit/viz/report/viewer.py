"""An interactive 3-D trajectory viewer for the report: a canvas and ~200 lines of inline JavaScript.

No library, no network, no server: the points are embedded as JSON in the page. Drag rotates, shift-drag
(or the right button) pans, the wheel zooms, a double click resets; the legend's boxes show and hide series.
Besides polylines (trajectories) it draws coloured point clouds (a map's geometry, depth-tested pixels,
embedded as base64 16-bit quantised coordinates and 8-bit colours) and sets of line segments (camera frustums).
After each draw the canvas carries ``data-segments``, the number of polyline segments it drew, and
``data-points``, the number of cloud points it projected into the canvas.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from posekit.viz.report.html import escape

# Each series is thinned to at most this many points (evenly, keeping the last one) to keep the page small.
MAX_POINTS_PER_SERIES = 3000
DECIMALS = 4  # coordinates are rounded to 0.1 mm
# A cloud is thinned to at most this many points; 9 bytes a point (12 in base64): about 600 kB at the limit.
MAX_CLOUD_POINTS = 50_000
_QUANT_LEVELS = 65535  # cloud coordinates are quantised to 16 bits over the cloud's extent


@dataclass
class ViewerSeries:
    """One polyline: ``points`` ``(N, 3)`` in the display frame (e1, e2, up), a colour ``#rrggbb``."""

    name: str
    points: np.ndarray
    colour: str
    dashed: bool = False
    markers: bool = False  # a dot at every point and no line (e.g. camera positions without an order)
    visible: bool = True  # shown when the page opens (the legend's box toggles it)


@dataclass
class ViewerCloud:
    """A coloured point cloud: ``points`` ``(N, 3)`` in the display frame, ``colours`` ``(N, 3)`` uint8 RGB.

    ``source_count`` is how many points the cloud was thinned from (shown in the legend); the viewer thins it
    further, at random with a fixed seed, to :data:`MAX_CLOUD_POINTS`.
    """

    name: str
    points: np.ndarray
    colours: np.ndarray
    source_count: int | None = None


@dataclass
class ViewerSegments:
    """Line segments from ``starts`` ``(M, 3)`` to ``ends`` ``(M, 3)`` (display frame) in one colour."""

    name: str
    starts: np.ndarray
    ends: np.ndarray
    colour: str
    visible: bool = True


def thin_indices(count: int, limit: int, seed: int = 0) -> np.ndarray:
    """Sorted indices of at most ``limit`` of ``count`` items, drawn at random with a fixed ``seed`` (a mesh's
    vertex order is spatially blocky: an even stride would thin some regions away)."""
    if count <= limit:
        return np.arange(count)
    return np.sort(np.random.default_rng(seed).choice(count, size=limit, replace=False))


def _cloud_data(cloud: ViewerCloud) -> dict:
    """The cloud as JSON: origin and step of the 16-bit quantisation, base64 little-endian coordinates and
    base64 RGB bytes."""
    points = np.asarray(cloud.points, dtype=np.float64).reshape(-1, 3)
    colours = np.asarray(cloud.colours).reshape(-1, 3)
    if len(colours) != len(points):
        raise ValueError(f"cloud {cloud.name!r}: {len(points)} points but {len(colours)} colours")
    finite = np.all(np.isfinite(points), axis=1)
    points, colours = points[finite], colours[finite]
    keep = thin_indices(len(points), MAX_CLOUD_POINTS)
    points, colours = points[keep], colours[keep]
    origin = points.min(axis=0) if len(points) else np.zeros(3)
    span = float((points.max(axis=0) - origin).max()) if len(points) else 0.0
    step = span / _QUANT_LEVELS if span > 0 else 1.0
    quantised = np.round((points - origin) / step).astype("<u2")
    return {
        "name": cloud.name, "count": int(len(points)),
        "source_count": int(cloud.source_count if cloud.source_count is not None else len(points)),
        "origin": [float(v) for v in origin], "step": step,
        "positions": base64.b64encode(quantised.tobytes()).decode("ascii"),
        "colours": base64.b64encode(np.clip(colours, 0, 255).astype(np.uint8).tobytes()).decode("ascii"),
    }


def decode_cloud(data: dict) -> tuple[np.ndarray, np.ndarray]:
    """``(points (N, 3) float64, colours (N, 3) uint8)`` of a cloud as the page embeds it (the inverse of the
    encoding, up to half a quantisation step)."""
    quantised = np.frombuffer(base64.b64decode(data["positions"]), dtype="<u2").reshape(-1, 3)
    colours = np.frombuffer(base64.b64decode(data["colours"]), dtype=np.uint8).reshape(-1, 3)
    return np.asarray(data["origin"]) + quantised.astype(np.float64) * data["step"], colours


def _segment_lines(segments: ViewerSegments) -> list[list[float]]:
    lines = np.concatenate((np.asarray(segments.starts, dtype=np.float64).reshape(-1, 3),
                            np.asarray(segments.ends, dtype=np.float64).reshape(-1, 3)), axis=1)
    return np.round(lines[np.all(np.isfinite(lines), axis=1)], DECIMALS).tolist()


def _thinned(points: np.ndarray) -> list[list[float]]:
    points = points[np.all(np.isfinite(points), axis=1)]
    if len(points) > MAX_POINTS_PER_SERIES:
        keep = np.unique(np.linspace(0, len(points) - 1, MAX_POINTS_PER_SERIES).round().astype(int))
        points = points[keep]
    return np.round(points, DECIMALS).tolist()


def viewer_html(
    series: Sequence[ViewerSeries], axis_labels: Sequence[str], element_id: str = "trajectory-viewer",
    clouds: Sequence[ViewerCloud] = (), segments: Sequence[ViewerSegments] = (),
) -> str:
    """The viewer's HTML block (container, canvas, legend, embedded data and script): polylines ``series``,
    point ``clouds`` and line ``segments``, all in the display frame."""
    data = {
        "labels": list(axis_labels),
        "series": [
            {"name": s.name, "colour": s.colour, "dashed": s.dashed, "markers": s.markers, "visible": s.visible,
             "points": _thinned(s.points)} for s in series
        ],
        "clouds": [_cloud_data(c) for c in clouds],
        "segments": [{"name": g.name, "colour": g.colour, "visible": g.visible, "lines": _segment_lines(g)}
                     for g in segments],
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
  var visible = series.map(function (s) { return s.visible !== false; });
  var clouds = (data.clouds || []).map(decodeCloud);
  var cloudVisible = clouds.map(function () { return true; });
  var groups = data.segments || [];
  var groupVisible = groups.map(function (g) { return g.visible !== false; });

  function bytesOf(text) {
    var binary = atob(text), out = new Uint8Array(binary.length);
    for (var i = 0; i < binary.length; i++) { out[i] = binary.charCodeAt(i); }
    return out;
  }

  function decodeCloud(c) {
    var raw = bytesOf(c.positions), view = new DataView(raw.buffer), xyz = new Float32Array(3 * c.count);
    for (var i = 0; i < 3 * c.count; i++) { xyz[i] = c.origin[i % 3] + view.getUint16(2 * i, true) * c.step; }
    return {name: c.name, count: c.count, source_count: c.source_count, xyz: xyz, rgb: bytesOf(c.colours)};
  }
  // Dashed series (ground truth) are drawn last, on top of the predictions that scatter around them.
  var order = series.map(function (s, i) { return i; }).filter(function (i) { return !series[i].dashed; })
    .concat(series.map(function (s, i) { return i; }).filter(function (i) { return series[i].dashed; }));
  var lo = [Infinity, Infinity, Infinity], hi = [-Infinity, -Infinity, -Infinity];
  function extend(x, y, z) {
    var p = [x, y, z];
    for (var k = 0; k < 3; k++) { lo[k] = Math.min(lo[k], p[k]); hi[k] = Math.max(hi[k], p[k]); }
  }
  series.forEach(function (s) { s.points.forEach(function (p) { extend(p[0], p[1], p[2]); }); });
  clouds.forEach(function (c) {
    for (var i = 0; i < c.count; i++) { extend(c.xyz[3 * i], c.xyz[3 * i + 1], c.xyz[3 * i + 2]); }
  });
  groups.forEach(function (g) {
    g.lines.forEach(function (l) { extend(l[0], l[1], l[2]); extend(l[3], l[4], l[5]); });
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
    return [w / 2 + view.panX + x1 * scale, h / 2 + view.panY - up * scale, depth];
  }

  // Cloud points as small squares written into the pixels, nearest in front (a depth buffer).
  function drawClouds(w, h, dpr) {
    var any = clouds.some(function (c, i) { return cloudVisible[i] && c.count > 0; });
    if (!any) { return 0; }
    var W = canvas.width, H = canvas.height, size = Math.max(1, Math.round(2 * dpr));
    var image = ctx.getImageData(0, 0, W, H), px = image.data;
    var zbuf = new Float32Array(W * H).fill(Infinity), drawn = 0, p = [0, 0, 0];
    clouds.forEach(function (c, ci) {
      if (!cloudVisible[ci]) { return; }
      for (var i = 0; i < c.count; i++) {
        p[0] = c.xyz[3 * i]; p[1] = c.xyz[3 * i + 1]; p[2] = c.xyz[3 * i + 2];
        var q = project(p, w, h);
        var x0 = Math.round(q[0] * dpr - size / 2), y0 = Math.round(q[1] * dpr - size / 2);
        if (x0 + size <= 0 || y0 + size <= 0 || x0 >= W || y0 >= H) { continue; }
        drawn++;
        for (var dy = 0; dy < size; dy++) {
          var y = y0 + dy;
          if (y < 0 || y >= H) { continue; }
          for (var dx = 0; dx < size; dx++) {
            var x = x0 + dx;
            if (x < 0 || x >= W) { continue; }
            var at = y * W + x;
            if (q[2] >= zbuf[at]) { continue; }
            zbuf[at] = q[2];
            px[4 * at] = c.rgb[3 * i]; px[4 * at + 1] = c.rgb[3 * i + 1]; px[4 * at + 2] = c.rgb[3 * i + 2];
            px[4 * at + 3] = 255;
          }
        }
      }
    });
    ctx.putImageData(image, 0, 0);
    return drawn;
  }

  function drawGroups(w, h) {
    ctx.setLineDash([]);
    ctx.lineWidth = 1;
    groups.forEach(function (g, i) {
      if (!groupVisible[i]) { return; }
      ctx.strokeStyle = g.colour;
      ctx.beginPath();
      g.lines.forEach(function (l) { line([l[0], l[1], l[2]], [l[3], l[4], l[5]], w, h); });
      ctx.stroke();
    });
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
    var points = drawClouds(w, h, dpr);
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    drawGroups(w, h);
    var segments = 0;
    order.forEach(function (i) {
      var s = series[i];
      if (!visible[i] || s.points.length === 0) { return; }
      ctx.strokeStyle = s.colour;
      ctx.fillStyle = s.colour;
      ctx.lineWidth = s.dashed ? 1.5 : 2;
      ctx.setLineDash(s.dashed ? [6, 4] : []);
      if (s.markers) {
        s.points.forEach(function (p) {
          var q = project(p, w, h);
          ctx.beginPath();
          ctx.arc(q[0], q[1], 3, 0, 2 * Math.PI);
          ctx.fill();
        });
        return;
      }
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
    canvas.setAttribute("data-points", String(points));
  }

  var legend = root.querySelector(".viewer-legend");
  function addLegend(text, colour, flags, i) {
    var label = document.createElement("label");
    var box = document.createElement("input");
    box.type = "checkbox";
    box.checked = flags[i];
    box.addEventListener("change", function () { flags[i] = box.checked; draw(); });
    var swatch = document.createElement("span");
    swatch.className = "swatch";
    swatch.style.background = colour;
    label.appendChild(box);
    label.appendChild(swatch);
    label.appendChild(document.createTextNode(text));
    legend.appendChild(label);
  }
  clouds.forEach(function (c, i) {
    var text = c.name + " (" + c.count + (c.source_count > c.count ? " of " + c.source_count : "") + " points)";
    addLegend(text, "linear-gradient(135deg, #c96, #69c)", cloudVisible, i);
  });
  groups.forEach(function (g, i) { addLegend(g.name + " (" + g.lines.length + " lines)", g.colour, groupVisible, i); });
  series.forEach(function (s, i) { addLegend(s.name + " (" + s.points.length + ")", s.colour, visible, i); });

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
