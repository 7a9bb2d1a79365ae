"""Assemble the HTML report of a run folder (layout: :mod:`posekit.runs`).

Sections, each omitted with a note when its files are absent and a note naming the file when one cannot be
read (the rest of the report is still written): configuration, metric tables, trajectories (an interactive
3-D view of every trajectory and a static figure per method), error distributions, training curves, and the
run's own figures.
"""

from __future__ import annotations

import datetime
import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
import yaml

import posekit
from posekit.errors import FileFormatError, PosekitError
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
    summary: dict | None = None
    frame_errors: FrameErrors | None = None
    predicted: Trajectory | None = None
    ground_truth: Trajectory | None = None
    problems: list[str] = field(default_factory=list)

    @property
    def name(self) -> str:
        return self.files.name

    def pose_errors(self) -> PoseErrors | None:
        """Per-frame errors: from the CSV, else from the associated trajectories, else ``None``."""
        if self.frame_errors is not None:
            errors = self.frame_errors
            return PoseErrors(torch.from_numpy(errors.translation_m), torch.from_numpy(errors.rotation_deg))
        if self.predicted is not None and self.ground_truth is not None:
            return absolute_pose_errors(self.ground_truth.poses, self.predicted.poses)
        return None


def _load_method(files: MethodFiles, colour: str) -> _Method:
    method = _Method(files, colour)
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


def _config_section(run: RunFolder) -> Section:
    if not run.config.is_file():
        return Section("configuration", "Configuration", note(f"Omitted: no {CONFIG_FILE} in the run folder."))
    try:
        text = run.config.read_text(encoding="utf-8")
        loaded = yaml.safe_load(text)
    except _READ_ERRORS as error:
        return Section("configuration", "Configuration", note(f"Could not read {_problem(run.config, error)}"))
    body = ""
    if isinstance(loaded, dict) and loaded:
        body += table(["key", "value"], list(_flatten(loaded).items()), css_class="config")
    body += f"<details><summary>{escape(CONFIG_FILE)}</summary><pre>{escape(text)}</pre></details>"
    return Section("configuration", "Configuration", body)


def _run_metrics_tables(run: RunFolder) -> str:
    if not run.metrics.is_file():
        return ""
    try:
        loaded = json.loads(run.metrics.read_text(encoding="utf-8"))
    except _READ_ERRORS as error:
        return note(f"Could not read {_problem(run.metrics, error)}")
    if not isinstance(loaded, dict):
        return f"<h3>{escape(METRICS_FILE)}</h3><pre>{escape(json.dumps(loaded, indent=2))}</pre>"
    scalars = {k: v for k, v in loaded.items() if not isinstance(v, dict)}
    html = f"<h3>{escape(METRICS_FILE)}</h3>"
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
        columns += [k for k in flat if k not in columns]
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


def _metrics_section(run: RunFolder, methods: list[_Method]) -> Section:
    body = _run_metrics_tables(run) + _summary_table(methods) + _statistics_table(methods)
    problems = [p for m in methods for p in m.problems]
    body += "".join(note(f"Could not read {p}") for p in problems)
    if not body:
        body = note(f"Omitted: no {METRICS_FILE} and no evaluation files in {EVAL_DIR}/.")
    return Section("metrics", "Metrics", body)


def _display_up(methods: list[_Method], up: DisplayUpAxis) -> DisplayUpAxis:
    references = [m.ground_truth.positions.numpy() for m in methods if m.ground_truth is not None]
    if not references:
        references = [m.predicted.positions.numpy() for m in methods if m.predicted is not None]
    if not references:
        return DisplayUpAxis.Z if up is DisplayUpAxis.AUTO else up
    return resolve_up_axis(np.concatenate(references), up)


