"""The temporal pose head: shapes, unit quaternions, and the temporal receptive field (kernel 1 = per frame)."""

from __future__ import annotations

import pytest
import torch

from posekit.errors import ShapeError
from posekit.models.temporal import TemporalPoseHead


@pytest.mark.parametrize("kernel", [1, 5])
def test_receptive_field(kernel):
    torch.manual_seed(0)
    head = TemporalPoseHead(feature_dim=12, hidden=16, kernel_size=kernel).eval()
    features = torch.randn(2, 8, 12)
    translation, quaternion = head(features)
    assert translation.shape == (2, 8, 3) and quaternion.shape == (2, 8, 4)
    assert torch.allclose(quaternion.norm(dim=-1), torch.ones(2, 8), atol=1e-6)
    assert bool((quaternion[..., 0] >= 0).all())
    changed = features.clone()
    changed[:, 5] += 1.0  # frame 5 changes: frame 3 sees it only through a kernel reaching 2 frames away
    moved = (head(changed)[0][:, 3] - translation[:, 3]).abs().max()
    assert (moved > 1e-6) == (kernel == 5)
    with pytest.raises(ShapeError):
        head(torch.randn(2, 8, 11))
    with pytest.raises(ValueError):
        TemporalPoseHead(12, kernel_size=4)
