"""Estimate the colour camera's pose relative to the depth camera (``T_depth_colour``) from posed RGB-D frames.

With the depth camera's poses known (the dataset's file poses), a surface point seen by the depth camera of frame
``i`` projects into the colour images of frame ``i`` and of a partner frame ``j`` through the colour camera poses
``T_world_depth @ T_depth_colour``. When ``T_depth_colour`` is right, the two colour images agree there. A wrong
rotation shifts both projections by about the same number of pixels, so the disagreement it causes grows with the
viewpoint change between ``i`` and ``j``: pairs are chosen 8-30 deg apart (a relocalisation's typical change).

:func:`estimate_colour_extrinsic` minimises the robust (Huber) grey-level difference over a correction
``T_depth_colour = T_depth_colour_0 @ exp(xi)`` (rotation only by default; the 2.5 cm offset is kept), coarse to
fine, with L-BFGS through autograd, for every source frame on its own (to see whether the correction is a
constant of the rig) and for all pairs together (the estimate). Points occluded in the partner frame (its own
sensor depth disagrees by more than ``occlusion_m``) are left out; the geometry comes from each frame's sensor
depth, so the estimate does not depend on a fused map.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F

from posekit.data.records import FrameRecord
from posekit.errors import DatasetError
from posekit.geometry.camera import PinholeIntrinsics, backproject_depth, project_points
from posekit.geometry.lie import se3_exp, se3_inverse, transform_points
from posekit.geometry.rotations import rotation_matrix_angle
from posekit.geometry.warp import sample_at_pixels
from posekit.mapping.calibration import RgbdCalibration
from posekit.mapping.frames import load_colour, load_depth


@dataclass(frozen=True)
class ExtrinsicEstimateConfig:
    """Settings of :func:`estimate_colour_extrinsic`.

    Attributes:
        colour_hw: grey images are compared at this ``(H, W)`` (the coarse level is half of it).
        pixel_stride: every n-th depth pixel in each direction is a sample point.
        min_angle_deg, max_angle_deg, max_distance_m: a partner frame's viewing change from the source frame.
        partners: partner frames per source frame.
        min_overlap: a pair needs this share of the source's sample points visible (not occluded) in the partner.
        occlusion_m: a point whose depth in the partner differs from the partner's sensor depth by more than this
            (plus 2 % of the depth) is occluded there.
        huber: Huber threshold on grey-level differences.
        translation: also estimate the translation (it is weakly observed; off: only the rotation).
        iterations: L-BFGS iterations per level.
        per_frame: also estimate the correction from each source frame's pairs alone (its spread says whether
            the correction is a constant of the rig).
    """

    colour_hw: tuple[int, int] = (240, 320)
    pixel_stride: int = 4
    min_angle_deg: float = 8.0
    max_angle_deg: float = 30.0
    max_distance_m: float = 0.8
    partners: int = 3
    min_overlap: float = 0.3
    occlusion_m: float = 0.03
    huber: float = 0.05
    translation: bool = False
    iterations: int = 25
    per_frame: bool = True


@dataclass
class ExtrinsicEstimate:
    """Result of :func:`estimate_colour_extrinsic`.

    Attributes:
        calibration: the input calibration with the estimated ``T_depth_colour``.
        correction: ``(6,)`` float64 twist ``(t, omega)`` with ``T_depth_colour = T_depth_colour_0 @ exp(correction)``.
        per_frame: ``(F, 6)`` the same correction estimated from each source frame's pairs alone (``(1, 6)``, the
            joint correction, when ``config.per_frame`` is off).
        source_frames: the ``F`` source frame keys.
        pairs: ``P`` (source key, partner key) pairs used.
        cost_before, cost_after: mean Huber cost over all pairs at the initial and the estimated extrinsic.
    """

    calibration: RgbdCalibration
    correction: torch.Tensor
    per_frame: torch.Tensor
    source_frames: list[str]
    pairs: list[tuple[str, str]]
    cost_before: float
    cost_after: float

    def summary(self) -> dict:
        """Rotation of the correction (deg, per axis and angle), its spread over the per-frame estimates."""
        deg = torch.rad2deg(self.correction[3:])
        per_frame = torch.rad2deg(self.per_frame[:, 3:])
        median = per_frame.median(dim=0).values
        mad = (per_frame - median).abs().median(dim=0).values
        return {
            "rotation_deg_xyz": [round(float(v), 4) for v in deg],
            "rotation_angle_deg": round(float(deg.norm()), 4),
            "translation_m": [round(float(v), 5) for v in self.correction[:3]],
            "per_frame_median_rotation_deg_xyz": [round(float(v), 4) for v in median],
            "per_frame_mad_rotation_deg_xyz": [round(float(v), 4) for v in mad],
            "frames": len(self.source_frames), "pairs": len(self.pairs),
            "cost_before": round(self.cost_before, 6), "cost_after": round(self.cost_after, 6),
            "T_depth_colour": self.calibration.T_depth_colour.tolist(),
        }


@dataclass
class _Pair:
    """Sample points of one source frame in its depth camera and in the partner's depth camera: ``(N, 3)`` each."""

    source: int
    partner: int
    points_source: torch.Tensor
    points_partner: torch.Tensor
    T_partner_source: torch.Tensor | None = None  # (4, 4) depth camera to depth camera, for a pose correction


