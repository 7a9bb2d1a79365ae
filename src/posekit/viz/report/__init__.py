"""The HTML report of a run: one self-contained file (images embedded as base64 PNG, an inline-JavaScript
3-D trajectory viewer) that opens from disk with no server and no network.

The run folder it reads is described in :mod:`posekit.runs`::

    RUN_DIR/config.yaml, RUN_DIR/metrics.json, RUN_DIR/eval/<method>.{json,csv,tum,gt.tum},
    RUN_DIR/eval/groundtruth.tum, RUN_DIR/logs/**/metrics.csv, RUN_DIR/figures/*.png

Example:
    >>> write_report("runs/demo")  # doctest: +SKIP
    PosixPath('runs/demo/report.html')
"""

from posekit.runs import (
    FRAME_ERROR_COLUMNS,
    FrameErrors,
    MethodFiles,
    RunFolder,
    read_frame_errors,
    write_frame_errors,
)
from posekit.viz.report.builder import DEFAULT_REPORT_NAME, build_report_html, write_report

__all__ = [
    "DEFAULT_REPORT_NAME",
    "FRAME_ERROR_COLUMNS",
    "FrameErrors",
    "MethodFiles",
    "RunFolder",
    "build_report_html",
    "read_frame_errors",
    "write_frame_errors",
    "write_report",
]
