"""Property-based tests of the geometry API boundary (issue 11 item 7): any shape, dtype, batch pairing or
value gives the right result or a posekit typed error (ShapeError, RotationError), never a raw torch
error, and finite valid input never gives a non-finite output."""

from __future__ import annotations

import math

import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from posekit import geometry as g
from posekit.errors import PosekitError

FUZZ = settings(max_examples=80, deadline=None, derandomize=True)

UNARY = {  # function -> trailing shape of its input
    g.quaternion_to_matrix: (4,), g.normalize_quaternion: (4,), g.quaternion_to_axis_angle: (4,),
    g.quaternion_to_log: (4,), g.matrix_to_quaternion: (3, 3), g.matrix_to_axis_angle: (3, 3),
    g.matrix_to_euler: (3, 3), g.rotation_matrix_angle: (3, 3), g.axis_angle_to_matrix: (3,),
    g.axis_angle_to_quaternion: (3,), g.euler_to_matrix: (3,), g.log_to_quaternion: (3,), g.se3_exp: (6,),
    g.se3_log: (4, 4), g.se3_inverse: (4, 4), g.translation_axis_angle_to_matrix: (6,),
    g.matrix_to_translation_axis_angle: (4, 4), g.hat: (3,), g.vee: (3, 3),
}
BINARY = {
    g.quaternion_multiply: ((4,), (4,)), g.quaternion_raw_multiply: ((4,), (4,)),
    g.angle_between_quaternions: ((4,), (4,)), g.angle_between_rotations: ((3, 3), (3, 3)),
    g.se3_compose: ((4, 4), (4, 4)), g.relative_pose: ((4, 4), (4, 4)), g.make_pose: ((3, 3), (3,)),
}
DTYPES = st.sampled_from([torch.float32, torch.float64, torch.float64, torch.int64, torch.float16])
VALUES = st.sampled_from(["valid", "valid", "random", "nan", "inf", "reflection", "scaled", "huge"])


def _valid(trailing, batch, dtype, generator):
    """A valid input of the given trailing shape: unit quaternions, rotations, rigid transforms, vectors."""
    if trailing == (4,):
        q = torch.randn(*batch, 4, generator=generator, dtype=torch.float64)
        return (q / q.norm(dim=-1, keepdim=True).clamp_min(1e-6)).to(dtype)
    if trailing in ((3, 3), (4, 4)):
        rotation = g.axis_angle_to_matrix(torch.randn(*batch, 3, generator=generator, dtype=torch.float64))
        if trailing == (3, 3):
            return rotation.to(dtype)
        return g.make_pose(rotation, torch.randn(*batch, 3, generator=generator, dtype=torch.float64)).to(dtype)
    return torch.randn(*batch, *trailing, generator=generator, dtype=torch.float64).to(dtype)


def _make(trailing, batch, dtype, kind, seed):
    generator = torch.Generator().manual_seed(seed)
    x = _valid(trailing, batch, torch.float64, generator)
    if kind == "random":
        x = torch.randn(x.shape, generator=generator, dtype=torch.float64) * 3
    elif kind in ("nan", "inf") and x.numel():
        x.view(-1)[0] = float(kind)
    elif kind == "reflection" and len(trailing) == 2:
        x[..., :3, 2] = -x[..., :3, 2]
    elif kind == "scaled" and len(trailing) == 2:
        x[..., :3, :3] *= 1.5
    elif kind == "huge":
        x = x * 1e30
    return x.to(dtype) if dtype.is_floating_point else x.round().to(dtype)


def _outputs(result):
    return result if isinstance(result, tuple) else (result,)


@st.composite
def shapes(draw, trailing):
    batch = tuple(draw(st.lists(st.integers(0, 3), max_size=2)))
    if draw(st.integers(0, 5)) == 0:  # a wrong trailing shape now and then
        trailing = tuple(d + draw(st.integers(-1, 1)) for d in trailing)
    return batch, tuple(max(d, 0) for d in trailing)


@FUZZ
@given(data=st.data(), name=st.sampled_from(sorted(UNARY, key=lambda f: f.__name__)), dtype=DTYPES, kind=VALUES,
       seed=st.integers(0, 2**16))
def test_unary_functions(data, name, dtype, kind, seed):
    function, trailing = name, UNARY[name]
    batch, shape = data.draw(shapes(trailing))
    x = _make(shape, batch, dtype, kind, seed) if shape == trailing else torch.zeros(*batch, *shape, dtype=dtype)
    try:
        result = function(x)
    except PosekitError:
        return
    for out in _outputs(result):
        assert out.shape[: len(batch)] == batch
        if kind in ("valid", "random") and dtype != torch.float16 and shape == trailing:
            assert bool(torch.isfinite(out).all()), (function.__name__, kind)


@FUZZ
@given(data=st.data(), name=st.sampled_from(sorted(BINARY, key=lambda f: f.__name__)), dtypes=st.tuples(DTYPES, DTYPES),
       kind=VALUES, seed=st.integers(0, 2**16))
def test_binary_functions(data, name, dtypes, kind, seed):
    function, (trailing_a, trailing_b) = name, BINARY[name]
    batch_a, shape_a = data.draw(shapes(trailing_a))
    batch_b = data.draw(st.sampled_from([batch_a, batch_a[1:], (2,) + batch_a, (5,)]))
    a = _make(shape_a, batch_a, dtypes[0], kind, seed) if shape_a == trailing_a else torch.zeros(*batch_a, *shape_a)
    b = _make(trailing_b, batch_b, dtypes[1], "valid", seed + 1)
    try:
        result = function(a, b)
    except PosekitError:
        return
    for out in _outputs(result):
        if kind == "valid" and torch.float16 not in dtypes:
            assert bool(torch.isfinite(out).all()), function.__name__


@FUZZ
@given(
    fx=st.one_of(st.floats(allow_nan=True, allow_infinity=True), st.integers(-5, 5)),
    cx=st.floats(allow_nan=True, allow_infinity=True),
    width=st.one_of(st.integers(-2, 5000), st.floats(-2, 5000), st.just(float("nan")), st.booleans()),
)
def test_pinhole_intrinsics(fx, cx, width):
    try:
        k = g.PinholeIntrinsics(fx, 10.0, cx, 3.0, width, 6)
    except PosekitError:
        return
    assert all(math.isfinite(v) for v in (k.fx, k.fy, k.cx, k.cy)) and k.fx > 0
    assert isinstance(k.width, int) and k.width > 0
    assert bool(torch.isfinite(k.matrix()).all())
