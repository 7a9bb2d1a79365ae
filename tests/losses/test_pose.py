"""Pose losses on small hand-computed cases, with finite gradients."""

from __future__ import annotations

import math

import pytest
import torch

from posekit.errors import ShapeError
from posekit.geometry import make_pose, quaternion_translation_to_matrix, translation_axis_angle_to_matrix
from posekit.losses import (
    GeometricReprojectionLoss,
    LearnedPoseLoss,
    Norm,
    PoseNetLoss,
    RelativePoseLoss,
    RelativePoseLossKind,
    RobustKernel,
    quaternion_distance,
    sample_scene_points,
    vector_distance,
)

IDENTITY_Q = torch.tensor([[1.0, 0.0, 0.0, 0.0]])


def _quat_x(angle: float) -> torch.Tensor:
    return torch.tensor([[math.cos(angle / 2), math.sin(angle / 2), 0.0, 0.0]])


def test_vector_distance_norms():
    p, t = torch.tensor([[1.0, -2.0, 2.0]]), torch.zeros(1, 3)
    assert vector_distance(p, t, Norm.L1).item() == 5.0
    assert vector_distance(p, t, Norm.L2).item() == 3.0
    with pytest.raises(ShapeError):
        vector_distance(p, torch.zeros(1, 4))


def test_vector_distance_l2_gradient_is_finite_at_zero():
    p = torch.zeros(1, 3, requires_grad=True)
    vector_distance(p, torch.zeros(1, 3), "l2").sum().backward()
    assert torch.isfinite(p.grad).all()


def test_quaternion_distance_is_sign_invariant():
    q = _quat_x(0.5)
    assert quaternion_distance(q, -q).item() == pytest.approx(0.0, abs=1e-7)
    # |q(0) - q(theta)|_2 = 2 sin(theta / 4) for a rotation by theta, whichever sign either quaternion has.
    for a, b in ((IDENTITY_Q, q), (-IDENTITY_Q, q), (IDENTITY_Q, -q)):
        assert quaternion_distance(a, b, Norm.L2).item() == pytest.approx(2 * math.sin(0.5 / 4), rel=1e-6)
    # non-unit quaternions are normalised first
    assert quaternion_distance(3 * IDENTITY_Q, -IDENTITY_Q).item() == pytest.approx(0.0, abs=1e-7)


def test_posenet_loss_fixed_beta():
    q_pred, q_target = _quat_x(0.5), -IDENTITY_Q
    lq_l1 = (1 - math.cos(0.25)) + math.sin(0.25)
    out = PoseNetLoss(beta=10.0, norm="l1")(torch.tensor([[1.0, 2.0, 2.0]]), q_pred, torch.zeros(1, 3), q_target)
    assert out.translation.item() == pytest.approx(5.0)
    assert out.rotation.item() == pytest.approx(lq_l1, rel=1e-6)
    assert out.total.item() == pytest.approx(5.0 + 10.0 * lq_l1, rel=1e-6)
    out = PoseNetLoss(beta=10.0, norm="l2")(torch.tensor([[1.0, 2.0, 2.0]]), q_pred, torch.zeros(1, 3), q_target)
    assert out.total.item() == pytest.approx(3.0 + 10.0 * 2 * math.sin(0.125), rel=1e-6)


def test_posenet_loss_averages_over_the_batch():
    pred_t = torch.tensor([[1.0, 0.0, 0.0], [0.0, 0.0, 3.0]])
    out = PoseNetLoss(beta=1.0)(pred_t, IDENTITY_Q.repeat(2, 1), torch.zeros(2, 3), IDENTITY_Q.repeat(2, 1))
    assert out.total.item() == pytest.approx(2.0)


def test_learned_loss_has_both_regularisers_and_learns_them():
    loss = LearnedPoseLoss(sx=0.0, sq=-3.0, norm="l2")
    assert {name for name, _ in loss.named_parameters()} == {"sx", "sq"}
    pred_t, target_t = torch.tensor([[1.0, 2.0, 2.0]]), torch.zeros(1, 3)
    q_pred, q_target = _quat_x(0.5), IDENTITY_Q
    lq = 2 * math.sin(0.125)
    out = loss(pred_t, q_pred, target_t, q_target)
    assert out.total.item() == pytest.approx(math.exp(0.0) * 3.0 + 0.0 + math.exp(3.0) * lq - 3.0, rel=1e-6)
    out.total.backward()
    # d/dsx = -exp(-sx) Lx + 1 and d/dsq = -exp(-sq) Lq + 1: the "+ 1" is the regulariser term of each.
    assert loss.sx.grad.item() == pytest.approx(-3.0 + 1.0, rel=1e-6)
    assert loss.sq.grad.item() == pytest.approx(-math.exp(3.0) * lq + 1.0, rel=1e-5)
    # With perfect predictions only the regularisers remain: sx + sq.
    perfect = loss(target_t, q_target, target_t, -q_target)
    assert perfect.total.item() == pytest.approx(-3.0)


def _camera_at(x: float) -> torch.Tensor:
    return make_pose(torch.eye(3), torch.tensor([x, 0.0, 0.0]))[None]


