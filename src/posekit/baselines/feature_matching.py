"""Classical relative pose from feature matches (OpenCV): PnP-RANSAC with target depth, or the essential matrix.

- :func:`estimate_pose_pnp`: keypoints of the target image with known depth become 3-D points in the target
  frame; matched to the source image's keypoints, ``cv2.solvePnPRansac`` gives the pose that projects them into
  the source camera, which is ``T_src_tgt`` (metric).
- :func:`estimate_pose_essential`: the monocular case. ``cv2.findEssentialMat`` + ``cv2.recoverPose`` give the
  rotation and the translation direction; the scale is not observable and must be supplied (e.g. from ground
  truth, as the peers do when they report it).

Images are tensors ``(C, H, W)`` in [0, 1] (converted to 8-bit grey) or 8-bit grey numpy arrays.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

import numpy as np
import torch

from posekit.errors import PosekitError, ShapeError
from posekit.geometry.camera import PinholeIntrinsics
from posekit.geometry.lie import make_pose


class FeatureType(str, Enum):
    """Keypoint detector and descriptor."""

    ORB = "orb"
    SIFT = "sift"


@dataclass(frozen=True)
class FeatureMatchingConfig:
    """Settings of the feature baselines.

    Attributes:
        feature: detector/descriptor.
        max_features: keypoints per image.
        ratio: Lowe's ratio test threshold.
        ransac_threshold_px: RANSAC inlier threshold in pixels.
        ransac_confidence: RANSAC confidence.
        ransac_iterations: PnP-RANSAC iterations.
        min_inliers: fewer inliers than this counts as a failure (the identity pose is returned).
    """

    feature: FeatureType = FeatureType.ORB
    max_features: int = 2000
    ratio: float = 0.8
    ransac_threshold_px: float = 2.0
    ransac_confidence: float = 0.999
    ransac_iterations: int = 1000
    min_inliers: int = 12


@dataclass
class FeaturePoseResult:
    """Output of the feature baselines.

    Attributes:
        T_src_tgt: ``(4, 4)`` float64 pose (identity when ``success`` is False).
        matches: matches kept by the ratio test.
        inliers: RANSAC inliers.
        success: whether enough inliers supported the pose.
    """

    T_src_tgt: torch.Tensor
    matches: int
    inliers: int
    success: bool


def _cv2():
    try:
        import cv2
    except ImportError as error:  # pragma: no cover - depends on the environment
        raise PosekitError("the feature baselines need OpenCV: pip install opencv-python-headless") from error
    return cv2


def to_grey_uint8(image: torch.Tensor | np.ndarray) -> np.ndarray:
    """``(C, H, W)`` float tensor in [0, 1] or ``(H, W)`` uint8 array -> ``(H, W)`` uint8 grey array."""
    if isinstance(image, np.ndarray):
        if image.ndim != 2 or image.dtype != np.uint8:
            raise ShapeError(f"image: expected an (H, W) uint8 array, got {image.shape} {image.dtype}")
        return image
    if image.dim() != 3:
        raise ShapeError(f"image: expected shape (C, H, W), got {tuple(image.shape)}")
    grey = image.detach().float().mean(0).clamp(0, 1)
    return (grey * 255.0 + 0.5).to(torch.uint8).cpu().numpy()


def match_features(source: np.ndarray, target: np.ndarray, config: FeatureMatchingConfig) -> tuple[np.ndarray, np.ndarray]:
    """Detect, describe and match keypoints (ratio test, mutual nearest neighbours).

    Returns:
        ``(pixels_src, pixels_tgt)``: two ``(M, 2)`` float64 arrays of matched pixel coordinates.
    """
    cv2 = _cv2()
    if config.feature is FeatureType.ORB:
        detector = cv2.ORB_create(nfeatures=config.max_features)
        norm = cv2.NORM_HAMMING
    else:
        detector = cv2.SIFT_create(nfeatures=config.max_features)
        norm = cv2.NORM_L2
    kp_src, desc_src = detector.detectAndCompute(source, None)
    kp_tgt, desc_tgt = detector.detectAndCompute(target, None)
    empty = np.zeros((0, 2))
    if desc_src is None or desc_tgt is None or len(kp_src) < 2 or len(kp_tgt) < 2:
        return empty, empty
    matcher = cv2.BFMatcher(norm)
    forward = matcher.knnMatch(desc_tgt, desc_src, k=2)
    backward = {m.queryIdx: m.trainIdx for m in matcher.match(desc_src, desc_tgt)}
    pairs = [
        (m.trainIdx, m.queryIdx)
        for m, *rest in (p for p in forward if len(p) >= 1)
        if (not rest or m.distance < config.ratio * rest[0].distance) and backward.get(m.trainIdx) == m.queryIdx
    ]
    if not pairs:
        return empty, empty
    pixels_src = np.array([kp_src[i].pt for i, _ in pairs], dtype=np.float64)
    pixels_tgt = np.array([kp_tgt[j].pt for _, j in pairs], dtype=np.float64)
    return pixels_src, pixels_tgt


def _identity_result(matches: int, inliers: int = 0) -> FeaturePoseResult:
    return FeaturePoseResult(torch.eye(4, dtype=torch.float64), matches, inliers, False)


def estimate_pose_pnp(
    source_image: torch.Tensor | np.ndarray,
    target_image: torch.Tensor | np.ndarray,
    target_depth: torch.Tensor,
    intrinsics: PinholeIntrinsics,
    config: FeatureMatchingConfig = FeatureMatchingConfig(),
) -> FeaturePoseResult:
    """Metric ``T_src_tgt`` from feature matches and the target depth, by PnP-RANSAC.

    Args:
        source_image, target_image: ``(C, H, W)`` tensors in [0, 1] or ``(H, W)`` uint8 arrays.
        target_depth: ``(1, H, W)`` or ``(H, W)`` target z-depth in metres, 0 = unknown.
        intrinsics: shared intrinsics of both images.
    """
    cv2 = _cv2()
    depth = target_depth.detach().double().cpu().reshape(target_depth.shape[-2:]).numpy()
    pixels_src, pixels_tgt = match_features(to_grey_uint8(source_image), to_grey_uint8(target_image), config)
    h, w = depth.shape
    cols = np.clip(np.round(pixels_tgt[:, 0]).astype(int), 0, w - 1) if len(pixels_tgt) else np.zeros(0, int)
    rows = np.clip(np.round(pixels_tgt[:, 1]).astype(int), 0, h - 1) if len(pixels_tgt) else np.zeros(0, int)
    z = depth[rows, cols] if len(pixels_tgt) else np.zeros(0)
    known = np.isfinite(z) & (z > 0)
    if int(known.sum()) < max(config.min_inliers, 6):
        return _identity_result(len(pixels_src))
    u, v, z = pixels_tgt[known, 0], pixels_tgt[known, 1], z[known]
    points_tgt = np.stack(((u - intrinsics.cx) * z / intrinsics.fx, (v - intrinsics.cy) * z / intrinsics.fy, z), axis=1)
    camera_matrix = intrinsics.matrix(torch.float64).numpy()
    ok, rvec, tvec, inliers = cv2.solvePnPRansac(
        points_tgt, pixels_src[known], camera_matrix, None,
        iterationsCount=config.ransac_iterations, reprojectionError=config.ransac_threshold_px,
        confidence=config.ransac_confidence, flags=cv2.SOLVEPNP_EPNP,
    )
    n_inliers = 0 if inliers is None else len(inliers)
    if not ok or n_inliers < config.min_inliers:
        return _identity_result(len(pixels_src), n_inliers)
    index = inliers[:, 0]
    ok, rvec, tvec = cv2.solvePnP(points_tgt[index], pixels_src[known][index], camera_matrix, None, rvec, tvec,
                                  useExtrinsicGuess=True, flags=cv2.SOLVEPNP_ITERATIVE)
    rotation = torch.from_numpy(cv2.Rodrigues(rvec)[0])
    return FeaturePoseResult(make_pose(rotation, torch.from_numpy(tvec.reshape(3))), len(pixels_src), n_inliers, True)


def estimate_pose_essential(
    source_image: torch.Tensor | np.ndarray,
    target_image: torch.Tensor | np.ndarray,
    intrinsics: PinholeIntrinsics,
    translation_norm: float = 1.0,
    config: FeatureMatchingConfig = FeatureMatchingConfig(),
) -> FeaturePoseResult:
    """``T_src_tgt`` up to scale from the essential matrix; the translation is scaled to ``translation_norm``.

    Args:
        source_image, target_image: ``(C, H, W)`` tensors in [0, 1] or ``(H, W)`` uint8 arrays.
        intrinsics: shared intrinsics.
        translation_norm: the length to give the (unit) translation, e.g. the ground truth's.
    """
    cv2 = _cv2()
    pixels_src, pixels_tgt = match_features(to_grey_uint8(source_image), to_grey_uint8(target_image), config)
    if len(pixels_src) < max(config.min_inliers, 5):
        return _identity_result(len(pixels_src))
    camera_matrix = intrinsics.matrix(torch.float64).numpy()
    essential, mask = cv2.findEssentialMat(pixels_tgt, pixels_src, camera_matrix, method=cv2.RANSAC,
                                           prob=config.ransac_confidence, threshold=config.ransac_threshold_px)
    if essential is None or essential.shape != (3, 3):
        return _identity_result(len(pixels_src))
    n_inliers, rotation, translation, _ = cv2.recoverPose(essential, pixels_tgt, pixels_src, camera_matrix, mask=mask)
    if n_inliers < config.min_inliers:
        return _identity_result(len(pixels_src), int(n_inliers))
    t = torch.from_numpy(translation.reshape(3)) * translation_norm
    return FeaturePoseResult(make_pose(torch.from_numpy(rotation), t), len(pixels_src), int(n_inliers), True)
