"""Sensor realism added to noise-free renders: Kinect-like depth holes and noise, exposure and white-balance
drift, image noise. Each effect is optional; the poses and intrinsics written stay exact. Every colour image
goes through the lens's point-spread function (a 0.5-pixel Gaussian by default).

- Depth holes: pixels next to a depth discontinuity (a structured-light sensor sees them from only one of
  its two viewpoints), on dark surfaces (too little reflected IR), beyond the range limit, and in random blobs
  whose probability grows towards it.
- Depth noise: Gaussian with the axial standard deviation of a Kinect,
  ``sigma(z) = 0.0012 + 0.0019 (z - 0.4)^2`` metres (Nguyen, Izadi and Lovell, 3DIMPVT 2012).
- Exposure and white balance: a gain and per-channel gains that drift smoothly from frame to frame.
- Image noise: signal-dependent (shot) plus constant (read) Gaussian noise, before 8-bit quantisation.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.ndimage import binary_dilation, gaussian_filter, maximum_filter, minimum_filter
from scipy.special import ndtr

from posekit.data.synth.trajectories import smooth_noise

HOLE_BLOB_SIGMA = 2.0  # pixels: size of the random far-range holes


@dataclass(frozen=True)
class SensorModel:
    """Which effects to apply, and their strengths.

    Attributes:
        psf_sigma: the lens's point-spread function, a Gaussian of this many pixels, applied to every colour
            image (a real camera's optics blur; band-limited images also resample better: the ground-truth
            warp of neighbouring hand-held frames fits about 20% better with it). 0 keeps the raw rasteriser
            output.
        depth_holes: drop depth at edges, dark surfaces and far range (0 = unknown).
        depth_noise: add depth-dependent Gaussian noise.
        exposure: vary exposure and white balance smoothly between frames.
        image_noise: add shot and read noise to the colour image.
        max_range: depth beyond this is dropped when ``depth_holes`` is on (metres).
        edge_jump: relative depth jump between neighbours that counts as an edge.
        dark_level: grey level in [0, 1] below which depth is mostly dropped.
        exposure_sigma: standard deviation of the log gain.
        white_balance_sigma: standard deviation of each channel's log gain.
        read_noise, shot_noise: image noise standard deviations (read noise, and per sqrt of intensity).
    """

    psf_sigma: float = 0.5
    depth_holes: bool = False
    depth_noise: bool = False
    exposure: bool = False
    image_noise: bool = False
    max_range: float = 4.5
    edge_jump: float = 0.04
    dark_level: float = 0.08
    exposure_sigma: float = 0.15
    white_balance_sigma: float = 0.04
    read_noise: float = 0.006
    shot_noise: float = 0.015

    @classmethod
    def realistic(cls) -> SensorModel:
        """All effects on."""
        return cls(depth_holes=True, depth_noise=True, exposure=True, image_noise=True)

    @property
    def is_clean(self) -> bool:
        """No noise-like effect (holes, depth noise, exposure changes, image noise) is on."""
        return not (self.depth_holes or self.depth_noise or self.exposure or self.image_noise)


def _blobby_uniform(rng: np.random.Generator, shape: tuple[int, int], sigma: float) -> np.ndarray:
    """Spatially correlated values, uniform in [0, 1] at each pixel (smoothed Gaussian noise through its CDF):
    thresholding them gives blob-shaped holes instead of salt noise."""
    field = gaussian_filter(rng.standard_normal(shape), sigma, mode="wrap")
    return ndtr(field / max(float(field.std()), 1e-12))


def kinect_depth_sigma(depth: np.ndarray) -> np.ndarray:
    """Axial noise standard deviation (m) of a Kinect at z-depth ``depth`` (m)."""
    return 0.0012 + 0.0019 * (depth - 0.4) ** 2


def exposure_gains(sensor: SensorModel, n_frames: int, fps: float, rng: np.random.Generator) -> np.ndarray:
    """``(n_frames, 3)`` per-frame RGB gains (exposure times white balance), drifting over about a second."""
    if not sensor.exposure:
        return np.ones((n_frames, 3))
    gain = sensor.exposure_sigma * smooth_noise(rng, n_frames, correlation_frames=fps)
    balance = sensor.white_balance_sigma * smooth_noise(rng, n_frames, correlation_frames=fps, dims=3)
    return np.exp(gain + balance)


def degrade_depth(sensor: SensorModel, depth: np.ndarray, color: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """The depth a sensor would measure.

    Args:
        depth: ``(H, W)`` float32 exact z-depth (0 = nothing hit).
        color: ``(H, W, 3)`` float32 noise-free colour (for dark surfaces).
        rng: this frame's generator.

    Returns:
        ``(H, W)`` float32 depth, 0 = unknown.
    """
    out = depth.astype(np.float32, copy=True)
    known = out > 0
    if sensor.depth_holes:
        near = minimum_filter(np.where(known, out, np.inf), size=3)  # nearest known neighbour
        far = maximum_filter(out, size=3)  # farthest neighbour (unknown = 0 never wins)
        next_to_unknown = minimum_filter(known.astype(np.uint8), size=3) == 0
        edge = known & (((far - near) > sensor.edge_jump * out) | next_to_unknown)
        edge |= binary_dilation(edge) & (rng.uniform(size=out.shape) < 0.8)
        grey = color.mean(axis=2)
        dark = (grey < sensor.dark_level) & (rng.uniform(size=out.shape) < 0.85)
        far_range = out > sensor.max_range
        p_drop = 0.25 * np.clip((out - 0.6 * sensor.max_range) / (0.4 * sensor.max_range), 0.0, 1.0)
        random_drop = _blobby_uniform(rng, out.shape, HOLE_BLOB_SIGMA) < p_drop
        out[edge | dark | far_range | random_drop] = 0.0
    if sensor.depth_noise:
        noisy = out + kinect_depth_sigma(out) * rng.standard_normal(out.shape).astype(np.float32)
        out = np.where(out > 0, np.maximum(noisy, 1e-3), 0.0).astype(np.float32)
    return out


def apply_psf(sensor: SensorModel, color: np.ndarray) -> np.ndarray:
    """``(H, W, 3)`` colour blurred by the lens's point-spread function (``sensor.psf_sigma`` pixels)."""
    if sensor.psf_sigma <= 0:
        return color
    return gaussian_filter(color, (sensor.psf_sigma, sensor.psf_sigma, 0), mode="nearest", truncate=3.0)


def degrade_color(sensor: SensorModel, color: np.ndarray, gains: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """The colour a camera would record, in [0, 1] (after :func:`apply_psf`).

    Args:
        color: ``(H, W, 3)`` float32 noise-free colour in [0, 1], already through the lens.
        gains: ``(3,)`` this frame's RGB gains (:func:`exposure_gains`).
        rng: this frame's generator.
    """
    out = color * np.asarray(gains, np.float32)[None, None, :] if sensor.exposure else color
    if sensor.image_noise:
        sigma = np.sqrt(sensor.read_noise**2 + sensor.shot_noise**2 * np.clip(out, 0.0, 1.0))
        out = out + sigma * rng.standard_normal(out.shape).astype(np.float32)
    return np.clip(out, 0.0, 1.0).astype(np.float32)


def quantize_color(color: np.ndarray) -> np.ndarray:
    """``(H, W, 3)`` float in [0, 1] to uint8 (round half to even, deterministic)."""
    return np.rint(np.clip(color, 0.0, 1.0) * 255.0).astype(np.uint8)
