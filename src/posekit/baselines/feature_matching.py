"""Classical relative pose from feature matches (OpenCV): PnP-RANSAC with target depth, or the essential matrix.

- :func:`estimate_pose_pnp`: keypoints of the target image with known depth become 3-D points in the target
  frame; matched to the source image's keypoints, ``cv2.solvePnPRansac`` gives the pose that projects them into
  the source camera, which is ``T_src_tgt`` (metric).
- :func:`estimate_pose_essential`: the monocular case. ``cv2.findEssentialMat`` + ``cv2.recoverPose`` give the
  rotation and the translation direction; the scale is not observable and must be supplied (e.g. from ground
  truth, as the peers do when they report it).

Images follow the package convention, ``(B, C, H, W)`` float tensors in [0, 1] with ``B = 1`` (one pair; the
same tensors :func:`posekit.baselines.direct_alignment.align_photometric` takes), and the result's
``T_src_tgt`` is then ``(1, 4, 4)`` like its result. A single ``(C, H, W)`` image (result ``(4, 4)``) and 8-bit
grey ``(H, W)`` numpy arrays are accepted too. Images are converted to 8-bit grey for OpenCV.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

import numpy as np
import torch

from posekit.errors import PosekitError, ShapeError
from posekit.geometry.camera import PinholeIntrinsics
from posekit.geometry.lie import make_pose
from posekit.geometry.rotations import rotation_matrix_angle


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
        T_src_tgt: ``(1, 4, 4)`` float64 pose for batched ``(1, C, H, W)`` images, ``(4, 4)`` for single
            ``(C, H, W)`` ones (identity when ``success`` is False).
        matches: matches kept by the ratio test.
        inliers: RANSAC inliers.
        success: whether enough inliers supported the pose.
    """

    T_src_tgt: torch.Tensor
    matches: int
    inliers: int
    success: bool

    def __repr__(self) -> str:
        """The pose's translation norm and rotation angle and the match counts, not the matrix."""
        pose = self.T_src_tgt.reshape(4, 4).double()
        angle = torch.rad2deg(rotation_matrix_angle(pose[:3, :3]))
        return (f"FeaturePoseResult(success={self.success}, matches={self.matches}, inliers={self.inliers}, "
                f"|t|={float(pose[:3, 3].norm()):.4g}, angle={float(angle):.4g} deg)")


def _is_batch_of_one(image: torch.Tensor | np.ndarray) -> bool:
    """Whether ``image`` is a ``(1, C, H, W)`` tensor (the package convention); ``(C, H, W)`` and arrays: no."""
    return isinstance(image, torch.Tensor) and image.dim() == 4


def _batched(result: FeaturePoseResult, batched: bool) -> FeaturePoseResult:
    if batched:
        result.T_src_tgt = result.T_src_tgt[None]
    return result


def _cv2():
    try:
        import cv2
    except ImportError as error:  # pragma: no cover - depends on the environment
        raise PosekitError("the feature baselines need OpenCV: pip install opencv-python-headless") from error
    return cv2


def import_opencv():
    """The ``cv2`` module (OpenCV), or a :class:`PosekitError` saying which package to install."""
    return _cv2()


def to_grey_uint8(image: torch.Tensor | np.ndarray) -> np.ndarray:
    """``(1, C, H, W)`` or ``(C, H, W)`` float tensor in [0, 1], or ``(H, W)`` uint8 array -> ``(H, W)`` uint8
    grey array."""
    if isinstance(image, np.ndarray):
        if image.ndim != 2 or image.dtype != np.uint8:
            raise ShapeError(f"image: expected an (H, W) uint8 array, got {image.shape} {image.dtype}")
        return image
    if image.dim() == 4 and image.shape[0] == 1:
        image = image[0]
    if image.dim() != 3:
        raise ShapeError(f"image: expected shape (1, C, H, W) (a batch of one pair) or (C, H, W), got {tuple(image.shape)}")
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
        source_image, target_image: ``(1, C, H, W)`` tensors in [0, 1] (or ``(C, H, W)``, or ``(H, W)`` uint8
            arrays).
        target_depth: ``(1, 1, H, W)`` target z-depth in metres, 0 = unknown (``(1, H, W)``, ``(H, W)`` too).
        intrinsics: shared intrinsics of both images.

    Returns:
        :class:`FeaturePoseResult`; ``T_src_tgt`` is ``(1, 4, 4)`` for batched images.

    Example:
        >>> result = estimate_pose_pnp(source, target, target_depth, k)  # doctest: +SKIP
        >>> result.T_src_tgt.shape  # doctest: +SKIP
        torch.Size([1, 4, 4])
    """
    return _batched(_pnp(source_image, target_image, target_depth, intrinsics, config), _is_batch_of_one(source_image))


def _pnp(source_image, target_image, target_depth: torch.Tensor, intrinsics: PinholeIntrinsics,
         config: FeatureMatchingConfig) -> FeaturePoseResult:
    cv2 = _cv2()
    grey_src, grey_tgt = to_grey_uint8(source_image), to_grey_uint8(target_image)
    if target_depth.numel() != grey_tgt.size:
        raise ShapeError(
            f"target_depth: expected (1, 1, {grey_tgt.shape[0]}, {grey_tgt.shape[1]}) like the target image, "
            f"got {tuple(target_depth.shape)}"
        )
    depth = target_depth.detach().double().cpu().reshape(grey_tgt.shape).numpy()
    pixels_src, pixels_tgt = match_features(grey_src, grey_tgt, config)
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
        source_image, target_image: ``(1, C, H, W)`` tensors in [0, 1] (or ``(C, H, W)``, or ``(H, W)`` uint8
            arrays).
        intrinsics: shared intrinsics.
        translation_norm: the length to give the (unit) translation, e.g. the ground truth's.

    Returns:
        :class:`FeaturePoseResult`; ``T_src_tgt`` is ``(1, 4, 4)`` for batched images.
    """
    result = _essential(source_image, target_image, intrinsics, translation_norm, config)
    return _batched(result, _is_batch_of_one(source_image))


def _essential(source_image, target_image, intrinsics: PinholeIntrinsics, translation_norm: float,
               config: FeatureMatchingConfig) -> FeaturePoseResult:
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
