"""Edge-aware smoothness of disparity (Monodepth2): disparity gradients are penalised less where the image has
edges, on disparity divided by its per-image mean so the penalty does not push the scale of depth."""

from __future__ import annotations

import torch

from posekit.geometry.checks import check_shape


def edge_aware_smoothness(disparity: torch.Tensor, image: torch.Tensor, normalize: bool = True) -> torch.Tensor:
    """``mean |dx d*| exp(-mean_c |dx I|) + mean |dy d*| exp(-mean_c |dy I|)`` with ``d* = d / mean(d)``.

    Args:
        disparity: ``(B, 1, H, W)``.
        image: ``(B, C, H, W)`` in [0, 1], same size as the disparity (resize it to the disparity's scale first).
        normalize: divide the disparity by its per-image mean (Monodepth2); False uses it as it is.

    Returns:
        scalar.
    """
    check_shape("disparity", disparity, (None, 1, None, None))
    check_shape("image", image, (disparity.shape[0], None) + tuple(disparity.shape[2:]))
    if normalize:
        disparity = disparity / (disparity.mean(dim=(2, 3), keepdim=True) + 1e-7)
    grad_disp_x = (disparity[..., :, :-1] - disparity[..., :, 1:]).abs()
    grad_disp_y = (disparity[..., :-1, :] - disparity[..., 1:, :]).abs()
    grad_image_x = (image[..., :, :-1] - image[..., :, 1:]).abs().mean(1, keepdim=True)
    grad_image_y = (image[..., :-1, :] - image[..., 1:, :]).abs().mean(1, keepdim=True)
    return (grad_disp_x * torch.exp(-grad_image_x)).mean() + (grad_disp_y * torch.exp(-grad_image_y)).mean()
