"""Errors of predicted relative poses, shared by validation during training and by the evaluation.

Pairs are stored as ``T_src_tgt`` with the target the earlier frame ``i`` and the source the later frame
``j = i + d``. Errors are measured on ``T_i_j = inv(T_src_tgt)``, so that they are exactly evo's RPE for the
pair ``(i, j)``: the norm of ``t_est - t_gt`` (m) and the angle of ``R_gt^T R_est`` (deg).

A monocular network predicts translation only up to scale; :func:`align_translation_scale` gives each
predicted translation the least-squares scale against the ground truth, per pair (SfMLearner and Monodepth2
align per snippet), and evaluations that use it say so.
"""

from __future__ import annotations

import torch

from posekit.geometry import se3_inverse
from posekit.geometry.checks import check_shape
from posekit.metrics.pose_errors import RelativePoseErrors, relative_pose_errors


def align_translation_scale(T_src_tgt_est: torch.Tensor, T_src_tgt_gt: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Scale each predicted translation by ``s = <t_gt, t_est> / <t_est, t_est>`` (1 where ``t_est`` is 0).

    Args:
        T_src_tgt_est, T_src_tgt_gt: ``(N, 4, 4)``.

    Returns:
        ``(aligned, scales)``: ``(N, 4, 4)`` poses with scaled translations and the ``(N,)`` scales.
    """
    check_shape("T_src_tgt_est", T_src_tgt_est, (None, 4, 4))
    check_shape("T_src_tgt_gt", T_src_tgt_gt, tuple(T_src_tgt_est.shape))
    t_est = T_src_tgt_est[:, :3, 3]
    t_gt = T_src_tgt_gt[:, :3, 3].to(t_est.dtype)
    norm_sq = (t_est * t_est).sum(-1)
    scales = torch.where(norm_sq > 1e-20, (t_gt * t_est).sum(-1) / norm_sq.clamp_min(1e-20), torch.ones_like(norm_sq))
    aligned = T_src_tgt_est.clone()
    aligned[:, :3, 3] = t_est * scales[:, None]
    return aligned, scales


def pair_errors(T_src_tgt_gt: torch.Tensor, T_src_tgt_est: torch.Tensor) -> RelativePoseErrors:
    """Per-pair errors of ``(N, 4, 4)`` estimates, measured on ``T_i_j = inv(T_src_tgt)`` (evo's RPE)."""
    check_shape("T_src_tgt_gt", T_src_tgt_gt, (None, 4, 4))
    check_shape("T_src_tgt_est", T_src_tgt_est, tuple(T_src_tgt_gt.shape))
    return relative_pose_errors(se3_inverse(T_src_tgt_gt.double()), se3_inverse(T_src_tgt_est.double()))
