"""Fitting the temporal head on synthetic features: poses a linear function of the features plus per-frame
noise; the temporal head (kernel 5) averages the noise over neighbours and beats the per-frame head."""

from __future__ import annotations

import torch

from posekit.geometry import se3_exp
from posekit.training.temporal import TemporalFitConfig, fit_temporal_head


def test_temporal_head_beats_per_frame_head_on_noisy_features():
    """Measured (seed 0): median position error per-frame 0.58 m, temporal 0.41 m (a 4 m x 2 m path); asserted
    temporal < 0.85 x per-frame."""
    generator = torch.Generator().manual_seed(0)
    n = 400
    s = torch.linspace(0.0, 1.0, n, dtype=torch.float64)
    xi = torch.zeros(n, 6, dtype=torch.float64)
    xi[:, 0], xi[:, 1], xi[:, 2], xi[:, 4] = 2.0 * torch.sin(6 * s), torch.cos(5 * s), 0.5 * s, 0.5 * torch.sin(4 * s)
    T = se3_exp(xi)
    clean = torch.cat((xi, torch.sin(3 * xi), torch.cos(2 * xi)), dim=1).float()
    features = torch.cat((clean + 0.6 * torch.randn(n, 18, generator=generator), torch.randn(n, 14, generator=generator)), 1)
    held = (torch.arange(n) // 20) % 5 == 4
    train = (~held).nonzero().reshape(-1).tolist()
    test = held.nonzero().reshape(-1).tolist()
    runs = [train[i : i + 20] for i in range(0, len(train), 20)]
    test_runs = [test[i : i + 20] for i in range(0, len(test), 20)]
    errors = {}
    for kernel in (1, 5):
        fitted = fit_temporal_head(features, T, runs, TemporalFitConfig(kernel_size=kernel, hidden=64, steps=400, window=10))
        T_est = torch.cat([fitted.predict(features[run]) for run in test_runs])
        errors[kernel] = float((T_est[:, :3, 3] - torch.cat([T[run] for run in test_runs])[:, :3, 3]).norm(dim=-1).median())
    assert errors[5] < 0.85 * errors[1], errors
