"""Shape and dtype checks at the boundary of the geometry functions.

Each check raises :class:`posekit.errors.ShapeError` naming the argument, the expected and the actual shape.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch

from posekit.errors import ShapeError


def check_trailing_shape(name: str, tensor: torch.Tensor, trailing: Sequence[int]) -> None:
    """Check that ``tensor`` ends with the dimensions ``trailing`` (any batch dimensions before them).

    Example:
        >>> check_trailing_shape("quaternion", torch.zeros(5, 4), (4,))
    """
    if not isinstance(tensor, torch.Tensor):
        raise ShapeError(f"{name}: expected a torch.Tensor of shape (..., {_fmt(trailing)}), got {type(tensor).__name__}")
    n = len(trailing)
    if tensor.dim() < n or tuple(tensor.shape[-n:]) != tuple(trailing):
        raise ShapeError(f"{name}: expected shape (..., {_fmt(trailing)}), got {tuple(tensor.shape)}")


def check_shape(name: str, tensor: torch.Tensor, expected: Sequence[int | None]) -> None:
    """Check the full shape of ``tensor``; ``None`` in ``expected`` matches any size.

    Example:
        >>> check_shape("image", torch.zeros(2, 3, 8, 8), (None, 3, None, None))
    """
    if not isinstance(tensor, torch.Tensor):
        raise ShapeError(f"{name}: expected a torch.Tensor of shape {_fmt_full(expected)}, got {type(tensor).__name__}")
    ok = tensor.dim() == len(expected) and all(e is None or e == s for e, s in zip(expected, tensor.shape))
    if not ok:
        raise ShapeError(f"{name}: expected shape {_fmt_full(expected)}, got {tuple(tensor.shape)}")


def check_floating(name: str, tensor: torch.Tensor) -> None:
    """Check that ``tensor`` has a floating dtype (float32 or float64 in practice)."""
    if not tensor.is_floating_point():
        raise ShapeError(f"{name}: expected a floating-point tensor, got dtype {tensor.dtype}")


def _fmt(dims: Sequence[int]) -> str:
    return ", ".join(str(d) for d in dims)


def _fmt_full(dims: Sequence[int | None]) -> str:
    return "(" + ", ".join(str(d) if d is not None else "*" for d in dims) + ")"
