"""Result files of a trajectory evaluation: per-pose (APE) or per-pair (RPE) errors with their statistics.

Written by ``posekit eval-traj --save-results`` and read by ``posekit res``:

- ``.json``: one object ``{"title", "metric", "pose_relation", "unit", "ref_name", "est_name", "alignment",
  "statistics", "errors", "timestamps", "pairs"}`` (``timestamps``/``pairs`` may be ``null``).
- ``.npz``: arrays ``errors``, ``timestamps`` and ``pairs`` (empty when absent) and ``info``, the other fields
  as a JSON string.
- evo's ``--save_results`` zip files (``info.json``, ``stats.json``, ``error_array.npz``) are read too, so
  old evo results can sit in the same comparison table (reading a file format; no evo code is used).
"""

from __future__ import annotations

import io
import json
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from posekit.errors import TrajectoryError
from posekit.fileio import atomic_save, atomic_write_text

RESULT_SUFFIXES = (".json", ".npz", ".zip")


@dataclass(eq=False)
class EvaluationRecord:
    """One saved evaluation.

    Attributes:
        title: what was measured (``"APE w.r.t. translation part (m), alignment se3"``).
        statistics: ``{"rmse", "mean", "median", "std", "min", "max", "sse"}``.
        errors: ``(K,)`` float64 errors.
        metric: ``"ape"``, ``"rpe"`` (or ``""`` when unknown, e.g. evo files).
        pose_relation, unit: what the errors are and their unit.
        ref_name, est_name: the files compared.
        timestamps: ``(K,)`` seconds of the errors (APE: of the pose; RPE: of the pair's first pose), or None.
        pairs: ``(K, 2)`` index pairs (RPE), or None.
        extra: other fields (alignment, options).
    """

    title: str
    statistics: dict[str, float]
    errors: np.ndarray
    metric: str = ""
    pose_relation: str = ""
    unit: str = ""
    ref_name: str = ""
    est_name: str = ""
    timestamps: np.ndarray | None = None
    pairs: np.ndarray | None = None
    extra: dict = field(default_factory=dict)

    def __repr__(self) -> str:
        stats = ", ".join(f"{name}={value:.6g}" for name, value in self.statistics.items())
        return f"EvaluationRecord({self.title!r}, {self.errors.size} values: {stats})"

    def _info(self) -> dict:
        return {
            "title": self.title, "metric": self.metric, "pose_relation": self.pose_relation, "unit": self.unit,
            "ref_name": self.ref_name, "est_name": self.est_name, "statistics": self.statistics, **self.extra,
        }


def save_record(path: str | Path, record: EvaluationRecord) -> Path:
    """Write ``record`` atomically as ``.json`` or ``.npz`` (chosen by the suffix)."""
    path = Path(path)
    if path.suffix == ".json":
        data = record._info()
        data["errors"] = record.errors.tolist()
        data["timestamps"] = None if record.timestamps is None else record.timestamps.tolist()
        data["pairs"] = None if record.pairs is None else record.pairs.tolist()
        atomic_write_text(path, json.dumps(data) + "\n")
    elif path.suffix == ".npz":
        arrays = {
            "errors": record.errors,
            "timestamps": np.zeros(0) if record.timestamps is None else record.timestamps,
            "pairs": np.zeros((0, 2), dtype=np.int64) if record.pairs is None else record.pairs,
            "info": np.array(json.dumps(record._info())),
        }
        atomic_save(path, lambda handle: np.savez(handle, **arrays))
    else:
        raise TrajectoryError(f"{path}: results are saved as .json or .npz, not {path.suffix or 'no suffix'}")
    return path


def _record_from_info(info: dict, errors: np.ndarray, timestamps, pairs) -> EvaluationRecord:
    known = {"title", "metric", "pose_relation", "unit", "ref_name", "est_name", "statistics"}
    return EvaluationRecord(
        title=str(info.get("title", "")), statistics={k: float(v) for k, v in info["statistics"].items()},
        errors=np.asarray(errors, dtype=np.float64).reshape(-1), metric=str(info.get("metric", "")),
        pose_relation=str(info.get("pose_relation", "")), unit=str(info.get("unit", "")),
        ref_name=str(info.get("ref_name", "")), est_name=str(info.get("est_name", "")),
        timestamps=None if timestamps is None or len(timestamps) == 0 else np.asarray(timestamps, dtype=np.float64),
        pairs=None if pairs is None or len(pairs) == 0 else np.asarray(pairs, dtype=np.int64),
        extra={k: v for k, v in info.items() if k not in known},
    )


def _load_evo_zip(path: Path) -> EvaluationRecord:
    with zipfile.ZipFile(path) as archive:
        names = set(archive.namelist())
        if not {"info.json", "stats.json"} <= names:
            raise TrajectoryError(f"{path}: not a result archive (needs info.json and stats.json)")
        info = json.loads(archive.read("info.json"))
        info["statistics"] = json.loads(archive.read("stats.json"))
        errors = np.zeros(0)
        if "error_array.npz" in names:
            loaded = np.load(io.BytesIO(archive.read("error_array.npz")), allow_pickle=False)
            errors = loaded[loaded.files[0]] if hasattr(loaded, "files") else loaded
        stamps = None
        if "timestamps.npz" in names:
            loaded = np.load(io.BytesIO(archive.read("timestamps.npz")), allow_pickle=False)
            stamps = loaded[loaded.files[0]] if hasattr(loaded, "files") else loaded
    unit = info.get("label", "")
    info["unit"] = unit[unit.find("(") + 1 : unit.rfind(")")] if "(" in unit else ""
    title = str(info.get("title", ""))
    info["metric"] = title[:3].lower() if title[:3] in ("APE", "RPE") else ""
    if "w.r.t. " in title:  # "APE w.r.t. translation part (m)\n(with SE(3) ...)"
        info["pose_relation"] = title.split("w.r.t. ", 1)[1].split(" (", 1)[0].split("\n", 1)[0].strip()
    return _record_from_info(info, errors, stamps, None)


def load_record(path: str | Path) -> EvaluationRecord:
    """Read a result file written by :func:`save_record` (``.json``/``.npz``) or by evo (``.zip``).

    Raises:
        PosekitError: the file is missing (:class:`~posekit.errors.TrajectoryError` for a bad format).
    """
    path = Path(path)
    if not path.is_file():
        raise TrajectoryError(f"{path}: file not found")
    try:
        if path.suffix == ".json":
            data = json.loads(path.read_text(encoding="utf-8"))
            return _record_from_info(data, data["errors"], data.get("timestamps"), data.get("pairs"))
        if path.suffix == ".npz":
            with np.load(path, allow_pickle=False) as arrays:
                info = json.loads(str(arrays["info"]))
                return _record_from_info(info, arrays["errors"], arrays["timestamps"], arrays["pairs"])
        if path.suffix == ".zip":
            return _load_evo_zip(path)
    except (KeyError, ValueError, zipfile.BadZipFile) as error:
        raise TrajectoryError(f"{path}: not a readable result file ({type(error).__name__}: {error})") from None
    raise TrajectoryError(f"{path}: unknown result format {path.suffix!r} (expected one of {RESULT_SUFFIXES})")
