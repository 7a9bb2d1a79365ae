"""Direct photometric alignment: the relative pose that best warps the source image onto the target.

Minimises the (optionally Huber-robust) photometric error between the target image and the source image warped
into the target view through :func:`posekit.geometry.project_target_to_source`, over ``T_src_tgt``, by
Levenberg-Marquardt on an image pyramid, coarse to fine. The pose is updated on the left,
``T_src_tgt <- exp(delta) T_src_tgt`` with ``delta = (t, omega)`` in the source frame, so the Jacobian of a
residual is ``[g, p x g]`` with ``p`` the point in the source frame and
``g = grad I_s . d(pixel)/d(p)`` (analytic; cross-checked against autograd in the tests).

It needs the target depth (metric, 0 = unknown) and gives a metric pose. It is the classical baseline of the
relative-pose work, the refinement step after a network's prediction, and what ``posekit demo`` runs.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from posekit.geometry.camera import PinholeIntrinsics, batch_intrinsics
from posekit.geometry.checks import check_shape
from posekit.geometry.image_gradients import image_gradient_magnitude, image_gradients
from posekit.geometry.lie import se3_exp
from posekit.geometry.pyramid import downsample_depth, image_pyramid  # noqa: F401 (downsample_depth: public here too)
from posekit.geometry.rotations import rotation_matrix_angle
from posekit.geometry.warp import TargetProjection, project_target_to_source, sample_at_pixels


@dataclass(frozen=True)
class DirectAlignmentConfig:
    """Settings of :func:`align_photometric`.

    Attributes:
        levels: pyramid levels (each halves the resolution); coarse levels widen the basin of convergence.
        iterations: maximum Levenberg-Marquardt iterations per level.
        huber_delta: Huber threshold on residuals (image units); ``None`` for plain least squares.
        initial_damping: initial Levenberg-Marquardt damping (relative to the diagonal).
        min_size: no level smaller than this many pixels on its short side.
        tolerance: stop a level when the update's translation (m) and rotation (rad) are both below this.
        max_pixels: at most this many target pixels per pair and level drive the fit, those of highest target
            gradient magnitude with known depth (``None``: all); the final cost and valid share are still measured
            over all pixels of the finest level.
    """

    levels: int = 3
    iterations: int = 30
    huber_delta: float | None = 0.1
    initial_damping: float = 1e-3
    min_size: int = 24
    tolerance: float = 1e-6
    max_pixels: int | None = None


@dataclass
class DirectAlignmentResult:
    """Output of :func:`align_photometric`.

    Attributes:
        T_src_tgt: ``(B, 4, 4)`` the estimated pose.
        cost: ``(B,)`` final robust photometric cost at the finest level (mean over valid pixels).
        valid_fraction: ``(B,)`` share of target pixels valid at the end.
        iterations: total Levenberg-Marquardt iterations, all levels.
    """

    T_src_tgt: torch.Tensor
    cost: torch.Tensor
    valid_fraction: torch.Tensor
    iterations: int

    def __repr__(self) -> str:
        """Per pair: translation norm, rotation angle, cost and valid share; not the matrices."""
        pose = self.T_src_tgt.detach().double().reshape(-1, 4, 4)
        t = pose[:, :3, 3].norm(dim=-1).tolist()
        angle = torch.rad2deg(rotation_matrix_angle(pose[:, :3, :3])).tolist()
        pairs = "; ".join(
            f"|t|={ti:.4g}, angle={ai:.4g} deg, cost={float(c):.4g}, valid={float(v):.2f}"
            for ti, ai, c, v in zip(t, angle, self.cost.reshape(-1), self.valid_fraction.reshape(-1))
        )
        return f"DirectAlignmentResult({len(t)} pair{'s' if len(t) != 1 else ''}, {self.iterations} iterations: {pairs})"


class _Level:
    """One pyramid level: images, depth, intrinsics and the source image with its gradients for sampling.

    With ``max_pixels``, the fit uses only the ``max_pixels`` known-depth target pixels of largest gradient
    magnitude per pair, kept as lists (``pixels_uv (B, 2, 1, N)``, ``depth (B, 1, 1, N)``, ``target (B, C, 1, N)``):
    the warp then touches those pixels only.
    """

    def __init__(self, source: torch.Tensor, target: torch.Tensor, depth: torch.Tensor, intrinsics: torch.Tensor,
                 max_pixels: int | None = None):
        self.full_target = self.target = target
        self.full_depth = self.depth = depth
        self.pixels_uv = None
        b, _, h, w = depth.shape
        if max_pixels is not None and max_pixels < h * w:
            flat = depth.reshape(b, -1)
            score = torch.where(flat > 0, image_gradient_magnitude(target).reshape(b, -1), torch.full_like(flat, -1.0))
            index = score.topk(max_pixels, dim=1).indices  # (B, N): unknown-depth pixels only when too few are known
            columns, rows = index % w, torch.div(index, w, rounding_mode="floor")
            self.pixels_uv = torch.stack((columns, rows), dim=1)[:, :, None].to(depth.dtype)
            self.depth = flat.gather(1, index)[:, None, None]
            c = target.shape[1]
            self.target = target.reshape(b, c, -1).gather(2, index[:, None].expand(b, c, -1))[:, :, None]
        self.intrinsics = intrinsics
        grad_u, grad_v = image_gradients(source)
        self.source_stack = torch.cat((source, grad_u, grad_v), dim=1)
        self.channels = source.shape[1]


def _project_pixels(pixels_uv: torch.Tensor, depth: torch.Tensor, T_src_tgt: torch.Tensor, intrinsics: torch.Tensor,
                    source_hw: tuple[int, int]) -> TargetProjection:
    """:func:`project_target_to_source` for a list of target pixels ``(B, 2, 1, N)`` with depth ``(B, 1, 1, N)``."""
    fx, fy, cx, cy = (intrinsics[:, i, None, None] for i in range(4))
    z = depth[:, 0]
    x, y = (pixels_uv[:, 0] - cx) / fx * z, (pixels_uv[:, 1] - cy) / fy * z
    pose = T_src_tgt.to(depth.dtype)
    moved = [pose[:, r, 0, None, None] * x + pose[:, r, 1, None, None] * y + pose[:, r, 2, None, None] * z
             + pose[:, r, 3, None, None] for r in range(3)]
    xs, ys, zs = moved
    in_front = (z > 0) & (zs > 1e-6)
    zs_safe = torch.where(in_front, zs, torch.ones_like(zs))
    u, v = fx * xs / zs_safe + cx, fy * ys / zs_safe + cy
    h, w = source_hw
    valid = in_front & (u >= 0) & (u <= w - 1) & (v >= 0) & (v <= h - 1)
    return TargetProjection(torch.stack((u, v), dim=1), zs_safe[:, None], valid[:, None])


@dataclass
class _Evaluation:
    """The photometric residuals at one pose, with what the Jacobian needs."""

    residual: torch.Tensor  # (B, C, N)
    weight: torch.Tensor  # (B, C, N) robust weight, 0 where not valid
    cost: torch.Tensor  # (B,) mean robust cost over valid pixels
    projection: TargetProjection
    sampled: torch.Tensor  # (B, 3C, H, W) source image and its gradients at the projections

    def merged(self, better: torch.Tensor, other: _Evaluation) -> _Evaluation:
        """This evaluation where ``better`` (B,) is set, ``other`` elsewhere."""

        def pick(new: torch.Tensor, old: torch.Tensor) -> torch.Tensor:
            return torch.where(better.reshape((-1,) + (1,) * (new.dim() - 1)), new, old)

        projection = TargetProjection(
            pick(self.projection.source_pixels, other.projection.source_pixels),
            pick(self.projection.source_depth, other.projection.source_depth),
            pick(self.projection.valid, other.projection.valid),
        )
        return _Evaluation(
            pick(self.residual, other.residual),
            pick(self.weight, other.weight),
            pick(self.cost, other.cost),
            projection,
            pick(self.sampled, other.sampled),
        )


def _evaluate(level: _Level, T_src_tgt: torch.Tensor, huber_delta: float | None, all_pixels: bool = False) -> _Evaluation:
    """Residuals, robust weights and cost of the warp at ``T_src_tgt`` (over all pixels, not only the selected
    ones, when ``all_pixels``)."""
    if level.pixels_uv is None or all_pixels:
        projection = project_target_to_source(level.full_depth, T_src_tgt, level.intrinsics)
        target = level.full_target
    else:
        projection = _project_pixels(level.pixels_uv, level.depth, T_src_tgt, level.intrinsics, level.source_stack.shape[-2:])
        target = level.target
    sampled = sample_at_pixels(level.source_stack, projection.source_pixels)
    c = level.channels
    b = sampled.shape[0]
    residual = (sampled[:, :c] - target).reshape(b, c, -1)
    valid = projection.valid.reshape(b, 1, -1).to(residual.dtype)
    abs_r = residual.abs()
    if huber_delta is None:
        weight = valid.expand_as(residual)
        rho = 0.5 * residual**2
    else:
        inlier = abs_r <= huber_delta
        weight = valid * torch.where(inlier, torch.ones_like(abs_r), huber_delta / abs_r.clamp_min(1e-12))
        rho = torch.where(inlier, 0.5 * residual**2, huber_delta * (abs_r - 0.5 * huber_delta))
    count = valid.sum(dim=(1, 2)) * c
    cost = (rho * valid).sum(dim=(1, 2)) / count.clamp_min(1.0)
    return _Evaluation(residual, weight, cost, projection, sampled)


def _normal_equations(level: _Level, evaluation: _Evaluation) -> tuple[torch.Tensor, torch.Tensor]:
    """Gauss-Newton system ``H delta = -g`` (float64) for the left update ``exp(delta) T_src_tgt``.

    Only pixels with a non-zero robust weight in some pair of the batch enter the Jacobian (the others add
    nothing to ``H`` or ``g``), so masked or unselected pixels cost nothing here.
    """
    residual, weight, projection, sampled = evaluation.residual, evaluation.weight, evaluation.projection, evaluation.sampled
    b, c = residual.shape[:2]
    active = (weight > 0).any(dim=1).any(dim=0).nonzero()[:, 0]  # (N',) pixels that count for some pair
    k = level.intrinsics.double()
    fx, fy, cx, cy = (k[:, i, None] for i in range(4))
    uv = projection.source_pixels.reshape(b, 2, -1)[..., active].double()
    z = projection.source_depth.reshape(b, -1)[:, active].double()
    z = torch.where(z > 1e-6, z, torch.ones_like(z))
    x = (uv[:, 0] - cx) * z / fx
    y = (uv[:, 1] - cy) * z / fy
    grad_u = sampled[:, c : 2 * c].reshape(b, c, -1)[..., active].double()
    grad_v = sampled[:, 2 * c :].reshape(b, c, -1)[..., active].double()
    # g = grad_u * du/dp + grad_v * dv/dp, per channel: (B, C, N', 3); the rotation part is p x g
    gx = grad_u * (fx / z)[:, None]
    gy = grad_v * (fy / z)[:, None]
    gz = -(grad_u * (fx * x / z**2)[:, None] + grad_v * (fy * y / z**2)[:, None])
    px, py, pz = x[:, None], y[:, None], z[:, None]
    jacobian = torch.stack((gx, gy, gz, py * gz - pz * gy, pz * gx - px * gz, px * gy - py * gx), dim=-1)
    jacobian = jacobian.reshape(b, -1, 6)  # (B, C N', 6)
    w = weight.reshape(b, c, -1)[..., active].double().reshape(b, -1, 1)
    jw = jacobian * w
    hessian = jw.transpose(1, 2) @ jacobian
    gradient = (jw.transpose(1, 2) @ residual.reshape(b, c, -1)[..., active].double().reshape(b, -1, 1))[..., 0]
    return hessian, gradient


def _build_pyramid(source, target, depth, intrinsics: torch.Tensor, config: DirectAlignmentConfig) -> list[_Level]:
    """The pyramid levels, coarsest first."""
    pyramid = image_pyramid(source, target, depth, intrinsics, config.levels, config.min_size)
    return [_Level(*level, config.max_pixels) for level in pyramid][::-1]


@torch.no_grad()
def align_photometric(
    source_image: torch.Tensor,
    target_image: torch.Tensor,
    target_depth: torch.Tensor,
    intrinsics: torch.Tensor | PinholeIntrinsics,
    T_src_tgt_init: torch.Tensor | None = None,
    config: DirectAlignmentConfig = DirectAlignmentConfig(),
) -> DirectAlignmentResult:
    """Estimate ``T_src_tgt`` by minimising the masked photometric error of the warp, coarse to fine.

    Args:
        source_image: ``(B, C, H, W)`` source image.
        target_image: ``(B, C, H, W)`` target image.
        target_depth: ``(B, 1, H, W)`` target z-depth in metres, 0 = unknown.
        intrinsics: ``(B, 4)``/``(4,)`` tensor or :class:`PinholeIntrinsics` (shared by both images).
        T_src_tgt_init: ``(B, 4, 4)`` or ``(4, 4)`` starting pose (default identity).
        config: :class:`DirectAlignmentConfig`.

    Returns:
        A :class:`DirectAlignmentResult`.
    """
    check_shape("target_image", target_image, tuple(source_image.shape))
    b, _, h, w = source_image.shape
    check_shape("target_depth", target_depth, (b, 1, h, w))
    dtype = source_image.dtype
    k = batch_intrinsics(intrinsics, b, source_image)
    if T_src_tgt_init is None:
        pose = torch.eye(4, dtype=torch.float64).expand(b, 4, 4).clone()
    else:
        pose = T_src_tgt_init.to(torch.float64).expand(b, 4, 4).clone()
    levels = _build_pyramid(source_image, target_image, target_depth.to(dtype), k, config)
    total_iterations = 0
    for level in levels:
        damping = torch.full((b,), config.initial_damping, dtype=torch.float64)
        current = _evaluate(level, pose.to(dtype), config.huber_delta)
        for _ in range(config.iterations):
            total_iterations += 1
            hessian, gradient = _normal_equations(level, current)
            diag = torch.diag_embed(hessian.diagonal(dim1=-2, dim2=-1).clamp_min(1e-9))
            delta = -torch.linalg.solve(hessian + damping[:, None, None] * diag, gradient[..., None])[..., 0]
            candidate_pose = se3_exp(delta) @ pose
            candidate = _evaluate(level, candidate_pose.to(dtype), config.huber_delta)
            better = candidate.cost < current.cost
            pose = torch.where(better[:, None, None], candidate_pose, pose)
            current = candidate.merged(better, current)
            damping = torch.where(better, damping / 10, damping * 10).clamp(1e-9, 1e9)
            small_step = (delta[:, :3].abs().amax(-1) < config.tolerance) & (delta[:, 3:].abs().amax(-1) < config.tolerance)
            if bool((small_step | (damping >= 1e9)).all()):
                break
    final = _evaluate(levels[-1], pose.to(dtype), config.huber_delta, all_pixels=True)
    valid_fraction = final.projection.valid.to(dtype).mean(dim=(1, 2, 3))
    return DirectAlignmentResult(pose.to(dtype), final.cost, valid_fraction, total_iterations)
