"""Localise a query image in a sparse map (:mod:`posekit.mapping.sparse`): retrieval, 2D-3D matching, PnP.

For each query (the map's working size):

1. **Init**: the ``top_k`` keyframes by global descriptor (retrieval), or the keyframes nearest to a given initial
   pose (``--init mean|nearest-gt|posenet:MODEL``), as :class:`~posekit.localization.localizer.Localizer` does;
2. **2D-3D matching**: the query's SIFT descriptors (COLMAP's extractor, as the map's) are matched to the
   descriptors of the points each candidate keyframe observes (Lowe's ratio test per keyframe, so the several
   observations of one point never compete); the matches of all candidates are pooled (unique query keypoint /
   point pairs);
3. **PnP-RANSAC** (OpenCV, P3P in RANSAC, Levenberg-Marquardt on the inliers).

``refine none`` returns the initial pose (the first retrieved keyframe's, or the given one) as a success, as the
dense localiser does. With ``refine pnp`` a query with fewer than ``min_inliers`` PnP inliers (or a non-finite
pose, or a pose whose inliers reproject badly) is flagged ``success = False`` and keeps the initial pose: never
NaN. Sparse maps have no depth to align against, so ``direct`` and ``both`` are refused.

In :class:`~posekit.localization.localizer.LocalizationResult`, ``cost`` is the mean reprojection error (px) of
the PnP inliers, ``valid_fraction`` the inlier share of the pooled matches.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace

import numpy as np
import torch

from posekit.baselines.feature_matching import _cv2
from posekit.errors import ConfigError
from posekit.geometry.lie import make_pose, se3_inverse
from posekit.localization.localizer import LocalizationResult, Localizer, Refinement
from posekit.mapping.sparse_features import SiftConfig, SiftExtractor
from posekit.mapping.sparse_store import SparseMap


@dataclass(frozen=True)
class SparseLocalizerConfig:
    """Settings of :class:`SparseLocalizer`.

    Attributes:
        refine: ``none`` or ``pnp`` (:class:`Refinement`; ``direct`` / ``both`` need a dense map).
        top_k: keyframes retrieved per query; their matches are pooled into one PnP.
        ratio: Lowe's ratio test of the descriptor matches.
        ransac_threshold_px: PnP-RANSAC inlier threshold at the working size.
        ransac_iterations, ransac_confidence: PnP-RANSAC settings.
        min_inliers: fewer PnP inliers is a flagged failure.
        max_mean_error_px: a PnP pose whose inliers reproject worse than this on average is a failure.
    """

    refine: Refinement = Refinement.PNP
    top_k: int = 5
    ratio: float = 0.8
    ransac_threshold_px: float = 3.0
    ransac_iterations: int = 2000
    ransac_confidence: float = 0.9999
    min_inliers: int = 20
    max_mean_error_px: float = 2.0


class SparseLocalizer(Localizer):
    """Localise images in a :class:`~posekit.mapping.sparse_store.SparseMap` (retrieval and keyframe selection
    are :class:`Localizer`'s)."""

    def __init__(self, pose_map: SparseMap, config: SparseLocalizerConfig = SparseLocalizerConfig(), descriptor=None):
        if not isinstance(pose_map, SparseMap):
            raise ConfigError(f"{pose_map.folder}: not a sparse map (kind {pose_map.kind}); use Localizer")
        refine = Refinement(config.refine)
        if refine not in (Refinement.NONE, Refinement.PNP):
            raise ConfigError(f"--refine {refine.value}: a sparse map ({pose_map.folder}) has no dense depth to align "
                              "against; use --refine pnp or none (or build a dense map from RGB-D frames)")
        super().__init__(pose_map, replace(config, refine=refine), descriptor)
        sift = pose_map.manifest.get("features", {})
        self._extractor = SiftExtractor(SiftConfig(max_features=int(sift.get("max_features", SiftConfig.max_features)),
                                                   peak_threshold=float(sift.get("peak_threshold", SiftConfig.peak_threshold))))
        points = pose_map.points
        self._observations = [np.flatnonzero(points.obs_keyframe == k) for k in range(len(pose_map.keyframes.names))]
        self._camera_matrix = self.intrinsics.matrix(torch.float64).numpy()

    def localize(self, image: torch.Tensor, initial_T_world_cam: torch.Tensor | None = None) -> LocalizationResult:
        """Localise one query ``image (1, 3, H, W)`` (the map's camera and working size).

        Args:
            initial_T_world_cam: ``(4, 4)`` an initial pose (e.g. PoseNet's); retrieval when ``None``.
        """
        self._check_query(image)
        seconds = {"init": 0.0, "pnp": 0.0, "align": 0.0, "render": 0.0}
        start = time.perf_counter()
        if initial_T_world_cam is None:
            candidates = self.retrieve(image)
            T_world_init = self.map.keyframes.T_world_depth[candidates[0]].clone()
        else:
            candidates = self.nearest_keyframes(initial_T_world_cam.to(torch.float64))
            T_world_init = initial_T_world_cam.to(torch.float64).clone()
        seconds["init"] = time.perf_counter() - start
        names = self.map.keyframes.names
        if self.config.refine is Refinement.NONE:
            return LocalizationResult(T_world_init, True, names[candidates[0]], float("nan"), 0.0, 0, 0, seconds)
        start = time.perf_counter()
        found = self._pnp(image, candidates)
        seconds["pnp"] = time.perf_counter() - start
        if found is None:
            return LocalizationResult(T_world_init, False, names[candidates[0]], float("nan"), 0.0, 0, 0, seconds)
        T_world_cam, keyframe, mean_error, inliers, matches = found
        ok = inliers >= self.config.min_inliers and mean_error <= self.config.max_mean_error_px
        # a flagged failure keeps the initial pose, and names the keyframe that pose came from
        return LocalizationResult(T_world_cam if ok else T_world_init, ok, names[keyframe if ok else candidates[0]],
                                  mean_error, inliers / max(matches, 1), inliers, 0, seconds)

    def matches_2d3d(self, image: torch.Tensor, candidates: list[int]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The query's SIFT matches to the points seen by ``candidates``: ``pixels (M, 2)`` float64 (working size),
        ``point indices (M,)`` and the keyframe each match came from ``(M,)`` (unique pixel/point pairs)."""
        cv2 = _cv2()
        query = self._extractor(image)
        points = self.map.points
        pixel_index, point_index, owner = [], [], []
        if len(query.descriptors) >= 2:
            matcher = cv2.BFMatcher(cv2.NORM_L2)
            query_descriptors = query.descriptors.astype(np.float32)
            for k in candidates:
                rows = self._observations[k]
                if len(rows) < 2:
                    continue
                for pair in matcher.knnMatch(query_descriptors, points.obs_descriptor[rows].astype(np.float32), k=2):
                    if len(pair) == 2 and pair[0].distance < self.config.ratio * pair[1].distance:
                        pixel_index.append(pair[0].queryIdx)
                        point_index.append(points.obs_point[rows[pair[0].trainIdx]])
                        owner.append(k)
        pairs = np.array([pixel_index, point_index, owner], dtype=np.int64).reshape(3, -1)
        _, first = np.unique(pairs[:2], axis=1, return_index=True)
        pairs = pairs[:, np.sort(first)]
        return query.pixels[pairs[0]], pairs[1], pairs[2]

    def _pnp(self, image: torch.Tensor, candidates: list[int]):
        """``(T_world_cam, keyframe, mean inlier error px, inliers, matches)`` or ``None`` when PnP found nothing."""
        cv2 = _cv2()
        pixels, point_index, owner = self.matches_2d3d(image, candidates)
        if len(pixels) < max(self.config.min_inliers, 6):
            return None
        world = self.map.points.xyz[point_index]
        ok, rvec, tvec, inliers = cv2.solvePnPRansac(
            world, pixels, self._camera_matrix, None, iterationsCount=self.config.ransac_iterations,
            reprojectionError=self.config.ransac_threshold_px, confidence=self.config.ransac_confidence,
            flags=cv2.SOLVEPNP_AP3P)
        if not ok or inliers is None or len(inliers) < 6:
            return None
        index = inliers[:, 0]
        rvec, tvec = cv2.solvePnPRefineLM(world[index], pixels[index], self._camera_matrix, None, rvec, tvec)
        if not (np.isfinite(rvec).all() and np.isfinite(tvec).all()):
            return None
        projected, _ = cv2.projectPoints(world[index], rvec, tvec, self._camera_matrix, None)
        mean_error = float(np.linalg.norm(projected[:, 0] - pixels[index], axis=1).mean())
        T_cam_world = make_pose(torch.from_numpy(cv2.Rodrigues(rvec)[0]), torch.from_numpy(tvec.reshape(3)))
        keyframe = int(np.bincount(owner[index]).argmax())
        return se3_inverse(T_cam_world), keyframe, mean_error, len(index), len(pixels)
