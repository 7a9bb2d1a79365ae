"""The two cameras of an RGB-D frame: depth intrinsics, colour intrinsics and the rigid offset between them.

posekit's readers give one :class:`PinholeIntrinsics` per frame (for 7-Scenes the depth camera's 585 px). In the
original 7-Scenes release the Kinect colour image is *not* registered to depth: the colour camera has a focal
length of about 525 px and sits about 2.5 cm beside the depth camera. The ground-truth poses in the files are
the depth camera's (KinectFusion). A map keeps the two apart: fusion samples colour through this calibration,
keyframes and renderings live in the colour camera, and localised poses are converted back to the depth
camera so that errors are against the file poses.

Checked on ``shared/data/7scenes_redkitchen_seq01`` (``docs/datasets.md``): warping the colour of frame j into
frame i through depth j and the file poses, the mean absolute colour difference over 5 pairs is 0.043 with a
colour focal of 525 px and 0.060 with 585 px; a colour camera at +2.5 cm along the depth camera's x axis is
slightly better than none or -2.5 cm. :func:`posekit.mapping.extrinsic.estimate_colour_extrinsic` (``posekit map
calibrate``) estimates the colour camera's rotation from posed frames: on frames 0-799 it is 0.23 deg from this
nominal model, which is kept; a calibration it writes is used with ``posekit map build --calibration FILE``
(model ``calibrated``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from enum import Enum

import torch

from posekit.errors import ConfigError, FileFormatError
from posekit.geometry.camera import PinholeIntrinsics, backproject_depth, project_points
from posekit.geometry.lie import se3_inverse, transform_points
from posekit.geometry.warp import sample_at_pixels

# 7-Scenes Kinect colour camera at 640x480 and its offset from the depth camera (metres, depth-camera frame).
KINECT_COLOUR_FOCAL_640 = 525.0
KINECT_COLOUR_OFFSET_M = (0.025, 0.0, 0.0)


class ColourModel(str, Enum):
    """How the colour camera relates to the depth camera of a dataset."""

    REGISTERED = "registered"  # colour and depth share intrinsics and pose (synthetic, TUM registered, SUN3D)
    KINECT_7SCENES = "kinect-7scenes"  # 7-Scenes: colour 525 px (at 640x480), 2.5 cm to the right of depth
    CALIBRATED = "calibrated"  # intrinsics and T_depth_colour from a calibration file (``posekit map calibrate``)


@dataclass(frozen=True)
class RgbdCalibration:
    """Depth and colour cameras of an RGB-D sensor.

    Attributes:
        depth: intrinsics of the depth image at its stored size.
        colour: intrinsics of the colour image at its stored size.
        T_depth_colour: ``(4, 4)`` float64, maps colour-camera points into the depth camera.
        model: the :class:`ColourModel` this came from.
    """

    depth: PinholeIntrinsics
    colour: PinholeIntrinsics
    T_depth_colour: torch.Tensor
    model: ColourModel

    @classmethod
    def from_model(cls, depth: PinholeIntrinsics, model: ColourModel | str) -> RgbdCalibration:
        """The calibration of ``model`` for a sensor whose depth camera is ``depth``."""
        try:
            model = ColourModel(model)
        except ValueError:
            known = ", ".join(m.value for m in ColourModel)
            raise ConfigError(f"--colour-model: unknown {model!r}; known: {known}") from None
        offset = torch.eye(4, dtype=torch.float64)
        if model is ColourModel.CALIBRATED:
            raise ConfigError("--colour-model calibrated: give the calibration file (--calibration FILE from "
                              "`posekit map calibrate`)")
        if model is ColourModel.REGISTERED:
            return cls(depth, depth, offset, model)
        scale = depth.width / 640.0
        focal = KINECT_COLOUR_FOCAL_640 * scale
        colour = PinholeIntrinsics(focal, focal, depth.cx, depth.cy, depth.width, depth.height)
        offset[:3, 3] = torch.tensor(KINECT_COLOUR_OFFSET_M, dtype=torch.float64)
        return cls(depth, colour, offset, model)

    def T_world_colour(self, T_world_depth: torch.Tensor) -> torch.Tensor:
        """``(..., 4, 4)`` colour-camera pose from the depth-camera (file) pose."""
        return T_world_depth.to(torch.float64) @ self.T_depth_colour

    def T_world_depth(self, T_world_colour: torch.Tensor) -> torch.Tensor:
        """``(..., 4, 4)`` depth-camera (file) pose from the colour-camera pose."""
        return T_world_colour.to(torch.float64) @ se3_inverse(self.T_depth_colour)

    def with_T_depth_colour(self, T_depth_colour: torch.Tensor) -> RgbdCalibration:
        """This calibration with another ``T_depth_colour (4, 4)`` (e.g. estimated by
        :func:`posekit.mapping.extrinsic.estimate_colour_extrinsic`); the model becomes ``calibrated``."""
        return RgbdCalibration(self.depth, self.colour, T_depth_colour.to(torch.float64), ColourModel.CALIBRATED)

    def to_dict(self) -> dict:
        return {"model": self.model.value, "depth": _intrinsics_dict(self.depth), "colour": _intrinsics_dict(self.colour),
                "T_depth_colour": self.T_depth_colour.tolist()}

    @classmethod
    def from_dict(cls, data: dict) -> RgbdCalibration:
        return cls(PinholeIntrinsics(**data["depth"]), PinholeIntrinsics(**data["colour"]),
                   torch.tensor(data["T_depth_colour"], dtype=torch.float64), ColourModel(data["model"]))


def load_calibration(path) -> RgbdCalibration:
    """A calibration written by ``posekit map calibrate`` (JSON with a ``calibration`` object, or the object itself).

    Raises:
        FileFormatError: the file is missing or malformed.
    """
    from pathlib import Path

    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        data = data.get("calibration", data)
        calibration = RgbdCalibration.from_dict(data)
        if tuple(calibration.T_depth_colour.shape) != (4, 4):
            raise ValueError(f"T_depth_colour has shape {tuple(calibration.T_depth_colour.shape)}, expected (4, 4)")
    except FileNotFoundError:
        raise FileFormatError(path, "calibration file not found") from None
    except (json.JSONDecodeError, KeyError, TypeError, ValueError, AttributeError) as error:
        raise FileFormatError(path, f"malformed calibration: {error}") from None
    return calibration


def _intrinsics_dict(k: PinholeIntrinsics) -> dict:
    return {"fx": k.fx, "fy": k.fy, "cx": k.cx, "cy": k.cy, "width": k.width, "height": k.height}


def colour_at_depth_pixels(colour: torch.Tensor, depth: torch.Tensor, calibration: RgbdCalibration) -> torch.Tensor:
    """The colour seen at every depth pixel (depth registered to colour the other way round), 0 where unknown.

    Args:
        colour: ``(B, 3, Hc, Wc)`` colour images at ``calibration.colour``'s size.
        depth: ``(B, 1, Hd, Wd)`` depth in metres at ``calibration.depth``'s size, 0 = unknown.

    Returns:
        ``(B, 3, Hd, Wd)`` colour per depth pixel.
    """
    b, _, h, w = depth.shape
    points_depth = backproject_depth(depth, calibration.depth).reshape(b, 3, -1)
    T_colour_depth = se3_inverse(calibration.T_depth_colour).to(depth.dtype).expand(b, 4, 4)
    points_colour = transform_points(T_colour_depth, points_depth.transpose(1, 2)).transpose(1, 2)
    pixels, in_front = project_points(points_colour, calibration.colour)
    hc, wc = colour.shape[-2:]
    inside = (pixels[:, 0] >= 0) & (pixels[:, 0] <= wc - 1) & (pixels[:, 1] >= 0) & (pixels[:, 1] <= hc - 1)
    known = in_front[:, 0] & inside & (depth.reshape(b, -1) > 0)
    sampled = sample_at_pixels(colour, pixels.reshape(b, 2, h, w))
    return sampled * known.reshape(b, 1, h, w).to(sampled.dtype)


def auto_colour_model(dataset_format: str, depth: PinholeIntrinsics) -> ColourModel:
    """``kinect-7scenes`` for 7-Scenes data (formats ``7scenes``/``frames`` with the 7-Scenes 585 px depth camera at
    640x480), ``registered`` otherwise (SUN3D exports, TUM, synthetic scenes register colour to depth)."""
    seven_scenes = (depth.fx, depth.fy, depth.cx, depth.cy, depth.width, depth.height) == (585.0, 585.0, 320.0, 240.0, 640, 480)
    if dataset_format in ("7scenes", "frames") and seven_scenes:
        return ColourModel.KINECT_7SCENES
    return ColourModel.REGISTERED
