"""Assemble the HTML report of a run folder (layout: :mod:`posekit.runs`), of a map folder or of a localisation
run (:mod:`posekit.viz.report.map_report`).

Sections, each left out when its files are absent (no empty section; a report of a folder with nothing in it
says so), and a note naming the file when one cannot be read (the rest of the report is still written):
configuration (the options that are set; the whole file folded below), metric tables, trajectories (an
interactive 3-D view of every trajectory and a static figure per method), error distributions, training curves,
and the run's own figures.

A map folder (``manifest.json``) gets its geometry and keyframe cameras in the 3-D viewer and its manifest; a
``posekit localize`` run folder gets its summary, the map with the estimated and true trajectories, the error
distributions and the render-and-compare panels.

Several run folders make one comparison report: methods are named ``RUN/METHOD`` and share the tables, the
3-D view and the error plots; the configuration table has one column per run and lists only the options whose
values differ; training curves and figures follow run by run.
"""

from __future__ import annotations

import datetime
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
import yaml

import posekit
from posekit.errors import ConfigError, FileFormatError, PosekitError
from posekit.fileio import atomic_write_text
from posekit.metrics.pose_errors import DEFAULT_THRESHOLDS, PoseErrors, absolute_pose_errors
from posekit.metrics.sync import associate_trajectories
from posekit.metrics.trajectory import Trajectory
from posekit.metrics.trajectory_files import read_tum
from posekit.runs import (
    CONFIG_FILE,
    EVAL_DIR,
    FIGURES_DIR,
    LOGS_DIR,
    METRICS_FILE,
    FrameErrors,
    MethodFiles,
    RunFolder,
    read_frame_errors,
)
from posekit.viz.canvas import figure_to_png_bytes
from posekit.viz.error_plots import ErrorSeries, plot_error_distributions
from posekit.viz.ground import DisplayUpAxis, resolve_up_axis, to_display_frame
from posekit.viz.report.html import Section, escape, figure, note, page, table
from posekit.viz.report.map_report import is_localize_run, localize_sections, map_sections
from posekit.viz.report.map_view import is_map_folder
from posekit.viz.report.viewer import ViewerSeries, viewer_html
from posekit.viz.style import GROUND_TRUTH_COLOUR, series_colour
from posekit.viz.training_curves import plot_training_curves, read_lightning_metrics
from posekit.viz.trajectories import plot_trajectory_comparison

DEFAULT_REPORT_NAME = "report.html"
# What reading one part of a run can raise; the part is then replaced by a note and the report goes on.
_READ_ERRORS = (PosekitError, OSError, ValueError, yaml.YAMLError)


def _problem(path: Path, error: BaseException) -> str:
    message = str(error)
    return message if str(path) in message else f"{path}: {message}"


@dataclass
class _Method:
    """What could be read of one method's evaluation files."""

    files: MethodFiles
    colour: str
    run_label: str = ""
    summary: dict | None = None
    frame_errors: FrameErrors | None = None
    predicted: Trajectory | None = None
    ground_truth: Trajectory | None = None
    problems: list[str] = field(default_factory=list)

    @property
    def name(self) -> str:
        return f"{self.run_label}/{self.files.name}" if self.run_label else self.files.name

    def pose_errors(self) -> PoseErrors | None:
        """Per-frame errors: from the CSV, else from the associated trajectories, else ``None``."""
        if self.frame_errors is not None:
            errors = self.frame_errors
            return PoseErrors(torch.from_numpy(errors.translation_m), torch.from_numpy(errors.rotation_deg))
        if self.predicted is not None and self.ground_truth is not None:
            return absolute_pose_errors(self.ground_truth.poses, self.predicted.poses)
        return None


def _load_method(files: MethodFiles, colour: str, run_label: str = "") -> _Method:
    method = _Method(files, colour, run_label)
    if files.summary is not None:
        try:
            loaded = json.loads(files.summary.read_text(encoding="utf-8"))
            if not isinstance(loaded, dict):
                raise FileFormatError(files.summary, f"expected a JSON object, got {type(loaded).__name__}")
            method.summary = loaded
        except _READ_ERRORS as error:
            method.problems.append(_problem(files.summary, error))
    if files.frame_errors is not None:
        try:
            method.frame_errors = read_frame_errors(files.frame_errors)
        except _READ_ERRORS as error:
            method.problems.append(_problem(files.frame_errors, error))
    if files.trajectory is not None:
        try:
            predicted = read_tum(files.trajectory)
            if files.ground_truth is not None:
                ground_truth = read_tum(files.ground_truth)
                ground_truth, predicted = associate_trajectories(ground_truth, predicted)
                method.ground_truth = ground_truth
            method.predicted = predicted
        except _READ_ERRORS as error:
            method.problems.append(_problem(files.trajectory, error))
    return method


