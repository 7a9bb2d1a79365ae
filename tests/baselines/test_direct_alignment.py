"""Direct photometric alignment: analytic Jacobian, recovery of a known motion, and the 7-Scenes real-data check."""

from __future__ import annotations

import math

import imageio.v3 as iio
import numpy as np
import pytest
import torch

from posekit.baselines.direct_alignment import (
    DirectAlignmentConfig,
    _evaluate,
    _Level,
    _normal_equations,
    align_photometric,
    downsample_depth,
)
from posekit.demo.plane import plane_depth
from posekit.geometry import (
    PinholeIntrinsics,
    relative_pose,
    rotation_matrix_angle,
    se3_exp,
    se3_inverse,
    translation_axis_angle_to_matrix,
    warp_source_to_target,
)
from posekit.losses.photometric import masked_l1_error


def smooth_image(height: int, width: int, channels: int = 1) -> torch.Tensor:
    """A smooth, textured image: a sum of low-frequency sinusoids in [0, 1]. ``(1, C, H, W)``, float64."""
    v, u = torch.meshgrid(torch.arange(height, dtype=torch.float64), torch.arange(width, dtype=torch.float64), indexing="ij")
    channels_out = []
    for c in range(channels):
        value = 0.5 + 0.2 * torch.sin(u / 7.0 + c) * torch.cos(v / 9.0) + 0.15 * torch.sin((u + 2 * v) / 13.0 + 0.5 * c)
        channels_out.append(value)
    return torch.stack(channels_out)[None]


def pose_error(estimate: torch.Tensor, truth: torch.Tensor) -> tuple[float, float]:
    """Translation (m) and rotation (deg) of ``inv(truth) @ estimate``."""
    delta = se3_inverse(truth.double()) @ estimate.double()
    return float(delta[..., :3, 3].norm()), math.degrees(float(rotation_matrix_angle(delta[..., :3, :3])))


def test_analytic_gradient_matches_autograd():
    """The Gauss-Newton gradient J^T r equals autograd's gradient of 0.5 * sum(r^2) for the left update."""
    h, w = 48, 64
    k = PinholeIntrinsics(60.0, 62.0, 31.5, 23.5, w, h)
    source = smooth_image(h, w, channels=2)
    target = torch.roll(source, shifts=1, dims=-1)
    depth = torch.full((1, 1, h, w), 2.0, dtype=torch.float64) + 0.3 * smooth_image(h, w)
    pose = translation_axis_angle_to_matrix(torch.tensor([[0.02, -0.01, 0.03, 0.01, -0.02, 0.005]], dtype=torch.float64))
    level = _Level(source, target, depth, k.as_tensor(torch.float64)[None])
    evaluation = _evaluate(level, pose, huber_delta=None)
    _, gradient = _normal_equations(level, evaluation)

    delta = torch.zeros(1, 6, dtype=torch.float64, requires_grad=True)
    warp = warp_source_to_target(source, depth, se3_exp(delta) @ pose, k)
    valid = warp.valid.expand_as(target)
    loss = 0.5 * ((warp.warped - target)[valid] ** 2).sum()
    (autograd,) = torch.autograd.grad(loss, delta)
    # Central differences of the image versus the derivative of bilinear interpolation: close on a smooth image.
    torch.testing.assert_close(gradient, autograd, rtol=0.03, atol=1e-3 * float(autograd.abs().max()))


def test_downsample_depth_ignores_holes():
    depth = torch.tensor([[[[2.0, 0.0, 0.0, 0.0], [4.0, 0.0, 0.0, float("nan")]]]])
    out = downsample_depth(depth)
    assert out.shape == (1, 1, 1, 2)
    assert out[0, 0, 0, 0] == pytest.approx(3.0)
    assert out[0, 0, 0, 1] == 0.0


@pytest.mark.parametrize("batch", [1, 3])
def test_recovers_known_motion_of_textured_plane(batch: int):
    """From the identity, the motion used to synthesise the target is recovered to < 2 mm and < 0.05 deg."""
    h, w = 96, 128
    k = PinholeIntrinsics(110.0, 110.0, 63.5, 47.5, w, h)
    source = smooth_image(h, w, channels=3).float().expand(batch, 3, h, w)
    motions = torch.tensor(
        [[0.04, -0.02, 0.06, 0.02, -0.03, 0.01], [-0.03, 0.02, -0.05, -0.01, 0.02, 0.03], [0.0, 0.05, 0.02, 0.03, 0.0, -0.02]],
        dtype=torch.float64,
    )[:batch]
    truth = translation_axis_angle_to_matrix(motions)
    normal = torch.tensor([0.1, -0.05, 1.0], dtype=torch.float64)
    normal = normal / normal.norm()
    depth = torch.cat([plane_depth(k, truth[i], normal, 1.5) for i in range(batch)]).float()
    target = warp_source_to_target(source, depth, truth.float(), k).warped
    result = align_photometric(source, target, depth, k, None, DirectAlignmentConfig(levels=3, huber_delta=None))
    for i in range(batch):
        t_err, r_err = pose_error(result.T_src_tgt[i], truth[i])
        assert t_err < 2e-3 and r_err < 0.05, (i, t_err, r_err)
    assert bool((result.valid_fraction > 0.5).all())


