"""Warp panels: the ground-truth pose explains the target, a wrong pose does not."""

from __future__ import annotations

import imageio.v2 as iio
import numpy as np
import pytest
import torch
import torch.nn.functional as F

from posekit.errors import ShapeError
from posekit.geometry import PinholeIntrinsics, relative_pose, se3_exp
from posekit.metrics.trajectory_files import read_pose_matrix_file
from posekit.viz.warp_panel import compare_warps, save_warp_panel_png

from .viz_fixtures import textured_pair

# A wrong relative pose: 5 cm sideways and 1.1 degrees about the vertical axis on top of the true one.
POSE_OFFSET = torch.tensor([0.05, 0.0, 0.0, 0.0, 0.02, 0.0])


def test_synthetic_pair_ground_truth_warp_reproduces_the_target(tmp_path):
    source, target, depth, T_src_tgt, intrinsics = textured_pair()
    comparison = compare_warps(source, target, depth, T_src_tgt, T_src_tgt @ se3_exp(POSE_OFFSET), intrinsics)
    assert comparison.warped_gt.shape == comparison.target.shape == (48, 64, 3)
    assert comparison.mean_error_gt < 1e-4
    assert comparison.mean_error_pred > 0.01
    assert 0.5 < comparison.valid_gt.mean() < 1.0  # the 10 cm shift moves part of the view out of the source
    # invalid pixels carry no error
    assert np.isnan(comparison.error_gt[~comparison.valid_gt]).all()
    path = save_warp_panel_png(tmp_path / "panel.png", comparison, "synthetic pair")
    assert iio.imread(path).shape[1] >= 1000


def _sevenscenes_frame(folder, index: int, size=(120, 160)):
    stem = folder / "frames" / f"frame-{index:06d}"
    image = torch.from_numpy(iio.imread(f"{stem}.color.jpg")).permute(2, 0, 1).float()[None] / 255.0
    depth = torch.from_numpy(iio.imread(f"{stem}.depth.png").astype(np.float32))[None, None] / 1000.0
    pose = read_pose_matrix_file(f"{stem}.pose.txt")
    return (F.interpolate(image, size=size, mode="area")[0],
            F.interpolate(depth, size=size, mode="nearest")[0], pose)


def test_real_sevenscenes_pair(sevenscenes_dir, tmp_path):
    source, _, T_world_src = _sevenscenes_frame(sevenscenes_dir, 0)
    target, target_depth, T_world_tgt = _sevenscenes_frame(sevenscenes_dir, 10)
    intrinsics = PinholeIntrinsics(585.0, 585.0, 320.0, 240.0, 640, 480).resized(160, 120)
    T_src_tgt = relative_pose(T_world_src, T_world_tgt).float()
    comparison = compare_warps(source[None], target, target_depth[None], T_src_tgt[None],
                               T_src_tgt @ se3_exp(POSE_OFFSET), intrinsics)
    # Real images: not zero (lighting, depth-colour misregistration), but clearly better than a wrong pose.
    assert comparison.mean_error_gt < 0.5 * comparison.mean_error_pred
    assert comparison.valid_gt.mean() > 0.7
    save_warp_panel_png(tmp_path / "real.png", comparison)


def test_shape_mismatches_raise():
    source, target, depth, T_src_tgt, intrinsics = textured_pair()
    with pytest.raises(ShapeError, match="target_depth"):
        compare_warps(source, target, depth[:, :10], T_src_tgt, T_src_tgt, intrinsics)
    with pytest.raises(ShapeError, match="channel"):
        compare_warps(source[:1], target, depth, T_src_tgt, T_src_tgt, intrinsics)
    with pytest.raises(ShapeError, match="one sample"):
        compare_warps(torch.stack([source, source]), target, depth, T_src_tgt, T_src_tgt, intrinsics)