def _flatten(mapping: dict, prefix: str = "") -> dict[str, object]:
    """Nested dictionaries as dotted keys: ``{"a": {"b": 1}}`` -> ``{"a.b": 1}``."""
    flat: dict[str, object] = {}
    for key, value in mapping.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict) and value:
            flat.update(_flatten(value, f"{name}."))
        else:
            flat[name] = value if isinstance(value, (int, float, str, bool)) or value is None else json.dumps(value)
    return flat


def _set_options(loaded: object) -> dict[str, object]:
    """The configuration's options that are set, as dotted keys (``None``-valued options do not apply)."""
    if not isinstance(loaded, dict):
        return {}
    return {k: v for k, v in _flatten(loaded).items() if v is not None and v != "[]" and v != ""}


def _read_config(run: RunFolder) -> tuple[str | None, object, str | None]:
    """(text, parsed YAML, problem) of the run's configuration; (None, None, None) when it has none."""
    if not run.config.is_file():
        return None, None, None
    try:
        text = run.config.read_text(encoding="utf-8")
        return text, yaml.safe_load(text), None
    except _READ_ERRORS as error:
        return None, None, f"Could not read {_problem(run.config, error)}"


def _config_section(runs: list[_Run]) -> Section | None:
    configs = [(run, *_read_config(run.folder)) for run in runs]
    if all(text is None and problem is None for _, text, _, problem in configs):
        return None
    body = "".join(note(problem) for _, _, _, problem in configs if problem)
    options = {run.label: _set_options(loaded) for run, text, loaded, _ in configs if text is not None}
    if len(runs) == 1 and options:
        body += table(["option", "value"], list(next(iter(options.values())).items()), css_class="config")
    elif options:
        keys = list(dict.fromkeys(k for values in options.values() for k in values))
        differing = [k for k in keys if len({json.dumps(v.get(k), default=str) for v in options.values()}) > 1]
        rows = [[k] + [v.get(k, "") for v in options.values()] for k in differing]
        body += table(["option", *options], rows, css_class="config") if rows else note("The runs' options are equal.")
        if len(differing) < len(keys):
            body += note(f"{len(keys) - len(differing)} option(s) with the same value in every run are not listed.")
    for run, text, _, _ in configs:
        if text is not None:
            label = CONFIG_FILE if len(runs) == 1 else f"{run.label}/{CONFIG_FILE}"
            body += f"<details><summary>{escape(label)}</summary><pre>{escape(text)}</pre></details>"
    return Section("configuration", "Configuration", body)


def _run_metrics_tables(run: RunFolder, label: str = "") -> str:
    if not run.metrics.is_file():
        return ""
    try:
        loaded = json.loads(run.metrics.read_text(encoding="utf-8"))
    except _READ_ERRORS as error:
        return note(f"Could not read {_problem(run.metrics, error)}")
    heading = f"{label}/{METRICS_FILE}" if label else METRICS_FILE
    if not isinstance(loaded, dict):
        return f"<h3>{escape(heading)}</h3><pre>{escape(json.dumps(loaded, indent=2))}</pre>"
    scalars = {k: v for k, v in loaded.items() if not isinstance(v, dict)}
    html = f"<h3>{escape(heading)}</h3>"
    if scalars:
        html += table(["metric", "value"], list(_flatten(scalars).items()))
    for group, values in loaded.items():
        if isinstance(values, dict):
            html += f"<h3>{escape(group)}</h3>" + table(["metric", "value"], list(_flatten(values).items()))
    return html


def _summary_table(methods: list[_Method]) -> str:
    summaries = [(m.name, _flatten(m.summary)) for m in methods if m.summary]
    if not summaries:
        return ""
    columns: list[str] = []
    for _, flat in summaries:
        columns += [k for k in flat if k not in columns and k != "method"]  # the first column names the method
    rows = [[name] + [flat.get(c, "") for c in columns] for name, flat in summaries]
    return f"<h3>Evaluation summaries ({escape(EVAL_DIR)}/*.json)</h3>" + table(["method"] + columns, rows)


def _statistics_table(methods: list[_Method]) -> str:
    rows = []
    for method in methods:
        errors = method.pose_errors()
        if errors is None or errors.translation.numel() == 0:
            continue
        summary = errors.summary()
        found = int((errors.translation.isfinite() & errors.rotation_deg.isfinite()).sum())
        rows.append([method.name, errors.translation.numel(), found, summary.median_translation,
                     summary.median_rotation_deg, summary.mean_translation, summary.mean_rotation_deg]
                    + [summary.recall[t] for t in DEFAULT_THRESHOLDS])
    if not rows:
        return ""
    headers = ["method", "frames", "with estimate", "median t [m]", "median r [deg]", "mean t [m]",
               "mean r [deg]"] + [f"recall {t * 100:g} cm / {r:g} deg" for t, r in DEFAULT_THRESHOLDS]
    return "<h3>Per-frame error statistics</h3>" + table(headers, rows)


