"""The trivial relative-pose estimates every relative method is reported beside: zero motion and constant
velocity, on pairs ``T_src_tgt`` (target ``i``, source ``i + d``).

(The ``relpose`` branch adds ``posekit.metrics.relative_motion.zero_motion`` / ``constant_velocity`` on pose
sequences; these work on pairs given with the row of their previous pair. To be made one at merge.)

Example:
    >>> zero_motion(2).shape
    torch.Size([2, 4, 4])
"""

from __future__ import annotations

import torch

from posekit.geometry.checks import check_shape


def zero_motion(count: int) -> torch.Tensor:
    """``(count, 4, 4)`` float64 identities: the "no motion" estimate."""
    return torch.eye(4, dtype=torch.float64).expand(count, 4, 4).clone()


def previous_pair_motion(T_src_tgt: torch.Tensor, previous: torch.Tensor) -> torch.Tensor:
    """Constant velocity: each pair's estimate is the motion of its previous pair.

    Args:
        T_src_tgt: ``(N, 4, 4)`` motions of the pairs (the ground truth for the oracle model).
        previous: ``(N,)`` row of each pair's previous pair ``(i - d, i)``, ``-1`` where there is none.

    Returns:
        ``(N, 4, 4)`` float64: ``T_src_tgt[previous]``, the identity where ``previous`` is ``-1``.
    """
    check_shape("T_src_tgt", T_src_tgt, (None, 4, 4))
    check_shape("previous", previous, (T_src_tgt.shape[0],))
    estimate = zero_motion(T_src_tgt.shape[0])
    known = previous >= 0
    estimate[known] = T_src_tgt.double()[previous[known]]
    return estimate