@pytest.mark.parametrize("batch", [1, 3])
def test_selected_pixels_recover_known_motion(batch: int):
    """With only the 1500 highest-gradient target pixels per level driving the fit, the motion is recovered as
    well as with all of them, and the final cost and valid share are still over all pixels."""
    h, w = 96, 128
    k = PinholeIntrinsics(110.0, 110.0, 63.5, 47.5, w, h)
    source = smooth_image(h, w, channels=1).float().expand(batch, 1, h, w)
    motions = torch.tensor(
        [[0.04, -0.02, 0.06, 0.02, -0.03, 0.01], [-0.03, 0.02, -0.05, -0.01, 0.02, 0.03], [0.0, 0.05, 0.02, 0.03, 0.0, -0.02]],
        dtype=torch.float64,
    )[:batch]
    truth = translation_axis_angle_to_matrix(motions)
    depth = torch.cat([plane_depth(k, truth[i], torch.tensor([0.0, 0.0, 1.0], dtype=torch.float64), 1.5)
                       for i in range(batch)]).float()
    warp = warp_source_to_target(source, depth, truth.float(), k)
    target, depth = warp.warped, depth * warp.valid  # no depth where the synthetic target has no content
    config = DirectAlignmentConfig(levels=3, huber_delta=None)
    full = align_photometric(source, target, depth, k, None, config)
    sparse = align_photometric(source, target, depth, k, None, DirectAlignmentConfig(levels=3, huber_delta=None, max_pixels=1500))
    for i in range(batch):
        t_err, r_err = pose_error(sparse.T_src_tgt[i], truth[i])
        assert t_err < 2e-3 and r_err < 0.05, (i, t_err, r_err)
    torch.testing.assert_close(sparse.valid_fraction, full.valid_fraction, atol=0.01, rtol=0)
    # at least as many pixels as the image: the same computation as without selection
    same = align_photometric(source, target, depth, k, None, DirectAlignmentConfig(levels=3, huber_delta=None, max_pixels=h * w))
    torch.testing.assert_close(same.T_src_tgt, full.T_src_tgt)


def test_bad_shapes_raise():
    with pytest.raises(ValueError, match="target_depth"):
        align_photometric(torch.rand(1, 1, 8, 8), torch.rand(1, 1, 8, 8), torch.rand(1, 8, 8), PinholeIntrinsics(8, 8, 3.5, 3.5, 8, 8))


# ---------------------------------------------------------------------------------------------------------
# Real data: 7-Scenes redkitchen seq-01 (Kinect colour + depth, KinectFusion poses).


def _load_frame(folder, index: int):
    stem = folder / "frames" / f"frame-{index:06d}"
    colour = torch.from_numpy(iio.imread(f"{stem}.color.jpg").astype(np.float32) / 255.0).permute(2, 0, 1)[None]
    depth = torch.from_numpy(iio.imread(f"{stem}.depth.png").astype(np.float32) / 1000.0)[None, None]
    T_world_cam = torch.from_numpy(np.loadtxt(f"{stem}.pose.txt"))
    return colour.mean(1, keepdim=True), depth, T_world_cam


def _sevenscenes_intrinsics(folder) -> PinholeIntrinsics:
    return PinholeIntrinsics.from_matrix(np.loadtxt(folder / "camera-intrinsics.txt"), 640, 480)


def test_real_7scenes_gt_pose_beats_identity(sevenscenes_dir):
    """Warping frame 105 into frame 100 with the GT pose: masked grey error >= 2x lower than with the identity."""
    k = _sevenscenes_intrinsics(sevenscenes_dir)
    grey_tgt, depth_tgt, T_world_tgt = _load_frame(sevenscenes_dir, 100)
    grey_src, _, T_world_src = _load_frame(sevenscenes_dir, 105)
    T_src_tgt = relative_pose(T_world_src, T_world_tgt).float()
    with_gt = warp_source_to_target(grey_src, depth_tgt, T_src_tgt, k)
    with_identity = warp_source_to_target(grey_src, depth_tgt, torch.eye(4), k)
    for warp in (with_gt, with_identity):  # the naive warp's NaN at depth holes must not happen
        assert bool(torch.isfinite(warp.warped).all()) and bool(torch.isfinite(warp.flow).all())
    assert not bool(with_identity.valid[depth_tgt == 0].any())
    error_gt = float(masked_l1_error(grey_tgt, with_gt.warped, with_gt.valid)[0])
    error_identity = float(masked_l1_error(grey_tgt, with_identity.warped, with_identity.valid)[0])
    assert error_identity / error_gt >= 2.0, (error_identity, error_gt)


@pytest.mark.parametrize("target_index,source_index", [(10, 15), (100, 105), (200, 205)])
def test_real_7scenes_alignment_stays_near_ground_truth(sevenscenes_dir, target_index: int, source_index: int):
    """Minimising the photometric error from the GT pose stays within 2 cm / 1 deg of it (Kinect depth is not
    registered to colour in 7-Scenes, so the photometric optimum is not exactly the ground truth)."""
    k = _sevenscenes_intrinsics(sevenscenes_dir)
    grey_tgt, depth_tgt, T_world_tgt = _load_frame(sevenscenes_dir, target_index)
    grey_src, _, T_world_src = _load_frame(sevenscenes_dir, source_index)
    T_src_tgt = relative_pose(T_world_src, T_world_tgt)
    result = align_photometric(grey_src, grey_tgt, depth_tgt, k, T_src_tgt.float())
    t_err, r_err = pose_error(result.T_src_tgt[0], T_src_tgt)
    assert t_err < 0.02 and r_err < 1.0, (t_err, r_err)
    assert float(result.cost[0]) > 0  # a real optimum, not a degenerate empty mask
    assert float(result.valid_fraction[0]) > 0.5