def _metrics_section(runs: list[_Run], methods: list[_Method]) -> Section | None:
    body = "".join(_run_metrics_tables(run.folder, run.label if len(runs) > 1 else "") for run in runs)
    body += _summary_table(methods) + _statistics_table(methods)
    problems = [p for m in methods for p in m.problems]
    body += "".join(note(f"Could not read {p}") for p in problems)
    return Section("metrics", "Metrics", body) if body else None


def _display_up(methods: list[_Method], up: DisplayUpAxis) -> DisplayUpAxis:
    references = [m.ground_truth.positions.numpy() for m in methods if m.ground_truth is not None]
    if not references:
        references = [m.predicted.positions.numpy() for m in methods if m.predicted is not None]
    if not references:
        return DisplayUpAxis.Z if up is DisplayUpAxis.AUTO else up
    return resolve_up_axis(np.concatenate(references), up)


def _trajectory_section(methods: list[_Method], up: DisplayUpAxis) -> Section | None:
    with_trajectory = [m for m in methods if m.predicted is not None]
    if not with_trajectory:
        return None
    up = _display_up(methods, up)
    labels = to_display_frame(np.zeros((0, 3)), up)[1]
    series, ground_truth_files = [], set()
    for method in with_trajectory:
        gt_file = method.files.ground_truth
        # one series per distinct ground truth: runs compared on the same data share theirs
        content = gt_file.read_bytes() if method.ground_truth is not None else b""
        if method.ground_truth is not None and content not in ground_truth_files:
            ground_truth_files.add(content)
            where = f"{method.run_label}/{gt_file.name}" if method.run_label else gt_file.name
            name = "ground truth" if len(ground_truth_files) == 1 else f"ground truth ({where})"
            series.append(ViewerSeries(name, to_display_frame(read_tum(gt_file).positions, up)[0],
                                       GROUND_TRUTH_COLOUR, dashed=True))
        series.append(ViewerSeries(method.name, to_display_frame(method.predicted.positions, up)[0], method.colour))
    body = "<h3>Interactive 3-D view</h3>" + viewer_html(series, labels)
    for method in with_trajectory:
        if method.ground_truth is None:
            body += note(f"{method.name}: no ground truth ({method.name}.gt.tum or groundtruth.tum), "
                         "so no error-coloured figure.")
            continue
        plot = plot_trajectory_comparison(method.ground_truth, method.predicted, up=up, title=method.name)
        body += f"<h3>{escape(method.name)}</h3>" + figure(
            figure_to_png_bytes(plot), f"{method.name}: predicted (coloured by translation error) and ground truth")
    return Section("trajectories", "Trajectories", body)


def _errors_section(methods: list[_Method]) -> Section | None:
    series = [ErrorSeries.from_pose_errors(m.name, e) for m, e in ((m, m.pose_errors()) for m in methods)
              if e is not None and e.translation.numel()]
    if not series:
        return None
    plot = plot_error_distributions(series)
    return Section("errors", "Error distributions", figure(
        figure_to_png_bytes(plot), "translation and rotation errors: histograms and cumulative curves"))


def _training_section(runs: list[_Run]) -> Section | None:
    logs = [(run, path) for run in runs for path in run.folder.lightning_logs()]
    if not logs:
        return None
    body = ""
    for run, path in logs:
        relative = path.relative_to(run.folder.root).as_posix()
        relative = f"{run.label}/{relative}" if len(runs) > 1 else relative
        try:
            curves = read_lightning_metrics(path)
        except _READ_ERRORS as error:
            body += note(f"Could not read {_problem(path, error)}")
            continue
        body += figure(figure_to_png_bytes(plot_training_curves(curves, title=relative)), relative)
    return Section("training", "Training curves", body)


def _figures_section(runs: list[_Run]) -> Section | None:
    paths = [(run, path) for run in runs for path in run.folder.figures()]
    if not paths:
        return None
    body = ""
    for run, path in paths:
        caption = path.stem.replace("_", " ")
        caption = f"{run.label}: {caption}" if len(runs) > 1 else caption
        try:
            body += figure(path.read_bytes(), caption, path.suffix)
        except OSError as error:
            body += note(f"Could not read {_problem(path, error)}")
    return Section("figures", "Figures", body)


@dataclass
class _Run:
    """One run folder of a report and the label its methods, options and curves carry."""

    folder: RunFolder
    label: str


