"""Pose targets for absolute pose regression: the pose formats and the translation normalisation.

A target is the camera pose ``T_world_cam`` encoded as translation (normalised) followed by the rotation in
one of the :class:`PoseFormat` s:

=================  =====  =====================================================================
format             size   rotation part
=================  =====  =====================================================================
``quat``           7      unit quaternion (w, x, y, z) with w >= 0
``logq``           6      MapNet log-quaternion ``acos(w) v / |v|``
``euler``          6      (roll, pitch, yaw), ``R = Rz(yaw) Ry(pitch) Rx(roll)``, radians
``matrix``         4x4    the pose matrix itself, with the normalised translation
=================  =====  =====================================================================

:class:`PoseStats` holds the translation mean and standard deviation. It is computed on the **training
split only**, saved with the model (``to_dict`` / ``save``) and used again to un-normalise predictions
(:func:`decode_pose`), so validation data never leaks into it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from enum import Enum
from pathlib import Path

import torch

from posekit.errors import DatasetError, FileFormatError, ShapeError
from posekit.fileio import atomic_write_text, read_text
from posekit.geometry import (
    euler_to_matrix,
    log_to_quaternion,
    make_pose,
    matrix_to_euler,
    matrix_to_quaternion,
    quaternion_to_log,
    quaternion_to_matrix,
)
from posekit.geometry.checks import check_trailing_shape

# A translation axis whose training-set spread is below this (metres) is left unscaled (std = 1).
MIN_STD = 1e-9


class PoseFormat(str, Enum):
    """How a pose target is encoded (see the module docstring)."""

    QUATERNION = "quat"
    LOG_QUATERNION = "logq"
    EULER = "euler"
    MATRIX = "matrix"

    @property
    def shape(self) -> tuple[int, ...]:
        """Shape of one encoded pose."""
        return {"quat": (7,), "logq": (6,), "euler": (6,), "matrix": (4, 4)}[self.value]


@dataclass(frozen=True)
class PoseStats:
    """Translation normalisation ``t_norm = (t - mean) / std``, per axis.

    Attributes:
        mean: ``(x, y, z)`` mean camera position of the training frames (metres).
        std: ``(x, y, z)`` standard deviation (population, ``1`` for a constant axis).
        count: number of training poses it was computed from.
        source: what it was computed from (dataset, scene, split), for the record.
    """

    mean: tuple[float, float, float]
    std: tuple[float, float, float]
    count: int
    source: str = ""

    @classmethod
    def identity(cls) -> PoseStats:
        """No normalisation (mean 0, std 1)."""
        return cls((0.0, 0.0, 0.0), (1.0, 1.0, 1.0), 0, "identity")

    @classmethod
    def from_translations(cls, translations: torch.Tensor, source: str = "") -> PoseStats:
        """Statistics of ``(N, 3)`` translations (camera positions)."""
        check_trailing_shape("translations", translations, (3,))
        if translations.dim() != 2 or translations.shape[0] == 0:
            raise DatasetError(f"pose statistics need at least one training pose, got shape {tuple(translations.shape)}")
        t = translations.to(torch.float64)
        mean = t.mean(0)
        std = t.std(0, unbiased=False)
        std = torch.where(std < MIN_STD, torch.ones_like(std), std)
        return cls(tuple(mean.tolist()), tuple(std.tolist()), int(t.shape[0]), source)

    def normalize(self, translation: torch.Tensor) -> torch.Tensor:
        """``(..., 3)`` metres to normalised units."""
        mean, std = self._tensors(translation)
        return (translation - mean) / std

    def denormalize(self, translation: torch.Tensor) -> torch.Tensor:
        """``(..., 3)`` normalised units back to metres."""
        mean, std = self._tensors(translation)
        return translation * std + mean

    def _tensors(self, like: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        check_trailing_shape("translation", like, (3,))
        return like.new_tensor(self.mean), like.new_tensor(self.std)

    def to_dict(self) -> dict:
        return {"mean": list(self.mean), "std": list(self.std), "count": self.count, "source": self.source}

    @classmethod
    def from_dict(cls, data: dict) -> PoseStats:
        try:
            mean, std = tuple(float(v) for v in data["mean"]), tuple(float(v) for v in data["std"])
            count, source = int(data["count"]), str(data.get("source", ""))
        except (KeyError, TypeError, ValueError) as error:
            raise ShapeError(f"pose statistics: expected keys mean, std, count; got {data!r} ({error})") from None
        if len(mean) != 3 or len(std) != 3 or min(std) <= 0:
            raise ShapeError(f"pose statistics: mean and std need 3 values, std > 0; got {data!r}")
        return cls(mean, std, count, source)

    def save(self, path: str | Path) -> None:
        """Write as JSON, atomically."""
        atomic_write_text(path, json.dumps(self.to_dict(), indent=2) + "\n")

    @classmethod
    def load(cls, path: str | Path) -> PoseStats:
        try:
            data = json.loads(read_text(path))
        except json.JSONDecodeError as error:
            raise FileFormatError(path, f"invalid JSON: {error.msg}", error.lineno) from None
        try:
            return cls.from_dict(data)
        except ShapeError as error:
            raise FileFormatError(path, str(error)) from None


def encode_pose(T_world_cam: torch.Tensor, pose_format: PoseFormat, stats: PoseStats | None = None) -> torch.Tensor:
    """Encode camera poses as regression targets.

    Args:
        T_world_cam: ``(..., 4, 4)`` camera-to-world poses.
        pose_format: the :class:`PoseFormat`.
        stats: translation normalisation, or ``None`` for metres.

    Returns:
        ``(..., 7)``, ``(..., 6)`` or ``(..., 4, 4)`` (see :attr:`PoseFormat.shape`).
    """
    check_trailing_shape("T_world_cam", T_world_cam, (4, 4))
    pose_format = PoseFormat(pose_format)
    rotation, translation = T_world_cam[..., :3, :3], T_world_cam[..., :3, 3]
    if stats is not None:
        translation = stats.normalize(translation)
    if pose_format is PoseFormat.MATRIX:
        return make_pose(rotation, translation)
    if pose_format is PoseFormat.EULER:
        return torch.cat((translation, matrix_to_euler(rotation)), dim=-1)
    quaternion = matrix_to_quaternion(rotation)  # w >= 0
    if pose_format is PoseFormat.LOG_QUATERNION:
        return torch.cat((translation, quaternion_to_log(quaternion)), dim=-1)
    return torch.cat((translation, quaternion), dim=-1)


def decode_pose(encoded: torch.Tensor, pose_format: PoseFormat, stats: PoseStats | None = None) -> torch.Tensor:
    """Inverse of :func:`encode_pose`: ``(..., D)`` targets or predictions to ``(..., 4, 4)`` ``T_world_cam``
    in metres. Predicted quaternions need not be unit: they are normalised."""
    pose_format = PoseFormat(pose_format)
    if pose_format is PoseFormat.MATRIX:
        check_trailing_shape("encoded pose", encoded, (4, 4))
        rotation, translation = encoded[..., :3, :3], encoded[..., :3, 3]
    else:
        check_trailing_shape("encoded pose", encoded, pose_format.shape)
        translation, rest = encoded[..., :3], encoded[..., 3:]
        if pose_format is PoseFormat.EULER:
            rotation = euler_to_matrix(rest)
        elif pose_format is PoseFormat.LOG_QUATERNION:
            rotation = quaternion_to_matrix(log_to_quaternion(rest))
        else:
            rotation = quaternion_to_matrix(rest)
    if stats is not None:
        translation = stats.denormalize(translation)
    return make_pose(rotation, translation)
