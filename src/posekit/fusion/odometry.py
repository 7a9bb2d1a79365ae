"""Visual odometry between consecutive frames of a sequence, with the classical baselines: the relative
factors of a pose graph.

Every function returns ``T_i_(i+1)`` ``(N-1, 4, 4)`` float64 (maps frame-(i+1) points into frame i) and a
``(N-1,)`` bool success flag. The earlier frame ``i`` is the alignment's *target* (its depth is used) and
frame ``i+1`` the *source*, so the baselines estimate ``T_src_tgt = T_(i+1)_i``, inverted here.
"""

from __future__ import annotations

import torch

from posekit.baselines.direct_alignment import DirectAlignmentConfig, align_photometric
from posekit.baselines.feature_matching import FeatureMatchingConfig, estimate_pose_essential, estimate_pose_pnp
from posekit.geometry import PinholeIntrinsics, se3_inverse
from posekit.geometry.checks import check_shape

# A direct-alignment step counts as failed when fewer target pixels than this stay valid at the end.
MIN_VALID_FRACTION = 0.2


def direct_odometry(
    images: torch.Tensor, depths: torch.Tensor, intrinsics: PinholeIntrinsics,
    config: DirectAlignmentConfig = DirectAlignmentConfig(), batch_size: int = 32,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Consecutive relative poses by direct photometric alignment with the earlier frame's sensor depth.

    Args:
        images: ``(N, C, H, W)`` in [0, 1].
        depths: ``(N, 1, H, W)`` metres, 0 = unknown.
        intrinsics: shared by all frames.
        batch_size: pairs aligned at once (each from the identity).

    Returns:
        ``T_i_next`` ``(N-1, 4, 4)`` and ``success`` ``(N-1,)`` (enough valid pixels at the end).
    """
    check_shape("images", images, (None, None, None, None))
    n, _, h, w = images.shape
    check_shape("depths", depths, (n, 1, h, w))
    steps, success = [], []
    for start in range(0, n - 1, batch_size):
        stop = min(start + batch_size, n - 1)
        result = align_photometric(images[start + 1 : stop + 1], images[start:stop], depths[start:stop], intrinsics,
                                   config=config)
        steps.append(se3_inverse(result.T_src_tgt.double()))
        success.append(result.valid_fraction >= MIN_VALID_FRACTION)
    return torch.cat(steps), torch.cat(success)


def pnp_odometry(
    images: torch.Tensor, depths: torch.Tensor, intrinsics: PinholeIntrinsics,
    config: FeatureMatchingConfig = FeatureMatchingConfig(),
) -> tuple[torch.Tensor, torch.Tensor]:
    """Consecutive relative poses by feature matching + PnP-RANSAC on the earlier frame's depth.

    Args:
        images: ``(N, C, H, W)`` in [0, 1]; depths: ``(N, 1, H, W)`` metres, 0 = unknown.

    Returns:
        ``T_i_next`` ``(N-1, 4, 4)`` (identity where failed) and ``success`` ``(N-1,)``.
    """
    n = images.shape[0]
    check_shape("depths", depths, (n, 1, *images.shape[-2:]))
    steps, success = [], []
    for i in range(n - 1):
        result = estimate_pose_pnp(images[i + 1], images[i], depths[i], intrinsics, config)
        steps.append(se3_inverse(result.T_src_tgt.double()))
        success.append(result.success)
    return torch.stack(steps), torch.tensor(success, dtype=torch.bool)


def essential_odometry(
    images: torch.Tensor, intrinsics: PinholeIntrinsics, step_lengths: torch.Tensor,
    config: FeatureMatchingConfig = FeatureMatchingConfig(),
) -> tuple[torch.Tensor, torch.Tensor]:
    """Consecutive relative poses from the essential matrix (monocular, no depth); the unknown scale of each
    step is set to ``step_lengths`` (e.g. the ground truth's or a speedometer's).

    Args:
        images: ``(N, C, H, W)`` in [0, 1].
        step_lengths: ``(N-1,)`` metres.

    Returns:
        ``T_i_next`` ``(N-1, 4, 4)`` (identity where failed) and ``success`` ``(N-1,)``.
    """
    n = images.shape[0]
    check_shape("step_lengths", step_lengths, (n - 1,))
    steps, success = [], []
    for i in range(n - 1):
        result = estimate_pose_essential(images[i + 1], images[i], intrinsics, float(step_lengths[i]), config)
        steps.append(se3_inverse(result.T_src_tgt.double()))
        success.append(result.success)
    return torch.stack(steps), torch.tensor(success, dtype=torch.bool)