def _runs(run_dirs: str | Path | Sequence[str | Path]) -> list[_Run]:
    paths = [Path(run_dirs)] if isinstance(run_dirs, (str, Path)) else [Path(p) for p in run_dirs]
    if not paths:
        raise FileFormatError(Path("."), "no run folder given")
    runs = []
    for path in paths:
        folder = RunFolder(path)
        if not folder.root.is_dir():
            raise FileFormatError(folder.root, "run folder not found (expected a folder with config.yaml, eval/, logs/ ...)")
        runs.append(folder)
    names = [r.root.resolve().name for r in runs]
    if len(set(names)) < len(names):  # same folder names (run1/out, run2/out): label by the parent too
        names = [f"{r.root.resolve().parent.name}/{r.root.resolve().name}" for r in runs]
    labels = [name if names.count(name) == 1 else f"{name}#{i + 1}" for i, name in enumerate(names)]
    return [_Run(folder, label) for folder, label in zip(runs, labels, strict=True)]


def build_report_html(run_dirs: str | Path | Sequence[str | Path], up: DisplayUpAxis = DisplayUpAxis.AUTO,
                      title: str | None = None) -> str:
    """The report of one run folder, or the comparison of several, as one self-contained HTML document (see
    :func:`write_report`)."""
    runs = _runs(run_dirs)
    compare = len(runs) > 1
    special = [r.folder.root for r in runs if is_map_folder(r.folder.root) or is_localize_run(r.folder.root)]
    if compare and special:
        raise ConfigError(f"{special[0]}: a map folder or a localisation run is reported alone, not compared")
    if is_map_folder(runs[0].folder.root):
        return _map_page(runs[0].folder.root, up, title)
    methods, colour = [], 0
    for run in runs:
        for files in run.folder.methods():
            methods.append(_load_method(files, series_colour(colour), run.label if compare else ""))
            colour += 1
    localize = localize_sections(runs[0].folder.root, up) if is_localize_run(runs[0].folder.root) else []
    sections = localize + [section for section in (
        _config_section(runs),
        _metrics_section(runs, methods),
        _trajectory_section(methods, up),
        _errors_section(methods),
        _training_section(runs),
        _figures_section(runs),
    ) if section is not None]
    folders = ", ".join(str(run.folder.root.resolve()) for run in runs)
    if not sections:
        sections = [Section("empty", "Nothing to report", note(
            f"No {CONFIG_FILE}, {METRICS_FILE}, {EVAL_DIR}/, {LOGS_DIR}/**/metrics.csv or {FIGURES_DIR}/ in {folders}: "
            "neither a run folder, nor a map folder (manifest.json), nor a localisation run (summary.json and "
            "poses_*.tum)."))]
    stamp = datetime.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z")
    meta = f"run folder{'s' if compare else ''} {folders} · generated {stamp} by posekit {posekit.__version__}"
    default_title = (f"posekit comparison: {', '.join(r.label for r in runs)}" if compare
                     else f"posekit report: {runs[0].folder.root.resolve().name}")
    return page(title or default_title, meta, sections)


def _map_page(folder: Path, up: DisplayUpAxis, title: str | None) -> str:
    """The report of a map folder (see :func:`posekit.viz.report.map_report.map_sections`)."""
    stamp = datetime.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z")
    meta = f"map folder {folder.resolve()} · generated {stamp} by posekit {posekit.__version__}"
    return page(title or f"posekit map: {folder.resolve().name}", meta, map_sections(folder, up))


def write_report(
    run_dir: str | Path | Sequence[str | Path], out_path: str | Path | None = None,
    up: DisplayUpAxis = DisplayUpAxis.AUTO, title: str | None = None,
) -> Path:
    """Write the HTML report of a run folder (or the comparison of several), atomically.

    Args:
        run_dir: the run folder (layout: :mod:`posekit.runs`), a map folder, a localisation run folder, or several
            run folders to compare; missing parts are left out.
        out_path: the HTML file (default ``RUN_DIR/report.html``; required for several runs).
        up: the world's up axis for the trajectory views.
        title: page title (default: the run folder's name).

    Returns:
        The path written.

    Raises:
        FileFormatError: ``run_dir`` is not a folder; a map folder with a malformed manifest or a missing or
            empty geometry PLY.
        ConfigError: several folders, one of them a map or a localisation run.
    """
    several = not isinstance(run_dir, (str, Path)) and len(run_dir) > 1
    if out_path is None and several:
        raise ConfigError("a comparison report of several runs needs an output file (--out)")
    first = run_dir if isinstance(run_dir, (str, Path)) else run_dir[0]
    out = Path(out_path) if out_path is not None else Path(first) / DEFAULT_REPORT_NAME
    atomic_write_text(out, build_report_html(run_dir, up, title))
    return out