def _trajectory_section(methods: list[_Method], up: DisplayUpAxis) -> Section:
    with_trajectory = [m for m in methods if m.predicted is not None]
    if not with_trajectory:
        return Section("trajectories", "Trajectories", note(f"Omitted: no predicted trajectories ({EVAL_DIR}/*.tum)."))
    up = _display_up(methods, up)
    labels = to_display_frame(np.zeros((0, 3)), up)[1]
    series, ground_truth_files = [], set()
    for method in with_trajectory:
        gt_file = method.files.ground_truth
        if method.ground_truth is not None and gt_file not in ground_truth_files:
            ground_truth_files.add(gt_file)
            name = "ground truth" if len(ground_truth_files) == 1 else f"ground truth ({gt_file.name})"
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


def _errors_section(methods: list[_Method]) -> Section:
    series = [ErrorSeries.from_pose_errors(m.name, e) for m, e in ((m, m.pose_errors()) for m in methods)
              if e is not None and e.translation.numel()]
    if not series:
        return Section("errors", "Error distributions",
                       note(f"Omitted: no per-frame errors ({EVAL_DIR}/*.csv) and no trajectories with ground truth."))
    plot = plot_error_distributions(series)
    return Section("errors", "Error distributions", figure(
        figure_to_png_bytes(plot), "translation and rotation errors: histograms and cumulative curves"))


def _training_section(run: RunFolder) -> Section:
    logs = run.lightning_logs()
    if not logs:
        return Section("training", "Training curves", note(f"Omitted: no {LOGS_DIR}/**/metrics.csv."))
    body = ""
    for path in logs:
        relative = path.relative_to(run.root).as_posix()
        try:
            curves = read_lightning_metrics(path)
        except _READ_ERRORS as error:
            body += note(f"Could not read {_problem(path, error)}")
            continue
        body += figure(figure_to_png_bytes(plot_training_curves(curves, title=relative)), relative)
    return Section("training", "Training curves", body)


def _figures_section(run: RunFolder) -> Section:
    paths = run.figures()
    if not paths:
        return Section("figures", "Figures", note(f"Omitted: no images in {FIGURES_DIR}/."))
    body = ""
    for path in paths:
        try:
            body += figure(path.read_bytes(), path.stem.replace("_", " "), path.suffix)
        except OSError as error:
            body += note(f"Could not read {_problem(path, error)}")
    return Section("figures", "Figures", body)


def build_report_html(run_dir: str | Path, up: DisplayUpAxis = DisplayUpAxis.AUTO, title: str | None = None) -> str:
    """The report of ``run_dir`` as one self-contained HTML document (see :func:`write_report`)."""
    run = RunFolder(run_dir)
    if not run.root.is_dir():
        raise FileFormatError(run.root, "run folder not found (expected a folder with config.yaml, eval/, logs/ ...)")
    methods = [_load_method(files, series_colour(i)) for i, files in enumerate(run.methods())]
    sections = [
        _config_section(run),
        _metrics_section(run, methods),
        _trajectory_section(methods, up),
        _errors_section(methods),
        _training_section(run),
        _figures_section(run),
    ]
    stamp = datetime.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z")
    meta = f"run folder {run.root.resolve()} · generated {stamp} by posekit {posekit.__version__}"
    return page(title or f"posekit report: {run.root.resolve().name}", meta, sections)


def write_report(
    run_dir: str | Path, out_path: str | Path | None = None, up: DisplayUpAxis = DisplayUpAxis.AUTO, title: str | None = None
) -> Path:
    """Write the HTML report of a run folder, atomically.

    Args:
        run_dir: the run folder (layout: :mod:`posekit.runs`); missing parts are noted.
        out_path: the HTML file (default ``RUN_DIR/report.html``).
        up: the world's up axis for the trajectory views.
        title: page title (default: the run folder's name).

    Returns:
        The path written.

    Raises:
        FileFormatError: ``run_dir`` is not a folder.
    """
    out = Path(out_path) if out_path is not None else Path(run_dir) / DEFAULT_REPORT_NAME
    atomic_write_text(out, build_report_html(run_dir, up, title))
    return out
