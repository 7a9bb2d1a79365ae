"""Shared fixtures of the geometry tests: dtypes with their tolerances, seeded random rotations."""

from __future__ import annotations

import math
from collections.abc import Callable

import pytest
import torch

# Absolute tolerances for quantities of order 1 computed in each dtype.
TOLERANCE = {torch.float32: 2e-6, torch.float64: 1e-12}


@pytest.fixture(params=[torch.float32, torch.float64], ids=["float32", "float64"])
def dtype(request) -> torch.dtype:
    """Each geometry test that takes ``dtype`` runs once in float32 and once in float64."""
    return request.param


@pytest.fixture
def tol(dtype) -> float:
    """Absolute tolerance for order-1 results in ``dtype``."""
    return TOLERANCE[dtype]


@pytest.fixture
def generator() -> torch.Generator:
    """A seeded CPU generator, so that every run draws the same "random" inputs."""
    return torch.Generator().manual_seed(20240611)


@pytest.fixture
def random_quaternions(generator) -> Callable[..., torch.Tensor]:
    """``random_quaternions(*shape, dtype=...)``: uniform unit quaternions ``(*shape, 4)``, drawn in float64."""

    def draw(*shape: int, dtype: torch.dtype = torch.float64) -> torch.Tensor:
        q = torch.randn(*shape, 4, generator=generator, dtype=torch.float64)
        return (q / q.norm(dim=-1, keepdim=True)).to(dtype)

    return draw


@pytest.fixture
def random_rotvecs(generator) -> Callable[..., torch.Tensor]:
    """``random_rotvecs(*shape, max_angle=..., dtype=...)``: rotation vectors with angles uniform in [0, max)."""

    def draw(*shape: int, max_angle: float = math.pi, dtype: torch.dtype = torch.float64) -> torch.Tensor:
        axis = torch.randn(*shape, 3, generator=generator, dtype=torch.float64)
        axis = axis / axis.norm(dim=-1, keepdim=True)
        angle = torch.rand(*shape, 1, generator=generator, dtype=torch.float64) * max_angle
        return (axis * angle).to(dtype)

    return draw


@pytest.fixture
def special_axes() -> torch.Tensor:
    """``(5, 3)`` float64 unit axes for the special-case tests: the coordinate axes and two oblique ones."""
    axes = torch.tensor([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0], [1.0, 1.0, 1.0], [0.3, -0.8, 0.52]])
    axes = axes.double()
    return axes / axes.norm(dim=-1, keepdim=True)