def _rotation_deg(T_a: torch.Tensor, T_b: torch.Tensor) -> float:
    return float(torch.rad2deg(rotation_matrix_angle(T_a[:3, :3].T @ T_b[:3, :3])))


def choose_pairs(frames: list[FrameRecord], sources: list[int], config: ExtrinsicEstimateConfig) -> list[tuple[int, int]]:
    """For each source index, up to ``config.partners`` partner indices whose viewpoint differs by
    ``min_angle_deg``-``max_angle_deg`` and whose centre is within ``max_distance_m``, spread over that range."""
    poses = torch.stack([f.T_world_cam.to(torch.float64) for f in frames])
    pairs = []
    for i in sources:
        eligible = []
        for j in range(len(frames)):
            distance = float((poses[j, :3, 3] - poses[i, :3, 3]).norm())
            angle = _rotation_deg(poses[i], poses[j])
            if j != i and distance <= config.max_distance_m and config.min_angle_deg <= angle <= config.max_angle_deg:
                eligible.append((angle, j))
        eligible.sort()
        if eligible:
            step = max(1, len(eligible) // config.partners)
            pairs += [(i, j) for _, j in eligible[::step][: config.partners]]
    return pairs


def _pair_points(depth_i: torch.Tensor, depth_j: torch.Tensor, T_world_i: torch.Tensor, T_world_j: torch.Tensor,
                 intrinsics: PinholeIntrinsics, config: ExtrinsicEstimateConfig) -> tuple[torch.Tensor, torch.Tensor]:
    """Sample points of depth ``i (1, H, W)`` visible in depth ``j``: ``(N, 3)`` in depth camera i and in j."""
    s = config.pixel_stride
    points = backproject_depth(depth_i[None].double(), intrinsics)[0].reshape(3, -1)
    h, w = depth_i.shape[-2:]
    grid = torch.zeros(h, w, dtype=torch.bool)
    grid[s // 2 :: s, s // 2 :: s] = True
    known = grid.reshape(-1) & (depth_i.reshape(-1) > 0)
    points = points[:, known].T
    T_j_i = se3_inverse(T_world_j.double()) @ T_world_i.double()
    in_j = transform_points(T_j_i[None], points[None])[0]
    pixels, in_front = project_points(in_j.T[None, :, :, None], intrinsics)
    u, v = pixels[0, 0, :, 0], pixels[0, 1, :, 0]
    inside = in_front[0, 0, :, 0] & (u >= 0) & (u <= w - 1) & (v >= 0) & (v <= h - 1)
    z_j = depth_j[0, v.round().clamp(0, h - 1).long(), u.round().clamp(0, w - 1).long()].double()
    visible = inside & (z_j > 0) & ((in_j[:, 2] - z_j).abs() <= config.occlusion_m + 0.02 * z_j)
    return points[visible], in_j[visible]


def _grey_levels(frame: FrameRecord, hw: tuple[int, int]) -> list[torch.Tensor]:
    """``(1, 1, H/2, W/2)`` then ``(1, 1, H, W)`` grey images of a frame's colour, coarse first."""
    grey = load_colour(frame, hw).mean(0, keepdim=True)[None]
    return [F.avg_pool2d(grey, 2), grey]


def _cost(xi: torch.Tensor, pairs: list[_Pair], greys: list[list[torch.Tensor]], level: int,
          T_depth_colour_0: torch.Tensor, intrinsics: PinholeIntrinsics, huber: float, source_pose: bool = False) -> torch.Tensor:
    """Mean Huber grey-level difference of all pairs at ``T_depth_colour_0 @ exp(xi)``, or, with ``source_pose``,
    with the extrinsic fixed and the source frame's depth-camera pose corrected to ``T_world_depth @ exp(xi)``."""
    T_colour_depth = se3_inverse(T_depth_colour_0 @ se3_exp(xi)) if not source_pose else se3_inverse(T_depth_colour_0)
    total, count = xi.new_zeros(()), 0
    for pair in pairs:
        values, masks = [], []
        in_partner = pair.points_partner
        if source_pose:
            in_partner = transform_points((pair.T_partner_source @ se3_exp(xi))[None], pair.points_source[None])[0]
        for frame, points in ((pair.source, pair.points_source), (pair.partner, in_partner)):
            image = greys[frame][level]
            in_colour = transform_points(T_colour_depth[None], points[None])[0]
            pixels, in_front = project_points(in_colour.T[None, :, None, :], intrinsics)
            h, w = image.shape[-2:]
            u, v = pixels[0, 0, 0], pixels[0, 1, 0]
            masks.append(in_front[0, 0, 0] & (u >= 0) & (u <= w - 1) & (v >= 0) & (v <= h - 1))
            values.append(sample_at_pixels(image.double(), pixels)[0, 0, 0])
        valid = (masks[0] & masks[1]).detach()
        residual = (values[0] - values[1])[valid].abs()
        rho = torch.where(residual <= huber, 0.5 * residual**2, huber * (residual - 0.5 * huber))
        # A point that leaves either image costs as much as the largest difference (1): moving points out of
        # view must not lower the cost.
        total = total + rho.sum() + huber * (1.0 - 0.5 * huber) * int((~valid).sum())
        count += len(valid)
    return total / max(count, 1)


def _optimise(pairs: list[_Pair], greys, T_depth_colour_0: torch.Tensor, intrinsics_levels: list[PinholeIntrinsics],
              config: ExtrinsicEstimateConfig, source_pose: bool = False) -> torch.Tensor:
    free = torch.zeros(6, dtype=torch.float64, requires_grad=True)
    mask = torch.tensor([1.0 if config.translation or source_pose else 0.0] * 3 + [1.0] * 3, dtype=torch.float64)
    for level, intrinsics in enumerate(intrinsics_levels):
        optimiser = torch.optim.LBFGS([free], lr=1.0, max_iter=config.iterations, line_search_fn="strong_wolfe")

        def closure():
            optimiser.zero_grad()
            cost = _cost(free * mask, pairs, greys, level, T_depth_colour_0, intrinsics, config.huber, source_pose) * 1e3
            cost.backward()
            return cost

        optimiser.step(closure)
    return (free * mask).detach()


def estimate_colour_extrinsic(frames: list[FrameRecord], sources: list[int], calibration: RgbdCalibration,
                              config: ExtrinsicEstimateConfig = ExtrinsicEstimateConfig(), log=print) -> ExtrinsicEstimate:
    """Estimate ``T_depth_colour`` from posed RGB-D ``frames``: ``sources`` index the frames whose depth gives the
    sample points (each paired with partner frames among all ``frames``).

    Raises:
        DatasetError: a frame without depth, or no pair with enough overlap.
    """
    pair_indices = choose_pairs(frames, sources, config)
    used = sorted({i for pair in pair_indices for i in pair})
    depth = {i: load_depth(frames[i]) for i in used}
    pairs = []
    for i, j in pair_indices:
        p_i, p_j = _pair_points(depth[i], depth[j], frames[i].T_world_cam, frames[j].T_world_cam, calibration.depth, config)
        total = int((depth[i][0, config.pixel_stride // 2 :: config.pixel_stride, config.pixel_stride // 2 :: config.pixel_stride] > 0).sum())
        if len(p_i) >= config.min_overlap * max(total, 1):
            pairs.append(_Pair(i, j, p_i, p_j))
    if not pairs:
        raise DatasetError("colour extrinsic: no frame pair with enough overlap (need partners "
                           f"{config.min_angle_deg}-{config.max_angle_deg} deg apart)")
    greys = {i: _grey_levels(frames[i], config.colour_hw) for i in used}
    h, w = config.colour_hw
    levels = [calibration.colour.resized(w // 2, h // 2), calibration.colour.resized(w, h)]
    X0 = calibration.T_depth_colour.double()
    by_source: dict[int, list[_Pair]] = {}
    for pair in pairs:
        by_source.setdefault(pair.source, []).append(pair)
    per_frame = []
    for k, (source, own) in enumerate(by_source.items() if config.per_frame else ()):
        per_frame.append(_optimise(own, greys, X0, levels, config))
        log(f"frame {frames[source].key}: rotation (deg) {[round(float(v), 3) for v in torch.rad2deg(per_frame[-1][3:])]}"
            f" ({k + 1}/{len(by_source)})")
    correction = _optimise(pairs, greys, X0, levels, config)
    zero = torch.zeros(6, dtype=torch.float64)
    before = float(_cost(zero, pairs, greys, 1, X0, levels[1], config.huber))
    after = float(_cost(correction, pairs, greys, 1, X0, levels[1], config.huber))
    estimated = calibration.with_T_depth_colour(X0 @ se3_exp(correction))
    per_frame_stack = torch.stack(per_frame) if per_frame else correction[None]
    return ExtrinsicEstimate(estimated, correction, per_frame_stack, [frames[s].key for s in by_source],
                             [(frames[p.source].key, frames[p.partner].key) for p in pairs], before, after)


@dataclass
class PoseCorrection:
    """Result of :func:`file_pose_correction`: ``correction (6,)`` float64 twist ``(t, omega)`` with the photometric
    optimum at ``T_world_depth @ exp(correction)``, the partner frame keys and the cost before and after."""

    correction: torch.Tensor
    partners: list[str]
    cost_before: float
    cost_after: float

    @property
    def rotation_deg(self) -> float:
        return float(torch.rad2deg(self.correction[3:].norm()))

    @property
    def translation_m(self) -> float:
        return float(self.correction[:3].norm())


def file_pose_correction(frames: list[FrameRecord], source: int, partners: list[int], calibration: RgbdCalibration,
                         config: ExtrinsicEstimateConfig = ExtrinsicEstimateConfig()) -> PoseCorrection:
    """How far one frame's file (depth-camera) pose is from agreeing photometrically with other frames' file poses.

    The colour model is fixed; the source frame's pose is corrected (6 DoF) so that its colour agrees best with
    the colours of up to ``config.partners`` frames among ``partners`` (indices into ``frames``, chosen
    ``min_angle_deg``-``max_angle_deg`` away as for the extrinsic) at the surface points of its sensor depth. A
    check of pseudo ground truth: partners from another pass through a scene reveal drift between the passes.

    Raises:
        DatasetError: no partner with enough overlap.
    """
    pool = [frames[j] for j in partners if j != source] + [frames[source]]
    chosen = [j for _, j in choose_pairs(pool, [len(pool) - 1], config)]
    depth_source = load_depth(frames[source])
    pairs = []
    for j in chosen:
        p_i, p_j = _pair_points(depth_source, load_depth(pool[j]), frames[source].T_world_cam, pool[j].T_world_cam,
                                calibration.depth, config)
        if len(p_i) >= config.min_overlap * max(int((depth_source[0, :: config.pixel_stride, :: config.pixel_stride] > 0).sum()), 1):
            T_j_i = se3_inverse(pool[j].T_world_cam.double()) @ frames[source].T_world_cam.double()
            pairs.append(_Pair(len(pool) - 1, j, p_i, p_j, T_j_i))
    if not pairs:
        raise DatasetError(f"{frames[source].key}: no partner frame with enough overlap "
                           f"({config.min_angle_deg}-{config.max_angle_deg} deg away)")
    greys = {i: _grey_levels(pool[i], config.colour_hw) for i in {p.partner for p in pairs} | {len(pool) - 1}}
    h, w = config.colour_hw
    levels = [calibration.colour.resized(w // 2, h // 2), calibration.colour.resized(w, h)]
    X0 = calibration.T_depth_colour.double()
    correction = _optimise(pairs, greys, X0, levels, config, source_pose=True)
    zero = torch.zeros(6, dtype=torch.float64)
    before = float(_cost(zero, pairs, greys, 1, X0, levels[1], config.huber, source_pose=True))
    after = float(_cost(correction, pairs, greys, 1, X0, levels[1], config.huber, source_pose=True))
    return PoseCorrection(correction, [pool[p.partner].key for p in pairs], before, after)
