"""Image gradients: the one central-difference rule used by direct alignment (Jacobians) and by the
photometric loss (edge weighting)."""

from __future__ import annotations

import torch
import torch.nn.functional as F


def image_gradients(image: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Central differences ``d/du`` and ``d/dv`` of an image, half a one-sided difference at the border
    (the image is extended by replicating its edge pixels).

    Args:
        image: ``(B, C, H, W)``.

    Returns:
        ``(grad_u, grad_v)``, each ``(B, C, H, W)``, in intensity per pixel.

    Example:
        >>> gu, gv = image_gradients(torch.arange(4.0).repeat(1, 1, 3, 1))
        >>> gu[0, 0, 0].tolist(), gv.abs().max().item()
        ([0.5, 1.0, 1.0, 0.5], 0.0)
    """
    pad = F.pad(image, (1, 1, 1, 1), mode="replicate")
    grad_u = (pad[..., 1:-1, 2:] - pad[..., 1:-1, :-2]) / 2
    grad_v = (pad[..., 2:, 1:-1] - pad[..., :-2, 1:-1]) / 2
    return grad_u, grad_v


def image_gradient_magnitude(image: torch.Tensor) -> torch.Tensor:
    """``(B, C, H, W) -> (B, 1, H, W)``: the channel mean of the gradient magnitude of :func:`image_gradients`."""
    grad_u, grad_v = image_gradients(image)
    return torch.sqrt(grad_u**2 + grad_v**2 + 1e-12).mean(1, keepdim=True)
