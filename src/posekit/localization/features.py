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
    _cv2,
    estimate_pose_pnp,
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
    cv2 = _cv2()
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


def match_descriptors(query: np.ndarray, reference: np.ndarray, ratio: float) -> np.ndarray:
    """``(K, 2)`` index pairs (query, reference) passing Lowe's ratio test (Hamming distance)."""
    cv2 = _cv2()
    if len(query) < 2 or len(reference) < 2:
        return np.zeros((0, 2), dtype=int)
    pairs = cv2.BFMatcher(cv2.NORM_HAMMING).knnMatch(query, reference, k=2)
    kept = [(m.queryIdx, m.trainIdx) for m, *rest in (p for p in pairs if p) if not rest or m.distance < ratio * rest[0].distance]
    return np.array(kept, dtype=int).reshape(-1, 2)


def pnp_world(query: LocalFeatures, keyframes: list[LocalFeatures], intrinsics: PinholeIntrinsics,
              config: FeatureMatchingConfig) -> PooledPnP:
    """The query camera's world pose from its matches to several keyframes' 3-D points, by one PnP-RANSAC."""
    cv2 = _cv2()
    pixels, points, owner = [], [], []
    for k, features in enumerate(keyframes):
        pairs = match_descriptors(query.descriptors, features.descriptors, config.ratio)
        pixels.append(query.pixels[pairs[:, 0]])
        points.append(features.points_world[pairs[:, 1]])
        owner.append(np.full(len(pairs), k))
    pixels_all, points_all, owner_all = np.concatenate(pixels), np.concatenate(points), np.concatenate(owner)
    empty = PooledPnP(None, 0, [0] * len(keyframes), len(pixels_all))
    if len(pixels_all) < max(config.min_inliers, 6):
        return empty
    camera_matrix = intrinsics.matrix(torch.float64).numpy()
    ok, rvec, tvec, inliers = cv2.solvePnPRansac(
        points_all, pixels_all, camera_matrix, None, iterationsCount=config.ransac_iterations,
        reprojectionError=config.ransac_threshold_px, confidence=config.ransac_confidence, flags=cv2.SOLVEPNP_EPNP)
    if not ok or inliers is None or len(inliers) < config.min_inliers:
        return PooledPnP(None, 0 if inliers is None else len(inliers), [0] * len(keyframes), len(pixels_all))
    index = inliers[:, 0]
    rvec, tvec = cv2.solvePnPRefineLM(points_all[index], pixels_all[index], camera_matrix, None, rvec, tvec)
    T_cam_world = make_pose(torch.from_numpy(cv2.Rodrigues(rvec)[0]), torch.from_numpy(tvec.reshape(3)))
    per_keyframe = np.bincount(owner_all[index], minlength=len(keyframes)).tolist()
    return PooledPnP(se3_inverse(T_cam_world), len(index), per_keyframe, len(pixels_all))
