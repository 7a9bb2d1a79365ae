"""The frame record every format reader produces, and the split names.

A :class:`FrameRecord` is one image of one camera with everything needed to use it: where the image (and
depth) lie, the depth unit, the camera pose ``T_world_cam`` in metres, the intrinsics, the timestamp if the
format has one, and which record (sequence), camera and frame it is. Records are immutable; readers build
them, datasets select and load them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path

import torch

from posekit.errors import ShapeError
from posekit.geometry import PinholeIntrinsics

# Camera id of formats that have a single camera (7-Scenes, SUN3D frames, Cambridge, TUM, generic folder).
SINGLE_CAMERA = "cam0"


class Split(str, Enum):
    """A dataset split. ``TEST`` is the held-out part where the format's official split calls it so
    (7-Scenes, Cambridge), ``VAL`` where it calls it validation (Apolloscape) or where posekit generated it."""

    TRAIN = "train"
    VAL = "val"
    TEST = "test"
    ALL = "all"


@dataclass(frozen=True, eq=False)
class FrameRecord:
    """One image of one camera, with its pose and calibration.

    Attributes:
        image_path: the colour or grey image.
        T_world_cam: ``(4, 4)`` float64 camera-to-world pose in metres (OpenCV camera axes).
        intrinsics: the pinhole intrinsics of ``image_path`` at its stored size.
        record_id: the sequence / record / trajectory the frame belongs to (``seq-01``, ``Record001``, ``06``).
        camera_id: the camera (``cam0`` for single-camera formats, ``Camera 5``, ``image_2``).
        frame_id: the frame within the record, shared by the cameras of a stereo rig (frame number or the
            timestamp part of the file name).
        order: sort key of the frame within its record and camera (frame number, or time); pairs "at
            frame distance d" are d positions apart in this order.
        timestamp: seconds, if the format gives one.
        depth_path: 16-bit depth image, if any.
        depth_scale: metres per depth file unit (0.001 for millimetres, 1/5000 for TUM).
        split: the official split of the frame, where the format defines one.
        pose_source: ``file:line`` the pose came from, for error messages.
    """

    image_path: Path
    T_world_cam: torch.Tensor
    intrinsics: PinholeIntrinsics
    record_id: str
    camera_id: str
    frame_id: str
    order: int
    timestamp: float | None = None
    depth_path: Path | None = None
    depth_scale: float | None = None
    split: Split | None = None
    pose_source: str | None = field(default=None, compare=False)

    def __post_init__(self) -> None:
        pose = torch.as_tensor(self.T_world_cam, dtype=torch.float64)
        if pose.shape != (4, 4):
            raise ShapeError(f"T_world_cam of {self.image_path}: expected shape (4, 4), got {tuple(pose.shape)}")
        object.__setattr__(self, "T_world_cam", pose)
        object.__setattr__(self, "image_path", Path(self.image_path))
        if self.depth_path is not None:
            object.__setattr__(self, "depth_path", Path(self.depth_path))
            if self.depth_scale is None or not self.depth_scale > 0:
                raise ShapeError(f"{self.depth_path}: a depth file needs a positive depth_scale")

    @property
    def key(self) -> str:
        """Unique key of the frame in its dataset: ``record/camera/frame``."""
        return f"{self.record_id}/{self.camera_id}/{self.frame_id}"

    @property
    def has_depth(self) -> bool:
        return self.depth_path is not None