INTRINSICS = torch.tensor([100.0, 100.0, 50.0, 50.0])


def test_reprojection_loss_hand_computed():
    # Camera at the origin looking down +z; the predicted camera is 0.1 m to the right. The point (0, 0, 2)
    # projects to u = 50 through the true camera and u = 100 * (-0.1) / 2 + 50 = 45 through the predicted one.
    # The point behind both cameras is ignored.
    points = torch.tensor([[[0.0, 0.0, 2.0], [0.0, 0.0, -1.0]]])
    loss = GeometricReprojectionLoss(kernel=RobustKernel.L1)
    assert loss(_camera_at(0.1), _camera_at(0.0), points, INTRINSICS).item() == pytest.approx(5.0, rel=1e-5)
    assert loss(_camera_at(0.0), _camera_at(0.0), points, INTRINSICS).item() == 0.0
    huber = GeometricReprojectionLoss(kernel="huber", huber_delta=1.0)
    assert huber(_camera_at(0.1), _camera_at(0.0), points, INTRINSICS).item() == pytest.approx(4.5, rel=1e-5)
    huber_wide = GeometricReprojectionLoss(kernel="huber", huber_delta=10.0)
    assert huber_wide(_camera_at(0.1), _camera_at(0.0), points, INTRINSICS).item() == pytest.approx(12.5, rel=1e-5)
    clamped = GeometricReprojectionLoss(max_error=2.0)
    assert clamped(_camera_at(0.1), _camera_at(0.0), points, INTRINSICS).item() == pytest.approx(2.0)


def test_reprojection_loss_masks_and_gradients():
    points = torch.tensor([[[0.0, 0.0, 2.0], [1.0, 0.0, 4.0]]])
    t = torch.tensor([0.1, 0.0, 0.0], requires_grad=True)
    q = IDENTITY_Q.clone().requires_grad_(True)
    T_pred = quaternion_translation_to_matrix(q, t[None])
    loss = GeometricReprojectionLoss()
    # the second point alone: u = 100 * 1 / 4 + 50 = 75 vs 100 * 0.9 / 4 + 50 = 72.5
    only_second = loss(T_pred, _camera_at(0.0), points, INTRINSICS, point_mask=torch.tensor([[False, True]]))
    assert only_second.item() == pytest.approx(2.5, rel=1e-5)
    only_second.backward()
    assert torch.isfinite(t.grad).all() and float(t.grad[0]) == pytest.approx(25.0, rel=1e-4)
    assert torch.isfinite(q.grad).all()
    # nothing valid: 0 with finite (zero) gradients
    t.grad = None
    T_pred = quaternion_translation_to_matrix(q, t[None])
    none = loss(T_pred, _camera_at(0.0), points, INTRINSICS, point_mask=torch.zeros(1, 2, dtype=torch.bool))
    none.backward()
    assert none.item() == 0.0 and torch.equal(t.grad, torch.zeros(3))


def test_scene_points_from_depth():
    depth = torch.zeros(1, 1, 3, 4)
    depth[0, 0, 1, 3] = 2.0  # pixel (u, v) = (3, 1)
    intrinsics = torch.tensor([1.0, 1.0, 0.0, 0.0])
    points, mask = sample_scene_points(depth, intrinsics, _camera_at(1.0), num_points=4,
                                       generator=torch.Generator().manual_seed(0))
    assert points.shape == (1, 4, 3) and mask.shape == (1, 4)
    assert int(mask.sum()) == 1
    # camera point (3 * 2, 1 * 2, 2) moved by the camera's +1 m in x
    assert torch.allclose(points[mask], torch.tensor([[7.0, 2.0, 2.0]]))


def test_relative_pose_loss_vector_and_angle():
    target = translation_axis_angle_to_matrix(torch.tensor([[1.0, 0.0, 0.0, 0.0, 0.0, 0.1]]))
    pred = torch.tensor([[1.0, 0.5, 0.0, 0.0, 0.0, 0.3]], requires_grad=True)
    vector = RelativePoseLoss(RelativePoseLossKind.VECTOR, beta=2.0)(pred, target)
    assert vector.translation.item() == pytest.approx(0.5)
    assert vector.rotation.item() == pytest.approx(0.2, rel=1e-5)
    assert vector.total.item() == pytest.approx(0.5 + 2.0 * 0.2, rel=1e-5)
    angle = RelativePoseLoss("angle", beta=2.0)(pred, target)
    assert angle.rotation.item() == pytest.approx(0.2, rel=1e-5)
    angle.total.backward()
    assert torch.isfinite(pred.grad).all()


def test_relative_pose_angle_loss_gradient_finite_at_exact_match():
    vector = torch.tensor([[0.1, 0.2, 0.3, 0.01, -0.02, 0.03]])
    pred = vector.clone().requires_grad_(True)
    out = RelativePoseLoss("angle")(pred, translation_axis_angle_to_matrix(vector))
    out.total.backward()
    assert out.total.item() == pytest.approx(0.0, abs=1e-3)
    assert torch.isfinite(pred.grad).all()
