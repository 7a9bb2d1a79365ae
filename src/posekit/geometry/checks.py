"""Shape, dtype and validity checks at the boundary of the geometry functions.

Shape and dtype checks raise :class:`posekit.errors.ShapeError` naming the argument, the expected and the
actual shape (or dtype); they read only tensor metadata, so they cost nothing on any device.
:func:`check_rigid` raises :class:`posekit.errors.RotationError` for matrices that are not rotations or
rigid transforms at all (a NaN, a reflection, a scale): it reads the values, one device synchronisation
per call, and is used only where such input would give a wrong answer silently (logarithms, inverses,
conversions to other representations), not in the warping hot path.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch

from posekit.errors import RotationError, ShapeError

# Largest max |R^T R - I| or |det R - 1| that :func:`check_rigid` lets through. Rounded rotations in files
# (1e-4) and chains of float32 products stay far below; reflections (det -1), scales of 1 % or more and
# garbage stay far above.
RIGID_ATOL = 1e-2


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
    if not isinstance(tensor, torch.Tensor):
        raise ShapeError(f"{name}: expected a floating-point torch.Tensor, got {type(tensor).__name__}")
    if not tensor.is_floating_point():
        raise ShapeError(f"{name}: expected a floating-point tensor, got dtype {tensor.dtype}")


def check_input(name: str, tensor: torch.Tensor, trailing: Sequence[int]) -> None:
    """:func:`check_trailing_shape` and :func:`check_floating` in one call."""
    check_trailing_shape(name, tensor, trailing)
    check_floating(name, tensor)


def check_image(name: str, image: torch.Tensor, batch: int | None = None) -> None:
    """Check a ``(B, C, H, W)`` floating-point image batch, and refuse one that looks channels-last
    (``(B, H, W, C)`` with C in 1, 3, 4 and H, W of 8 or more, which would read as H channels)."""
    check_shape(name, image, (batch, None, None, None))
    check_floating(name, image)
    _, c, h, w = image.shape
    if w in (1, 3, 4) and c >= 8 and h >= 8:
        raise ShapeError(
            f"{name}: shape {tuple(image.shape)} looks channels-last (B, H, W, C); images are (B, C, H, W): "
            "use image.permute(0, 3, 1, 2)"
        )


def check_batch(name_a: str, a: torch.Tensor, trailing_a: int, name_b: str, b: torch.Tensor, trailing_b: int) -> None:
    """Check that the batch dimensions of ``a`` and ``b`` (all but the last ``trailing_a`` / ``trailing_b``)
    broadcast, and that both have the same floating dtype (matrix products do not promote)."""
    batch_a, batch_b = a.shape[: a.dim() - trailing_a], b.shape[: b.dim() - trailing_b]
    try:
        torch.broadcast_shapes(batch_a, batch_b)
    except RuntimeError:
        raise ShapeError(
            f"{name_a}, {name_b}: batch shapes {tuple(batch_a)} and {tuple(batch_b)} do not broadcast "
            f"(shapes {tuple(a.shape)} and {tuple(b.shape)})"
        ) from None
    if a.dtype != b.dtype:
        raise ShapeError(f"{name_a}, {name_b}: dtypes differ ({a.dtype} and {b.dtype}); convert one of them")


def check_rigid(name: str, matrix: torch.Tensor, atol: float = RIGID_ATOL) -> None:
    """Raise :class:`RotationError` unless every ``(..., 3, 3)`` rotation block (or the rotation part of a
    ``(..., 4, 4)`` transform, whose last row must then be ``0 0 0 1``) is finite, orthonormal and has
    determinant +1 within ``atol``. One device synchronisation; no gradient is recorded."""
    with torch.no_grad():
        m = matrix.detach()
        rigid = m.shape[-1] == 4
        rotation = m[..., :3, :3]
        eye = torch.eye(3, dtype=m.dtype, device=m.device)
        # NaN and inf make the errors NaN or inf, so the comparisons below catch them too.
        gram = rotation.transpose(-1, -2) @ rotation
        error = (gram - eye).abs().amax(dim=(-1, -2))
        det = (torch.linalg.cross(rotation[..., 0, :], rotation[..., 1, :]) * rotation[..., 2, :]).sum(-1)
        error = torch.maximum(error, (det - 1.0).abs())
        if rigid:
            last = m.new_tensor([0.0, 0.0, 0.0, 1.0])
            error = torch.maximum(error, (m[..., 3, :] - last).abs().amax(-1) + m[..., :3, 3].sum(-1) * 0.0)
        bad = ~(error <= atol)
        if not bool(bad.any()):
            return
        ortho_err = (gram - eye).abs().amax(dim=(-1, -2))
        index = tuple(int(i) for i in bad.nonzero()[0])
        where = f" at index {index}" if index else ""
        if not bool(torch.isfinite(m[index]).all()):
            raise RotationError(f"{name}: non-finite value{where}")
        if rigid and not bool(((m[index][3] - last).abs() <= atol).all()):
            raise RotationError(f"{name}: last row must be 0 0 0 1, got {m[index][3].tolist()}{where}")
        raise RotationError(
            f"{name}: not a rotation{where} (max |R^T R - I| = {float(ortho_err[index]):.3g}, "
            f"det = {float(det[index]):.4g}; a reflection or a scaled matrix?)"
        )


def _fmt(dims: Sequence[int]) -> str:
    return ", ".join(str(d) for d in dims)


def _fmt_full(dims: Sequence[int | None]) -> str:
    return "(" + ", ".join(str(d) if d is not None else "*" for d in dims) + ")"
