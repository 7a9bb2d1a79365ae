"""Local features of the localiser: ORB keypoints of keyframes lifted to 3-D with the map's depth (cached), and
one PnP-RANSAC over the 2D-3D matches of a query to several keyframes at once.

:func:`pnp_query_to_keyframe` is the one adapter to the feature baseline
(:func:`posekit.baselines.feature_matching.estimate_pose_pnp`);
the benchmark uses it as the ORB + PnP reference.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from posekit.baselines.feature_matching import (
    FeatureMatchingConfig,
    FeaturePoseResult,
    estimate_pose_pnp,
    import_opencv,
    to_grey_uint8,
)
from posekit.geometry.camera import PinholeIntrinsics
from posekit.geometry.lie import make_pose, se3_inverse


def pnp_query_to_keyframe(query: torch.Tensor, keyframe: torch.Tensor, keyframe_depth: torch.Tensor,
                          intrinsics: PinholeIntrinsics, config: FeatureMatchingConfig) -> FeaturePoseResult:
    """``T_query_keyframe`` by ORB + PnP-RANSAC with the keyframe's depth (the baseline, one pair).

    Args:
        query, keyframe: ``(1, 3, H, W)`` colour in [0, 1]; keyframe_depth: ``(1, 1, H, W)`` metres.
    """
    return estimate_pose_pnp(query[0], keyframe[0], keyframe_depth[0], intrinsics, config)


@dataclass
class LocalFeatures:
    """ORB features of one image: ``pixels (M, 2)`` float64, ``descriptors (M, 32)`` uint8 and, for keyframes,
    ``points_world (M, 3)`` float64 (only keypoints with map depth are kept)."""

    pixels: np.ndarray
    descriptors: np.ndarray
    points_world: np.ndarray | None = None


def detect_orb(image: torch.Tensor, max_features: int) -> LocalFeatures:
    """ORB keypoints and descriptors of a ``(1, 3, H, W)`` image."""
    cv2 = import_opencv()
    detector = cv2.ORB_create(nfeatures=max_features)
    keypoints, descriptors = detector.detectAndCompute(to_grey_uint8(image[0]), None)
    if descriptors is None:
        return LocalFeatures(np.zeros((0, 2)), np.zeros((0, 32), np.uint8))
    return LocalFeatures(np.array([k.pt for k in keypoints], dtype=np.float64), descriptors)


def keyframe_features(image: torch.Tensor, depth: torch.Tensor, T_world_cam: torch.Tensor,
                      intrinsics: PinholeIntrinsics, max_features: int) -> LocalFeatures:
    """ORB features of a keyframe ``(1, 3, H, W)`` with the world points of its map depth ``(1, 1, H, W)``."""
    found = detect_orb(image, max_features)
    h, w = depth.shape[-2:]
    d = depth[0, 0].double().numpy()
    cols = np.clip(np.round(found.pixels[:, 0]).astype(int), 0, w - 1)
    rows = np.clip(np.round(found.pixels[:, 1]).astype(int), 0, h - 1)
    z = d[rows, cols]
    known = z > 0
    u, v, z = found.pixels[known, 0], found.pixels[known, 1], z[known]
    points = np.stack(((u - intrinsics.cx) * z / intrinsics.fx, (v - intrinsics.cy) * z / intrinsics.fy, z), axis=1)
    pose = T_world_cam.double().numpy()
    return LocalFeatures(found.pixels[known], found.descriptors[known], points @ pose[:3, :3].T + pose[:3, 3])


@dataclass
class PooledPnP:
    """Result of :func:`pnp_world`: ``T_world_cam (4, 4)`` float64 (``None`` on failure), total RANSAC inliers and
    inliers per keyframe (in the order given)."""

    T_world_cam: torch.Tensor | None
    inliers: int
    inliers_per_keyframe: list[int]
    matches: int


@dataclass
class WorldMatches:
    """2D-3D matches of a query to several keyframes: ``pixels (M, 2)``, ``points_world (M, 3)`` float64 and
    ``owner (M,)``, the index (in the order given) of the keyframe each match comes from."""

    pixels: np.ndarray
    points_world: np.ndarray
    owner: np.ndarray
    keyframes: int

    def __len__(self) -> int:
        return len(self.pixels)


def match_descriptors(query: np.ndarray, reference: np.ndarray, ratio: float) -> np.ndarray:
    """``(K, 2)`` index pairs (query, reference) passing Lowe's ratio test (Hamming distance)."""
    cv2 = import_opencv()
    if len(query) < 2 or len(reference) < 2:
        return np.zeros((0, 2), dtype=int)
    pairs = cv2.BFMatcher(cv2.NORM_HAMMING).knnMatch(query, reference, k=2)
    kept = [(m.queryIdx, m.trainIdx) for m, *rest in (p for p in pairs if p) if not rest or m.distance < ratio * rest[0].distance]
    return np.array(kept, dtype=int).reshape(-1, 2)


