"""Visual odometry between consecutive real 7-Scenes frames: the steps follow the T_i_(i+1) convention."""

from __future__ import annotations

import torch

from posekit.data import FrameLoader, FrameTransform, load_index
from posekit.fusion.odometry import direct_odometry, pnp_odometry
from posekit.geometry import relative_pose, se3_inverse
from posekit.metrics import relative_pose_errors


def _frames(root, first=800, count=4, stride=6, size=(240, 320)):
    index = load_index("frames", root)
    frames = sorted(index.frames, key=lambda f: f.order)[first : first + count * stride : stride]
    loader = FrameLoader(FrameTransform(resize=size))
    loaded = [loader.load(f) for f in frames]
    T_gt = torch.stack([f.T_world_cam for f in frames]).double()
    return (torch.stack([x.image for x in loaded]), torch.stack([x.depth for x in loaded]), loaded[0].intrinsics,
            relative_pose(T_gt[:-1], T_gt[1:]))


def test_direct_and_pnp_odometry_on_real_frames(sevenscenes_dir):
    """Frames 800, 806, 812, 818 at 240x320 (steps of 0.3-4 cm and 3-4 deg). Measured: both methods 1.3-2.9 cm
    and 0.7-1.1 deg from the ground truth (and within 2 mm of each other: 7-Scenes' RGB and depth cameras are
    not registered, which limits the agreement with the poses); the inverse convention is 6-8 deg off."""
    images, depths, intrinsics, gt_steps = _frames(sevenscenes_dir)
    for steps, ok in (direct_odometry(images, depths, intrinsics), pnp_odometry(images, depths, intrinsics)):
        assert bool(ok.all())
        errors = relative_pose_errors(gt_steps, steps)
        assert float(errors.translation.max()) < 0.04
        assert float(errors.rotation_deg.max()) < 1.5
        inverse = relative_pose_errors(gt_steps, se3_inverse(steps))
        assert float(errors.rotation_deg.max()) < float(inverse.rotation_deg.min()) / 3
