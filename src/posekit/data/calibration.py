"""Small calibration files shared by several formats.

- ``intrinsics.yaml`` (generic folder, TUM RGB-D override, Apolloscape override)::

      fx: 525.0
      fy: 525.0
      cx: 319.5
      cy: 239.5
      width: 640
      height: 480
      depth_scale: 0.0002   # optional: metres per depth file unit

  Numbers may also be written as strings in C ``strtod``'s grammar (``fx: 5.85e2``, which YAML 1.1 reads as
  text). posekit's camera is a pinhole without distortion: distortion keys (``k1``, ``k2``, ``k3``, ``k4``,
  ``p1``, ``p2``, ``distortion``, ...) are accepted only when they are all zero, and any other key is refused
  (a misspelt ``depth_scale`` would otherwise be ignored silently). Undistort the images first.

- ``camera-intrinsics.txt`` (7-Scenes exports, SUN3D, 3DMatch): a 3x3 camera matrix K, one row per line.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import yaml

from posekit.errors import FileFormatError, PosekitError
from posekit.fileio import data_lines, is_number, parse_number, read_text, split_fields
from posekit.geometry import PinholeIntrinsics

INTRINSICS_YAML = "intrinsics.yaml"
CAMERA_INTRINSICS_TXT = "camera-intrinsics.txt"
_REQUIRED_KEYS = ("fx", "fy", "cx", "cy", "width", "height")
_OPTIONAL_KEYS = ("depth_scale",)
# Distortion coefficients under the names OpenCV, ROS and Kalibr files use: accepted only when all zero.
DISTORTION_KEYS = (
    "k1", "k2", "k3", "k4", "k5", "k6", "p1", "p2", "s1", "s2", "s3", "s4",
    "distortion", "distortion_coefficients", "distortion_coeffs", "dist_coeffs", "D",
)


@dataclass(frozen=True)
class CameraCalibration:
    """Intrinsics and, where the file gives it, the depth unit (metres per file unit)."""

    intrinsics: PinholeIntrinsics
    depth_scale: float | None = None


def read_intrinsics_yaml(path: str | Path) -> CameraCalibration:
    """Read an ``intrinsics.yaml`` file (keys fx, fy, cx, cy, width, height; optional depth_scale).

    Raises:
        FileFormatError: missing file, bad YAML, a missing key, or a value that is not a positive number.
    """
    path = Path(path)
    try:
        content = yaml.safe_load(read_text(path))
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        raise FileFormatError(path, f"invalid YAML: {error}", None if mark is None else mark.line + 1) from None
    if not isinstance(content, dict):
        raise FileFormatError(path, f"expected a mapping with keys {', '.join(_REQUIRED_KEYS)}")
    missing = [key for key in _REQUIRED_KEYS if key not in content]
    if missing:
        raise FileFormatError(path, f"missing key(s): {', '.join(missing)} (need {', '.join(_REQUIRED_KEYS)})")
    _check_extra_keys(path, content)
    values = {key: _number(path, key, content[key]) for key in _REQUIRED_KEYS}
    for key in ("width", "height"):
        if values[key] != int(values[key]):
            raise FileFormatError(path, f"{key} must be an integer number of pixels, got {content[key]!r}")
    depth_scale = None
    if content.get("depth_scale") is not None:
        depth_scale = _number(path, "depth_scale", content["depth_scale"])
        if depth_scale <= 0:
            raise FileFormatError(path, f"depth_scale must be positive, got {depth_scale}")
    try:
        intrinsics = PinholeIntrinsics(
            values["fx"], values["fy"], values["cx"], values["cy"], int(values["width"]), int(values["height"])
        )
    except PosekitError as error:
        raise FileFormatError(path, str(error)) from None
    return CameraCalibration(intrinsics, depth_scale)


def _check_extra_keys(path: Path, content: dict) -> None:
    """Refuse keys other than the known ones, and distortion coefficients that are not all zero."""
    for key, value in content.items():
        if key in _REQUIRED_KEYS or key in _OPTIONAL_KEYS:
            continue
        if key not in DISTORTION_KEYS:
            known = ", ".join(_REQUIRED_KEYS + _OPTIONAL_KEYS)
            raise FileFormatError(path, f"unknown key {key!r} (known: {known}; distortion keys must be zero)")
        values = value if isinstance(value, list) else [value]
        if any(_number(path, str(key), v) != 0.0 for v in values):
            raise FileFormatError(
                path,
                f"{key}: {value!r}: posekit's pinhole camera has no distortion; undistort the images and "
                "write zero (or no) distortion coefficients",
            )


def _number(path: Path, key: str, value) -> float:
    if isinstance(value, str) and is_number(value.strip(" \t")):
        return parse_number(value.strip(" \t"), path, None, key)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise FileFormatError(path, f"{key} must be a finite number, got {value!r}")
    return float(value)


def read_camera_matrix_txt(path: str | Path) -> list[list[float]]:
    """Read a ``camera-intrinsics.txt`` 3x3 camera matrix (rows of 3 numbers).

    Raises:
        FileFormatError: missing file, not 3 rows of 3 numbers, or not of the form [[fx,0,cx],[0,fy,cy],[0,0,1]].
    """
    path = Path(path)
    rows: list[list[float]] = []
    for number, line in data_lines(path, comment=None):
        tokens = split_fields(line)
        if len(tokens) != 3:
            raise FileFormatError(path, f"expected 3 numbers, got {len(tokens)}", number)
        rows.append([parse_number(token, path, number, "camera matrix") for token in tokens])
    if len(rows) != 3:
        raise FileFormatError(path, f"expected a 3x3 matrix (3 rows), got {len(rows)} rows")
    if abs(rows[0][1]) > 1e-9 or rows[1][0] != 0 or rows[2] != [0.0, 0.0, 1.0]:
        raise FileFormatError(path, f"expected [[fx,0,cx],[0,fy,cy],[0,0,1]], got {rows}")
    if not (rows[0][0] > 0 and rows[1][1] > 0):
        raise FileFormatError(path, f"focal lengths must be positive, got fx={rows[0][0]}, fy={rows[1][1]}")
    return rows


def intrinsics_from_matrix_rows(
    rows: list[list[float]], width: int, height: int, path: str | Path | None = None
) -> PinholeIntrinsics:
    """:class:`PinholeIntrinsics` of a 3x3 matrix given as rows, for images of ``width x height``.

    Raises:
        FileFormatError: naming ``path`` (when given), if the values make no valid camera.
    """
    return intrinsics_for_file(path, rows[0][0], rows[1][1], rows[0][2], rows[1][2], width, height)


def intrinsics_for_file(
    path: str | Path | None, fx: float, fy: float, cx: float, cy: float, width: int, height: int
) -> PinholeIntrinsics:
    """:class:`PinholeIntrinsics` read from ``path``; an invalid value raises a :class:`FileFormatError`
    naming the file (a plain :class:`~posekit.errors.ShapeError` when ``path`` is ``None``)."""
    try:
        return PinholeIntrinsics(fx, fy, cx, cy, int(width), int(height))
    except PosekitError as error:
        if path is None:
            raise
        raise FileFormatError(path, str(error)) from None
