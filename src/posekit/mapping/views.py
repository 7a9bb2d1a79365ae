"""Synthetic training views rendered from a map: camera poses around a training trajectory, and the map's colour
and depth seen from them with the synthetic pipeline's sensor effects, cached on disk.

- :func:`sample_view_poses`: half interpolations between nearby training poses (on SE(3)), half training poses
  perturbed in position and orientation; every pose gets a small perturbation.
- :func:`render_views`: ray-cast the map mesh at each pose in the colour camera (2x supersampled, averaged),
  blur with the lens PSF, vary exposure / white balance, add image noise (:mod:`posekit.data.synth.sensor`).
- :func:`rendered_views`: both, written once to a cache file keyed on the map manifest, the training poses,
  the output camera, the count and the seed, loaded back on the next call.

Poses are file (depth-camera) poses ``T_world_cam``, like the training labels; rendering goes through the map's
colour calibration (7-Scenes colour is not registered to depth).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch

from posekit.data.synth.sensor import SensorModel, apply_psf, degrade_color, exposure_gains
from posekit.errors import ConfigError, RenderError
from posekit.fileio import atomic_open
from posekit.geometry.camera import PinholeIntrinsics
from posekit.geometry.lie import se3_exp, se3_inverse, se3_log
from posekit.mapping.store import MANIFEST, PoseMap

VIEWS_VERSION = 1
SUPERSAMPLE = 2


@dataclass(frozen=True)
class ViewSampling:
    """How poses are drawn around the training trajectory.

    Attributes:
        translation_sigma: standard deviation of the position perturbation per axis (metres).
        rotation_sigma_deg: standard deviation of the orientation perturbation per axis (degrees).
        interpolate_fraction: share of views interpolated between two training poses at most ``neighbour_span``
            apart in the trajectory order (the rest are perturbed training poses).
        neighbour_span: farthest training-pose pair that is interpolated.
        min_coverage: a view seeing the mesh in fewer pixels than this share is redrawn.
        attempts: draws per view before giving up on coverage.
    """

    translation_sigma: float = 0.05
    rotation_sigma_deg: float = 3.0
    interpolate_fraction: float = 0.5
    neighbour_span: int = 10
    min_coverage: float = 0.85
    attempts: int = 8


@dataclass
class RenderedViews:
    """Rendered training views.

    Attributes:
        images: ``(N, 3, H, W)`` float colour in [0, 1] (sensor effects applied; holes filled with the view's mean).
        depth: ``(N, 1, H, W)`` metres, z-depth in the colour camera (0 = nothing hit).
        T_world_cam: ``(N, 4, 4)`` float64 file (depth-camera) poses.
        coverage: ``(N,)`` share of pixels that see the mesh.
    """

    images: torch.Tensor
    depth: torch.Tensor
    T_world_cam: torch.Tensor
    coverage: torch.Tensor

    def __len__(self) -> int:
        return self.images.shape[0]


def _perturbation(rng: np.random.Generator, sampling: ViewSampling) -> torch.Tensor:
    xi = np.concatenate((rng.normal(0.0, sampling.translation_sigma, 3),
                         rng.normal(0.0, np.deg2rad(sampling.rotation_sigma_deg), 3)))
    return se3_exp(torch.from_numpy(xi))


def draw_view_pose(T_world_cam: torch.Tensor, rng: np.random.Generator, sampling: ViewSampling) -> torch.Tensor:
    """One ``(4, 4)`` pose near the ``(N, 4, 4)`` training trajectory (trajectory order)."""
    n = T_world_cam.shape[0]
    i = int(rng.integers(n))
    base = T_world_cam[i]
    if n > 1 and rng.uniform() < sampling.interpolate_fraction:
        j = min(n - 1, i + int(rng.integers(1, sampling.neighbour_span + 1)))
        if j == i:
            i, j = max(0, i - 1), i
            base = T_world_cam[i]
        step = se3_log(se3_inverse(base) @ T_world_cam[j])
        base = base @ se3_exp(step * float(rng.uniform()))
    return base @ _perturbation(rng, sampling)


def sample_view_poses(T_world_cam: torch.Tensor, count: int, seed: int,
                      sampling: ViewSampling = ViewSampling()) -> torch.Tensor:
    """``count`` poses ``(count, 4, 4)`` float64 around the ``(N, 4, 4)`` training poses (deterministic in ``seed``)."""
    rng = np.random.default_rng(seed)
    poses = T_world_cam.to(torch.float64)
    return torch.stack([draw_view_pose(poses, rng, sampling) for _ in range(count)]) if count else poses[:0]


def _render_one(pose_map: PoseMap, T_world_cam: torch.Tensor, colour_k: PinholeIntrinsics):
    fine = colour_k.resized(colour_k.width * SUPERSAMPLE, colour_k.height * SUPERSAMPLE)
    view = pose_map.renderer().render(pose_map.calibration.T_world_colour(T_world_cam), fine)
    hit = (view.depth > 0).float()
    colour = torch.nn.functional.avg_pool2d(view.colour, SUPERSAMPLE)
    weight = torch.nn.functional.avg_pool2d(hit, SUPERSAMPLE)
    colour = colour / weight.clamp_min(1e-6)
    depth = torch.nn.functional.avg_pool2d(view.depth, SUPERSAMPLE) / weight.clamp_min(1e-6)
    known = weight > 0.5
    return colour, depth * known, known


def render_views(pose_map: PoseMap, T_world_cam_train: torch.Tensor, count: int, colour_k: PinholeIntrinsics,
                 seed: int = 0, sampling: ViewSampling = ViewSampling(),
                 sensor: SensorModel = SensorModel(exposure=True, image_noise=True)) -> RenderedViews:
    """Render ``count`` views of ``pose_map`` around the ``(N, 4, 4)`` training poses, seen by the colour camera
    ``colour_k`` (the training image's size and crop).

    Raises:
        RenderError: a view that sees the mesh in fewer than ``min_coverage`` of its pixels after ``attempts``
            draws (the map does not cover the trajectory).
    """
    if count < 0:
        raise ConfigError(f"--synthetic-views must be >= 0, got {count}")
    rng = np.random.default_rng(seed)
    poses = T_world_cam_train.to(torch.float64)
    gains = exposure_gains(sensor, max(count, 1), 1.0, rng)
    images, depths, chosen, coverage = [], [], [], []
    for v in range(count):
        for _ in range(sampling.attempts):
            pose = draw_view_pose(poses, rng, sampling)
            colour, depth, known = _render_one(pose_map, pose, colour_k)
            if float(known.float().mean()) >= sampling.min_coverage:
                break
        else:
            raise RenderError(f"view {v}: the map covers under {sampling.min_coverage:.0%} of every pose drawn near "
                              "the training poses (is it a map of this scene?)")
        fill = (colour * known).sum((-1, -2), keepdim=True) / known.sum().clamp_min(1)
        colour = torch.where(known, colour, fill)
        array = apply_psf(sensor, colour[0].permute(1, 2, 0).numpy().astype(np.float32))
        array = degrade_color(sensor, array, gains[v], rng)
        images.append(torch.from_numpy(np.rint(array * 255.0) / 255.0).permute(2, 0, 1).float())
        depths.append(depth[0])
        chosen.append(pose)
        coverage.append(float(known.float().mean()))
    h, w = colour_k.height, colour_k.width
    return RenderedViews(torch.stack(images) if images else torch.zeros(0, 3, h, w),
                         torch.stack(depths) if depths else torch.zeros(0, 1, h, w),
                         torch.stack(chosen) if chosen else torch.zeros(0, 4, 4, dtype=torch.float64),
                         torch.tensor(coverage, dtype=torch.float32))


def views_cache_key(pose_map: PoseMap, T_world_cam_train: torch.Tensor, count: int, colour_k: PinholeIntrinsics,
                    seed: int, sampling: ViewSampling, sensor: SensorModel) -> str:
    """Hex key of everything a rendering depends on."""
    digest = hashlib.sha256()
    digest.update((pose_map.folder / MANIFEST).read_bytes())
    digest.update(T_world_cam_train.to(torch.float64).contiguous().numpy().tobytes())
    digest.update(json.dumps({"version": VIEWS_VERSION, "count": count, "seed": seed, "camera": asdict(colour_k),
                              "sampling": asdict(sampling), "sensor": asdict(sensor)}, sort_keys=True).encode())
    return digest.hexdigest()[:20]


def rendered_views(pose_map: PoseMap, T_world_cam_train: torch.Tensor, count: int, colour_k: PinholeIntrinsics,
                   cache_dir: str | Path, seed: int = 0, sampling: ViewSampling = ViewSampling(),
                   sensor: SensorModel = SensorModel(exposure=True, image_noise=True), log=print) -> RenderedViews:
    """:func:`render_views`, rendered once into ``cache_dir/views-<key>.npz`` and loaded from there afterwards."""
    key = views_cache_key(pose_map, T_world_cam_train, count, colour_k, seed, sampling, sensor)
    path = Path(cache_dir) / f"views-{key}.npz"
    if path.is_file():
        with np.load(path) as data:
            log(f"loaded {count} rendered views from {path}")
            return RenderedViews(torch.from_numpy(data["images"]).permute(0, 3, 1, 2).float() / 255.0,
                                 torch.from_numpy(data["depth_mm"].astype(np.float32) / 1000.0)[:, None],
                                 torch.from_numpy(data["T_world_cam"]), torch.from_numpy(data["coverage"]))
    views = render_views(pose_map, T_world_cam_train, count, colour_k, seed, sampling, sensor)
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_open(path, "wb", encoding=None) as handle:
        np.savez(handle, images=(views.images * 255 + 0.5).clamp(0, 255).to(torch.uint8).permute(0, 2, 3, 1).numpy(),
                 depth_mm=(views.depth[:, 0] * 1000 + 0.5).clamp(0, 65535).to(torch.int32).numpy().astype(np.uint16),
                 T_world_cam=views.T_world_cam.numpy(), coverage=views.coverage.numpy())
    log(f"rendered {count} views into {path}")
    # what was written, so a fresh render and a cached load give the same tensors
    return rendered_views(pose_map, T_world_cam_train, count, colour_k, cache_dir, seed, sampling, sensor, log=lambda _: None)
