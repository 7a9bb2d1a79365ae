"""Training the temporal pose head (:class:`posekit.models.temporal.TemporalPoseHead`) on precomputed image
features of contiguous runs of frames: random clips of ``window`` frames, L1 on the standardised translation +
``beta`` x L1 on the quaternion. A plain loop (the features fit in memory; no data loader needed).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from posekit.geometry import make_pose, matrix_to_quaternion, quaternion_to_matrix
from posekit.models.temporal import TemporalPoseHead


@dataclass(frozen=True)
class TemporalFitConfig:
    """Settings of :func:`fit_temporal_head` (``kernel_size=1``: the per-frame head)."""

    kernel_size: int = 5
    window: int = 10
    hidden: int = 256
    steps: int = 1500
    batch_size: int = 16
    lr: float = 1e-3
    beta: float = 3.0
    seed: int = 0


@dataclass
class FittedTemporalHead:
    """A trained head and the translation standardisation of its training frames (``(3,)`` each)."""

    head: TemporalPoseHead
    translation_mean: torch.Tensor
    translation_std: torch.Tensor

    @torch.no_grad()
    def predict(self, features: torch.Tensor) -> torch.Tensor:
        """``(T, F)`` features of one run of consecutive frames -> ``(T, 4, 4)`` float64 ``T_world_cam``."""
        self.head.eval()
        translation, quaternion = self.head(features[None].float())
        t = translation[0].double() * self.translation_std + self.translation_mean
        return make_pose(quaternion_to_matrix(quaternion[0].double()), t)


def fit_temporal_head(features: torch.Tensor, T_world_cam: torch.Tensor, runs: list[list[int]],
                      config: TemporalFitConfig = TemporalFitConfig()) -> FittedTemporalHead:
    """Fit a head on the training frames.

    Args:
        features: ``(N, F)`` pooled image features.
        T_world_cam: ``(N, 4, 4)`` ground-truth poses.
        runs: rows of contiguous runs of consecutive training frames (clips never cross two runs).
    """
    generator = torch.Generator().manual_seed(config.seed)
    torch.manual_seed(config.seed)
    rows = [r for run in runs for r in run]
    t_all = T_world_cam[:, :3, 3].double()
    mean, std = t_all[rows].mean(0), t_all[rows].std(0).clamp_min(1e-6)
    targets_t = ((t_all - mean) / std).float()
    q = matrix_to_quaternion(T_world_cam[:, :3, :3].double())
    targets_q = (q * torch.where(q[:, :1] < 0, -1.0, 1.0)).float()
    usable = [run for run in runs if len(run) >= config.window]
    starts = [(i, s) for i, run in enumerate(usable) for s in range(len(run) - config.window + 1)]
    head = TemporalPoseHead(features.shape[1], config.hidden, config.kernel_size)
    optimizer = torch.optim.Adam(head.parameters(), lr=config.lr)
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, config.steps)
    head.train()
    for _ in range(config.steps):
        picks = torch.randint(len(starts), (config.batch_size,), generator=generator).tolist()
        clips = torch.tensor([usable[i][s : s + config.window] for i, s in (starts[p] for p in picks)])
        translation, quaternion = head(features[clips].float())
        loss = (translation - targets_t[clips]).abs().mean() + config.beta * (quaternion - targets_q[clips]).abs().mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        schedule.step()
    return FittedTemporalHead(head, mean, std)
