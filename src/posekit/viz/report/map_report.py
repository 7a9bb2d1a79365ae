"""The report's sections for a map folder (``posekit map build``) and for a localisation run folder
(``posekit localize``).

A localisation run folder (:mod:`posekit.localization.run`) holds ``summary.json`` (naming its map),
``frames.csv``, ``poses_<record>.tum`` (estimates), ``fused_<record>.tum`` (``--sequence``),
``groundtruth_<record>.tum`` and ``panels/panels.json`` with its panel images
(:mod:`posekit.localization.report_files`). Its report shows the summary, the error distributions, the map
with the estimated and true trajectories in one 3-D view, and the render-and-compare panels.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Callable
from pathlib import Path

import numpy as np
import yaml

from posekit.errors import FileFormatError, PosekitError
from posekit.metrics.trajectory_files import read_tum
from posekit.viz.canvas import figure_to_png_bytes
from posekit.viz.error_plots import ErrorSeries, plot_error_distributions
from posekit.viz.ground import DisplayUpAxis, resolve_up_axis, to_display_frame
from posekit.viz.render_compare import DIFFERENCE_FULL_SCALE, PANELS_DIR, PANELS_INDEX
from posekit.viz.report.html import Section, escape, figure, note, table
from posekit.viz.report.map_view import (
    MapGeometry,
    geometry_note,
    is_map_folder,
    load_map_geometry,
    manifest_table,
    map_viewer_parts,
)
from posekit.viz.report.viewer import ViewerSeries, viewer_html
from posekit.viz.style import GROUND_TRUTH_COLOUR, series_colour

LOCALIZE_SUMMARY = "summary.json"
LOCALIZE_FRAMES = "frames.csv"
ESTIMATE_PREFIX, FUSED_PREFIX, GROUND_TRUTH_PREFIX = "poses_", "fused_", "groundtruth_"
KEYFRAME_POSITIONS_COLOUR = "#d62728"
_READ_ERRORS = (PosekitError, OSError, ValueError, yaml.YAMLError)


def is_localize_run(folder: str | Path) -> bool:
    """Whether ``folder`` is a ``posekit localize`` run folder (a summary and estimated poses)."""
    folder = Path(folder)
    return (folder / LOCALIZE_SUMMARY).is_file() and any(folder.glob(f"{ESTIMATE_PREFIX}*.tum"))


def _display(points_for_up: np.ndarray, up: DisplayUpAxis) -> tuple[Callable[[np.ndarray], np.ndarray], list[str]]:
    """A world -> display map with the up axis resolved on ``points_for_up`` ``(N, 3)``, and the axis labels."""
    resolved = resolve_up_axis(points_for_up, up) if len(points_for_up) else (
        DisplayUpAxis.Z if up is DisplayUpAxis.AUTO else up)
    return (lambda points: to_display_frame(np.asarray(points, dtype=np.float64).reshape(-1, 3), resolved)[0],
            to_display_frame(np.zeros((0, 3)), resolved)[1])


def camera_up_axis(T_world_cam: np.ndarray) -> DisplayUpAxis:
    """The signed world axis nearest to the cameras' mean "up" (their -y axis, OpenCV cameras): hand-held and
    vehicle cameras are mostly held upright, so this finds gravity where the least-spread axis of the camera
    positions (the trajectory views' guess) may point down."""
    up = -T_world_cam[:, :3, 1].mean(axis=0)
    axis = int(np.argmax(np.abs(up)))
    return DisplayUpAxis(("-" if up[axis] < 0 else "") + "xyz"[axis])


def _map_viewer(geometry: MapGeometry | None, trajectories: list[ViewerSeries], up: DisplayUpAxis,
                element_id: str) -> str:
    """The viewer of a map's cloud, frustums and keyframe positions, with ``trajectories`` in world coordinates
    (converted to the display frame here)."""
    reference = [s.points for s in trajectories if len(s.points)]
    if geometry is not None and len(geometry.keyframe_poses):
        reference.append(geometry.keyframe_poses[:, :3, 3])
    if not reference and geometry is not None:
        reference.append(geometry.points)
    if up is DisplayUpAxis.AUTO and geometry is not None and len(geometry.keyframe_poses):
        up = camera_up_axis(geometry.keyframe_poses)
    to_display, labels = _display(np.concatenate(reference) if reference else np.zeros((0, 3)), up)
    clouds, segments, series = [], [], []
    if geometry is not None:
        # with trajectories, the keyframe cameras start hidden: they would cover them
        cameras_visible = not trajectories
        clouds, segments, keyframes = map_viewer_parts(geometry, to_display, cameras_visible)
        if len(keyframes):
            series.append(ViewerSeries("keyframe cameras", keyframes, KEYFRAME_POSITIONS_COLOUR, markers=True,
                                       visible=cameras_visible))
    series += [ViewerSeries(s.name, to_display(s.points), s.colour, s.dashed, s.markers) for s in trajectories]
    return viewer_html(series, labels, element_id, clouds=clouds, segments=segments)


def map_sections(folder: str | Path, up: DisplayUpAxis) -> list[Section]:
    """The report of a map folder: its geometry and keyframe cameras in the 3-D viewer, and its manifest.

    Raises:
        FileFormatError: a missing or malformed manifest, a missing or empty geometry PLY.
    """
    geometry = load_map_geometry(folder)
    body = geometry_note(geometry) + _map_viewer(geometry, [], up, "map-viewer")
    return [Section("map", "Map", body), Section("manifest", "Manifest", manifest_table(geometry))]


def _read_summary(folder: Path) -> dict:
    path = folder / LOCALIZE_SUMMARY
    loaded = json.loads(path.read_text(encoding="utf-8"))
    if not isinstance(loaded, dict):
        raise FileFormatError(path, f"expected a JSON object, got {type(loaded).__name__}")
    return loaded


def _flatten(mapping: dict, prefix: str = "") -> list[tuple[str, object]]:
    rows: list[tuple[str, object]] = []
    for key, value in mapping.items():
        if isinstance(value, dict):
            rows += _flatten(value, f"{prefix}{key}.")
        else:
            rows.append((f"{prefix}{key}", value if isinstance(value, (int, float, str, bool)) or value is None
                         else json.dumps(value)))
    return rows


def resolve_map_folder(run: Path, named: str) -> Path | None:
    """The map folder a run's summary names: as written (relative to the working directory), relative to the
    run folder, or the run folder's parent (``posekit localize``'s default ``MAP/localize``)."""
    candidates = [Path(named)]
    if not Path(named).is_absolute():
        candidates.append(run / named)
    candidates.append(run.parent)
    return next((c for c in candidates if is_map_folder(c)), None)


def _frame_errors(path: Path) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """``(translation_m, rotation_deg, success)`` ``(N,)`` of ``frames.csv``; ``None`` when it has no errors."""
    with path.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    if not rows or not rows[0].get("t_err_m"):
        return None
    try:
        return (np.array([float(r["t_err_m"]) for r in rows]), np.array([float(r["r_err_deg"]) for r in rows]),
                np.array([r.get("success", "1") == "1" for r in rows]))
    except (KeyError, ValueError) as error:
        raise FileFormatError(path, f"malformed per-frame errors: {error}") from None


def _trajectories(folder: Path) -> tuple[list[ViewerSeries], list[str]]:
    """World-frame series of the run's ground truth, estimates and fused estimates, and reading problems."""
    series, problems, colour = [], [], 0
    kinds = ((GROUND_TRUTH_PREFIX, "ground truth"), (ESTIMATE_PREFIX, "estimated"), (FUSED_PREFIX, "fused"))
    for prefix, label in kinds:
        for path in sorted(folder.glob(f"{prefix}*.tum")):
            record = path.stem[len(prefix):]
            try:
                positions = read_tum(path).positions.double().numpy()
            except _READ_ERRORS as error:
                problems.append(f"Could not read {path}: {error}")
                continue
            name = f"{label} ({record})"
            if prefix == GROUND_TRUTH_PREFIX:
                series.append(ViewerSeries(name, positions, GROUND_TRUTH_COLOUR, dashed=True))
            else:
                series.append(ViewerSeries(name, positions, series_colour(colour)))
                colour += 1
    return series, problems


def _panels_section(folder: Path) -> Section | None:
    index = folder / PANELS_DIR / PANELS_INDEX
    if not index.is_file():
        return None
    try:
        entries = json.loads(index.read_text(encoding="utf-8"))["panels"]
    except (*_READ_ERRORS, KeyError, TypeError) as error:
        return Section("panels", "Render and compare", note(f"Could not read {index}: {error}"))
    body = note(f"Each row: the query | the map rendered at the estimated pose | |difference| (mean over the "
                f"colour channels, black 0, white >= {DIFFERENCE_FULL_SCALE:g}; magenta: no map surface).")
    for entry in entries:
        path = folder / str(entry.get("file", ""))
        numbers = [f"{entry.get('label', '')}: {entry.get('frame', '')}"]
        if entry.get("t_err_m") is not None:
            numbers.append(f"error {entry['t_err_m'] * 100:.1f} cm / {entry['r_err_deg']:.2f} deg")
        if entry.get("mean_abs_difference") is not None:
            numbers.append(f"mean |difference| {entry['mean_abs_difference']:.3f}")
        numbers.append(f"map coverage {entry.get('coverage', 0.0) * 100:.0f} %")
        if not entry.get("success", True):
            numbers.append("FLAGGED (localisation failed its checks)")
        try:
            body += figure(path.read_bytes(), "; ".join(numbers))
        except OSError as error:
            body += note(f"Could not read {path}: {error}")
    return Section("panels", "Render and compare", body)


def localize_sections(folder: str | Path, up: DisplayUpAxis) -> list[Section]:
    """The report of a ``posekit localize`` run folder (see the module docstring); unreadable parts become notes."""
    folder = Path(folder)
    sections, notes = [], []
    try:
        summary = _read_summary(folder)
    except _READ_ERRORS as error:
        summary = {}
        notes.append(f"Could not read {folder / LOCALIZE_SUMMARY}: {error}")
    body = "".join(note(n) for n in notes)
    if summary:
        body += f"<h3>{escape(LOCALIZE_SUMMARY)}</h3>" + table(["metric", "value"], _flatten(summary))
    errors = None
    if (folder / LOCALIZE_FRAMES).is_file():
        try:
            errors = _frame_errors(folder / LOCALIZE_FRAMES)
        except _READ_ERRORS as error:
            body += note(f"Could not read {folder / LOCALIZE_FRAMES}: {error}")
    if errors is not None:
        flagged = int((~errors[2]).sum())
        body += f"<p>{escape(f'{len(errors[0])} frames, {flagged} flagged.')}</p>"
    sections.append(Section("localization", "Localisation", body))

    series, problems = _trajectories(folder)
    view = "".join(note(p) for p in problems)
    geometry = None
    named = summary.get("map")
    map_folder = resolve_map_folder(folder, str(named)) if named else None
    if named and map_folder is None:
        view += note(f"The map {named} (summary.json) was not found: trajectories only.")
    elif map_folder is not None:
        try:
            geometry = load_map_geometry(map_folder)
            view += f"<p>Map: {escape(map_folder)}</p>" + geometry_note(geometry)
        except _READ_ERRORS as error:
            view += note(f"Could not read the map {map_folder}: {error}")
    if series or geometry is not None:
        view += _map_viewer(geometry, series, up, "trajectory-viewer")
        sections.append(Section("trajectories", "Map and trajectories", view))
    if errors is not None:
        plot = plot_error_distributions([ErrorSeries(summary.get("method", "localize"), errors[0], errors[1])])
        sections.append(Section("errors", "Error distributions", figure(
            figure_to_png_bytes(plot), "translation and rotation errors: histograms and cumulative curves")))
    panels = _panels_section(folder)
    if panels is not None:
        sections.append(panels)
    return sections