def match_to_keyframes(query: LocalFeatures, keyframes: list[LocalFeatures], ratio: float) -> WorldMatches:
    """The query's ratio-test matches to each keyframe's 3-D points, pooled."""
    pixels, points, owner = [np.zeros((0, 2))], [np.zeros((0, 3))], [np.zeros(0, dtype=int)]
    for k, features in enumerate(keyframes):
        pairs = match_descriptors(query.descriptors, features.descriptors, ratio)
        pixels.append(query.pixels[pairs[:, 0]])
        points.append(features.points_world[pairs[:, 1]])
        owner.append(np.full(len(pairs), k))
    return WorldMatches(np.concatenate(pixels), np.concatenate(points), np.concatenate(owner), len(keyframes))


def _ransac(cv2, points: np.ndarray, pixels: np.ndarray, camera_matrix: np.ndarray, config: FeatureMatchingConfig,
            usac: bool):
    """``(ok, rvec, tvec, inliers)`` of OpenCV's PnP-RANSAC: USAC (MSAC score, P3P samples, local optimisation)
    or the classic loop with EPnP hypotheses."""
    if usac:
        params = cv2.UsacParams()
        params.threshold = config.ransac_threshold_px
        params.confidence = config.ransac_confidence
        params.maxIterations = config.ransac_iterations
        params.sampler = cv2.SAMPLING_UNIFORM
        params.score = cv2.SCORE_METHOD_MSAC
        params.loMethod = cv2.LOCAL_OPTIM_INNER_LO
        ok, _, rvec, tvec, inliers = cv2.solvePnPRansac(points, pixels, camera_matrix.copy(), None, params=params)
        return ok, rvec, tvec, inliers
    return cv2.solvePnPRansac(points, pixels, camera_matrix, None, iterationsCount=config.ransac_iterations,
                              reprojectionError=config.ransac_threshold_px, confidence=config.ransac_confidence,
                              flags=cv2.SOLVEPNP_EPNP)


def pnp_world(query: LocalFeatures | WorldMatches, keyframes: list[LocalFeatures] | None, intrinsics: PinholeIntrinsics,
              config: FeatureMatchingConfig, usac: bool = False) -> PooledPnP:
    """The query camera's world pose from its matches to several keyframes' 3-D points, by one PnP-RANSAC.

    Args:
        query: the query's features (matched here to ``keyframes``), or its :class:`WorldMatches` already made
            (``keyframes`` is then not used).
        usac: OpenCV's USAC PnP (P3P samples, MSAC, local optimisation; about 4x faster than the EPnP loop on
            7-Scenes queries, as many inliers) instead of the EPnP RANSAC loop.
    """
    cv2 = import_opencv()
    matches = query if isinstance(query, WorldMatches) else match_to_keyframes(query, keyframes, config.ratio)
    pixels_all, points_all, owner_all = matches.pixels, matches.points_world, matches.owner
    empty = PooledPnP(None, 0, [0] * matches.keyframes, len(pixels_all))
    if len(pixels_all) < max(config.min_inliers, 6):
        return empty
    camera_matrix = intrinsics.matrix(torch.float64).numpy()
    ok, rvec, tvec, inliers = _ransac(cv2, points_all, pixels_all, camera_matrix, config, usac)
    if not ok or inliers is None or len(inliers) < config.min_inliers:
        return PooledPnP(None, 0 if inliers is None else len(inliers), [0] * matches.keyframes, len(pixels_all))
    index = inliers.reshape(-1)
    rvec, tvec = cv2.solvePnPRefineLM(points_all[index], pixels_all[index], camera_matrix, None, rvec, tvec)
    T_cam_world = make_pose(torch.from_numpy(cv2.Rodrigues(rvec)[0]), torch.from_numpy(tvec.reshape(3)))
    per_keyframe = np.bincount(owner_all[index], minlength=matches.keyframes).tolist()
    return PooledPnP(se3_inverse(T_cam_world), len(index), per_keyframe, len(pixels_all))
