"""Localise an RGB query image in a map: an initial pose, then refinement against the map.

For each query (colour only; its own depth is never used):

1. **Init**: retrieval of the top-k keyframes by global descriptor (or the keyframes nearest to a given initial
   pose, e.g. PoseNet's).
2. **Refinement**, in the colour camera at the map's working size:
   - ``pnp``: the query's ORB features are matched to the cached ORB features of the candidate keyframes, lifted
     to world points by the keyframes' map depth; one PnP-RANSAC per covisible group of keyframes, the group
     with the most inliers wins (:func:`posekit.localization.features.pnp_world`);
   - ``direct``: photometric alignment of the query to each of the first keyframes through the keyframe's map
     depth, coarse to fine, from the keyframe's pose (:func:`posekit.baselines.direct_alignment.align_photometric`);
     the lowest final cost wins;
   - ``both``: PnP, then a short photometric alignment to the best keyframe from the PnP pose, which also checks
     it (cost and overlap); optionally more PnP hypotheses are checked (``verify_hypotheses``) and a second round
     runs on the next retrieved keyframes (``retry_top_k``): off by default, they rescued no validation frame;
   - optionally (``render_direct``) a final alignment to the mesh rendered at the estimate (off by default: it made
     poses worse on the validation frames).
3. A query whose result fails the checks (too few inliers, too high a photometric cost, too little overlap, a
   jump over ``max_jump_m``) is flagged ``success = False``; its pose is then the PnP pose if PnP found one, else
   the initial pose: never NaN, never a diverged refinement.

Poses are returned for the depth camera (the dataset's file poses) via the map's calibration.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field, replace
from enum import Enum

import torch

from posekit.baselines.direct_alignment import DirectAlignmentConfig, align_photometric
from posekit.baselines.feature_matching import FeatureMatchingConfig
from posekit.errors import ConfigError, ShapeError
from posekit.geometry.camera import PinholeIntrinsics
from posekit.geometry.lie import se3_inverse
from posekit.localization.features import LocalFeatures, detect_orb, keyframe_features, match_to_keyframes, pnp_world
from posekit.mapping.store import PoseMap


class Refinement(str, Enum):
    NONE = "none"
    DIRECT = "direct"
    PNP = "pnp"
    BOTH = "both"


@dataclass(frozen=True)
class LocalizerConfig:
    """Settings of :class:`Localizer`.

    Attributes:
        refine: the refinement (:class:`Refinement`).
        top_k: keyframes retrieved per query (their features are pooled into one PnP).
        direct_hypotheses: keyframes aligned by ``direct`` alone (the first of the retrieved ones).
        direct: settings of the keyframe alignment from retrieval or a given pose (``direct``).
        after_pnp: settings of the keyframe alignment from the PnP pose (``both``: a good start, fine levels only;
            the 8000 highest-gradient keyframe pixels per level drive it: as accurate on the validation frames as
            all 76800, about 2x faster).
        render_direct: settings of a final alignment to the mesh rendered at the estimate (``None``: skipped; on
            7-Scenes validation frames it made the pose worse, see ``docs/results.md``).
        pnp: feature-matching settings.
        min_inliers: PnP needs this many RANSAC inliers to count.
        max_cost: a direct result with a higher final photometric cost (Huber, image units) is a failure.
        min_valid: a direct result overlapping less than this share of pixels is a failure.
        max_jump_m: a refinement that moves the pose further than this from its hypothesis is a failure.
        grey: align grey images (3x cheaper than colour).
        nearest_keyframe_after_pnp: ``both`` aligns to the keyframe nearest to the PnP pose (most overlap), not to
            the one with the most PnP inliers.
        group_radius_m, group_angle_deg: retrieved keyframes closer than this (and viewing within this angle of
            each other) share one PnP; ``group_radius_m <= 0`` pools all of them into one PnP.
        verify_hypotheses: ``both`` checks up to this many PnP hypotheses (one per keyframe group, most inliers
            first) photometrically and keeps the first that passes (1: only the best one).
        retry_top_k: ``both`` with retrieval: when no hypothesis passes, PnP and check again with the next
            ``retry_top_k`` retrieved keyframes (0: no second round).
        pnp_usac: OpenCV's USAC PnP-RANSAC (P3P, MSAC, local optimisation) instead of the EPnP RANSAC loop
            (about 4x faster on the validation queries; see ``docs/results.md``).
    """

    refine: Refinement = Refinement.BOTH
    top_k: int = 10
    direct_hypotheses: int = 3
    direct: DirectAlignmentConfig = DirectAlignmentConfig(levels=4, iterations=20, huber_delta=0.1)
    after_pnp: DirectAlignmentConfig = DirectAlignmentConfig(levels=2, iterations=5, huber_delta=0.1, max_pixels=8000)
    render_direct: DirectAlignmentConfig | None = None
    pnp: FeatureMatchingConfig = FeatureMatchingConfig(max_features=1500, ransac_threshold_px=3.0)
    min_inliers: int = 20
    max_cost: float = 0.004
    min_valid: float = 0.3
    max_jump_m: float = 1.0
    grey: bool = True
    group_radius_m: float = 0.5
    nearest_keyframe_after_pnp: bool = True
    group_angle_deg: float = 30.0
    pnp_usac: bool = True
    verify_hypotheses: int = 1
    retry_top_k: int = 0


@dataclass
class Hypothesis:
    """One refined hypothesis: ``T_world_colour (4, 4)`` float64 with its evidence."""

    keyframe: int
    T_world_colour: torch.Tensor
    cost: float = float("inf")
    valid_fraction: float = 0.0
    inliers: int = 0
    iterations: int = 0
    success: bool = False


@dataclass
class LocalizationResult:
    """The pose of one query.

    Attributes:
        T_world_cam: ``(4, 4)`` float64 pose of the depth (file) camera, as the dataset's poses.
        success: whether the checks passed.
        keyframe: name of the keyframe of the chosen hypothesis.
        cost, valid_fraction, inliers, iterations: evidence of the chosen hypothesis.
        seconds: time per stage (``init``, ``pnp``, ``align``, ``render``).
    """

    T_world_cam: torch.Tensor
    success: bool
    keyframe: str
    cost: float
    valid_fraction: float
    inliers: int
    iterations: int
    seconds: dict[str, float] = field(default_factory=dict)


class Localizer:
    """Localise colour images in a :class:`PoseMap`."""

    def __init__(self, pose_map: PoseMap, config: LocalizerConfig = LocalizerConfig(), descriptor=None):
        if config.top_k < 1:
            raise ConfigError(f"--top-k: expected >= 1, got {config.top_k}")
        self.map = pose_map
        self.config = config
        self.intrinsics: PinholeIntrinsics = pose_map.colour_intrinsics
        self._descriptor = descriptor
        kf = pose_map.keyframes
        self._T_world_colour_kf = pose_map.calibration.T_world_colour(kf.T_world_depth)
        self._features: dict[int, LocalFeatures] = {}

    def descriptor(self):
        if self._descriptor is None:
            from posekit.mapping.descriptors import GlobalDescriptor

            self._descriptor = GlobalDescriptor(**self.map.manifest.get("descriptor_args", {}))
        return self._descriptor

    def _check_query(self, image: torch.Tensor) -> None:
        expected = (1, 3, self.intrinsics.height, self.intrinsics.width)
        if tuple(image.shape) != expected:
            raise ShapeError(f"query image: expected shape {expected} (the map's working size), got {tuple(image.shape)}")

    def retrieve(self, image: torch.Tensor, k: int | None = None) -> list[int]:
        """Indices of the ``k`` (default ``top_k``) keyframes most similar to ``image (1, 3, H, W)``, best first."""
        similarity = self.descriptor()(image) @ self.map.keyframes.descriptors.T
        k = min(k or self.config.top_k, similarity.shape[1])
        return similarity[0].topk(k).indices.tolist()

    def nearest_keyframes(self, T_world_cam: torch.Tensor) -> list[int]:
        """Indices of the ``top_k`` keyframes nearest (position + 0.5 m per rad of rotation) to a depth-camera pose."""
        poses = self.map.keyframes.T_world_depth
        distance = (poses[:, :3, 3] - T_world_cam[:3, 3]).norm(dim=1)
        relative = poses[:, :3, :3].transpose(1, 2) @ T_world_cam[:3, :3]
        angle = torch.arccos(((relative.diagonal(dim1=1, dim2=2).sum(-1) - 1) / 2).clamp(-1, 1))
        k = min(self.config.top_k, poses.shape[0])
        return (distance + 0.5 * angle).topk(k, largest=False).indices.tolist()

    def localize(self, image: torch.Tensor, initial_T_world_cam: torch.Tensor | None = None) -> LocalizationResult:
        """Localise one query ``image (1, 3, H, W)`` (colour camera, the map's working size).

        Args:
            initial_T_world_cam: ``(4, 4)`` an initial depth-camera pose (e.g. PoseNet's); retrieval when ``None``.
        """
        self._check_query(image)
        seconds = {"init": 0.0, "pnp": 0.0, "align": 0.0, "render": 0.0}
        start = time.perf_counter()
        retry: list[int] = []
        if initial_T_world_cam is None:
            candidates = self.retrieve(image, self.config.top_k + self.config.retry_top_k)
            candidates, retry = candidates[: self.config.top_k], candidates[self.config.top_k :]
            T_world_init = self._T_world_colour_kf[candidates[0]]
        else:
            candidates = self.nearest_keyframes(initial_T_world_cam.to(torch.float64))
            T_world_init = self.map.calibration.T_world_colour(initial_T_world_cam)
        seconds["init"] = time.perf_counter() - start
        refine = self.config.refine
        fallback = Hypothesis(candidates[0], T_world_init.clone(), success=refine is Refinement.NONE)
        best, pnp_pose, hypotheses = fallback, None, []
        if refine in (Refinement.PNP, Refinement.BOTH):
            hypotheses = self._pnp(image, candidates, fallback, seconds)
            best = hypotheses[0]
            pnp_pose = best if best.success else None
        if refine is Refinement.DIRECT:
            starts = [T_world_init] if initial_T_world_cam is not None else [self._T_world_colour_kf[i] for i in candidates]
            hypotheses = [self._align_to_keyframe(image, Hypothesis(i, T.clone()), seconds)
                          for i, T in list(zip(candidates, starts * len(candidates)))[: self.config.direct_hypotheses]]
            best = self._best(hypotheses, by_inliers=False)
        elif refine is Refinement.BOTH and best.success:
            # The photometric check confirms the PnP pose: a PnP pose it rejects is flagged (wrong PnP poses with
            # 20-70 inliers occurred on the validation frames).
            best = self._verify(image, hypotheses, seconds)
            if not best.success and retry:
                more = [h for h in self._pnp(image, retry, fallback, seconds) if h.success]
                checked = self._verify(image, more, seconds) if more else best
                best = checked if checked.success else best
        if refine in (Refinement.DIRECT, Refinement.BOTH) and self.config.render_direct is not None and best.success:
            best = self._align_to_render(image, best, seconds)
        if not best.success:
            # A flagged failure keeps the PnP pose when PnP found one (the photometric check rejected it), else the
            # initial pose (retrieval or the given one): never a diverged photometric refinement.
            keep = pnp_pose if pnp_pose is not None else fallback
            best = replace(keep, cost=best.cost, valid_fraction=best.valid_fraction, inliers=best.inliers,
                           iterations=best.iterations, success=False)
        T_world_cam = self.map.calibration.T_world_depth(best.T_world_colour)
        return LocalizationResult(T_world_cam, best.success, self.map.keyframes.names[best.keyframe], best.cost,
                                  best.valid_fraction, best.inliers, best.iterations, seconds)

    # ------------------------------------------------------------------------------------------------ stages
    def _verify(self, image: torch.Tensor, hypotheses: list[Hypothesis], seconds: dict) -> Hypothesis:
        """The first of ``hypotheses`` (PnP poses, best first) whose short alignment to its keyframe passes the
        photometric check, aligned; else the first one's failed alignment."""
        first = None
        for hypothesis in hypotheses[: self.config.verify_hypotheses]:
            if self.config.nearest_keyframe_after_pnp:
                nearest = self.nearest_keyframes(self.map.calibration.T_world_depth(hypothesis.T_world_colour))[0]
                hypothesis = replace(hypothesis, keyframe=nearest)
            aligned = self._align_to_keyframe(image, hypothesis, seconds, self.config.after_pnp)
            if aligned.success:
                return aligned
            first = first or aligned
        return first

    def _keyframe_features(self, index: int) -> LocalFeatures:
        if index not in self._features:
            kf = self.map.keyframes
            self._features[index] = keyframe_features(kf.images[index : index + 1], kf.depth[index : index + 1],
                                                      self._T_world_colour_kf[index], self.intrinsics,
                                                      self.config.pnp.max_features)
        return self._features[index]

    def _pnp(self, image: torch.Tensor, candidates: list[int], fallback: Hypothesis, seconds: dict) -> list[Hypothesis]:
        """PnP-RANSAC over the query's ORB matches to the 3-D points of each covisible group of candidate
        keyframes (one PnP per group, pooled within it).

        Returns:
            the ``verify_hypotheses`` successful group hypotheses with the most inliers, best first (the earlier
            group in retrieval order on a tie); or one failed hypothesis (the fallback pose, most inliers seen).
            Groups run in order of their match count, and a group with fewer matches than the inliers of the
            last hypothesis kept is skipped: it could not be kept.
        """
        start = time.perf_counter()
        query = detect_orb(image, self.config.pnp.max_features)
        groups = self._groups(candidates)
        matches = [match_to_keyframes(query, [self._keyframe_features(i) for i in group], self.config.pnp.ratio)
                   for group in groups]
        keep = max(1, self.config.verify_hypotheses)
        kept: list[tuple[int, int, Hypothesis]] = []  # (-inliers, rank, hypothesis), sorted
        most_inliers = 0
        for rank in sorted(range(len(groups)), key=lambda r: -len(matches[r])):
            if len(kept) == keep and len(matches[rank]) < -kept[-1][0]:
                continue
            pooled = pnp_world(matches[rank], None, self.intrinsics, self.config.pnp, usac=self.config.pnp_usac)
            most_inliers = max(most_inliers, pooled.inliers)
            if pooled.T_world_cam is None or pooled.inliers < self.config.min_inliers:
                continue
            group = groups[rank]
            keyframe = group[max(range(len(group)), key=lambda k: pooled.inliers_per_keyframe[k])]
            kept = sorted(kept + [(-pooled.inliers, rank, Hypothesis(keyframe, pooled.T_world_cam, inliers=pooled.inliers,
                                                                      success=True))], key=lambda e: e[:2])[:keep]
        seconds["pnp"] += time.perf_counter() - start
        return [h for _, _, h in kept] or [replace(fallback, inliers=most_inliers, success=False)]

    def _groups(self, candidates: list[int]) -> list[list[int]]:
        """Candidates grouped greedily (in retrieval order) with the first group whose first keyframe is within
        ``group_radius_m`` and ``group_angle_deg`` of viewing direction; one group of all when grouping is off."""
        if self.config.group_radius_m <= 0:
            return [candidates]
        poses = self._T_world_colour_kf
        groups: list[list[int]] = []
        cos_max = math.cos(math.radians(self.config.group_angle_deg))
        for i in candidates:
            for group in groups:
                seed = poses[group[0]]
                near = float((poses[i][:3, 3] - seed[:3, 3]).norm()) <= self.config.group_radius_m
                if near and float(poses[i][:3, 2] @ seed[:3, 2]) >= cos_max:
                    group.append(i)
                    break
            else:
                groups.append([i])
        return groups

    def _align_to_keyframe(self, image: torch.Tensor, hypothesis: Hypothesis, seconds: dict,
                           config: DirectAlignmentConfig | None = None) -> Hypothesis:
        """Photometric alignment of the query to the hypothesis' keyframe through its map depth."""
        index = hypothesis.keyframe
        T_world_kf = self._T_world_colour_kf[index]
        T_query_kf = se3_inverse(hypothesis.T_world_colour) @ T_world_kf
        start = time.perf_counter()
        result = align_photometric(self._channels(image), self._channels(self.map.keyframes.images[index : index + 1]),
                                   self.map.keyframes.depth[index : index + 1], self.intrinsics,
                                   T_query_kf[None].float(), config or self.config.direct)
        seconds["align"] += time.perf_counter() - start
        T_refined = T_world_kf @ se3_inverse(result.T_src_tgt[0].to(torch.float64))
        jump = float((T_refined[:3, 3] - hypothesis.T_world_colour[:3, 3]).norm())
        cost, valid = float(result.cost[0]), float(result.valid_fraction[0])
        ok = self._direct_ok(cost, valid) and jump <= self.config.max_jump_m
        return replace(hypothesis, T_world_colour=T_refined, cost=cost, valid_fraction=valid,
                       iterations=hypothesis.iterations + result.iterations, success=ok)

    def _channels(self, image: torch.Tensor) -> torch.Tensor:
        """Grey ``(B, 1, H, W)`` when ``config.grey``, else the image."""
        return image.mean(1, keepdim=True) if self.config.grey else image

    def _direct_ok(self, cost: float, valid_fraction: float) -> bool:
        return cost <= self.config.max_cost and valid_fraction >= self.config.min_valid and cost == cost

    def _best(self, hypotheses: list[Hypothesis], by_inliers: bool) -> Hypothesis:
        """The first of the best: successful before failed, then most inliers or lowest photometric cost."""

        def key(h: Hypothesis):
            if by_inliers:
                return (h.success, h.inliers)
            return (h.success, -h.cost if h.cost == h.cost else -float("inf"))

        best = hypotheses[0]
        for h in hypotheses[1:]:
            if key(h) > key(best):
                best = h
        return best

    def _align_to_render(self, image: torch.Tensor, best: Hypothesis, seconds: dict) -> Hypothesis:
        """Align the query to the mesh rendered at the current estimate; keep it only if it lowers the cost there."""
        start = time.perf_counter()
        view = self.map.renderer().render(best.T_world_colour, self.intrinsics)
        seconds["render"] += time.perf_counter() - start
        if view.coverage < self.config.min_valid:
            return replace(best, success=False) if best.success and self.config.refine is not Refinement.PNP else best
        start = time.perf_counter()
        result = align_photometric(self._channels(image), self._channels(view.colour), view.depth, self.intrinsics, None,
                                   self.config.render_direct)
        seconds["align"] += time.perf_counter() - start
        T_refined = best.T_world_colour @ se3_inverse(result.T_src_tgt[0].to(torch.float64))
        moved = float((T_refined[:3, 3] - best.T_world_colour[:3, 3]).norm())
        if not (moved <= 0.1 and float(result.valid_fraction[0]) >= self.config.min_valid):
            return best
        return replace(best, T_world_colour=T_refined, iterations=best.iterations + result.iterations)
