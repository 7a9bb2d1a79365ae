"""PoseNet training on real plus rendered views (issue 13 item 2): ``posekit train posenet --map MAP
--synthetic-views N`` adds ``N`` views of the map, rendered around the training poses
(:mod:`posekit.mapping.views`, cached on disk), to the training set; the held-out set stays real.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import torch
from torch.utils.data import ConcatDataset, Dataset

from posekit.data import PoseFormat, PoseStats
from posekit.data.cache import default_cache_dir
from posekit.data.poses import encode_pose
from posekit.errors import ConfigError
from posekit.mapping.store import load_map
from posekit.mapping.views import RenderedViews, ViewSampling, rendered_views

RENDERED_RECORD = "rendered"
VIEW_SAMPLING = ViewSampling()  # how training views are drawn (module-level so tests of tiny maps can relax coverage)


class RenderedViewDataset(Dataset):
    """Rendered views as mono :class:`~posekit.data.AbsolutePoseDataset` items (``image (3, H, W)``, ``pose (7,)``
    normalised by ``pose_stats``, ``T_world_cam (4, 4)``, ``intrinsics (4,)``, ``index``, ``record`` =
    ``"rendered"``, ``frame``, ``camera``), so they batch together with real items.

    Args:
        views: the rendered views.
        pose_stats: the real training split's translation normalisation.
        intrinsics: ``(4,)`` the intrinsics real items carry (the training transform's).
        camera: the camera id real items carry.
        first_index: ``index`` of the first view (after the real items).
        frame_type: ``int`` or ``str``, the type of real items' ``frame`` (batches collate one type).
        augment: the real training set's photometric augmentation.
    """

    def __init__(self, views: RenderedViews, pose_stats: PoseStats, intrinsics: torch.Tensor, camera: str,
                 first_index: int = 0, frame_type: type = int, augment=None):
        self.views = views
        self._targets = encode_pose(views.T_world_cam, PoseFormat.QUATERNION, pose_stats).to(torch.float32)
        self.intrinsics = intrinsics.to(torch.float32)
        self.camera = camera
        self.first_index = first_index
        self.frame_type = frame_type
        self.augment = augment

    def __len__(self) -> int:
        return len(self.views)

    def __getitem__(self, i: int) -> dict:
        image = self.views.images[i]
        return {"image": image if self.augment is None else self.augment(image), "pose": self._targets[i],
                "T_world_cam": self.views.T_world_cam[i].to(torch.float32), "intrinsics": self.intrinsics,
                "index": self.first_index + i, "record": RENDERED_RECORD, "frame": self.frame_type(i),
                "camera": self.camera}


def add_rendered_views(data, config, log=print) -> int:
    """Append ``config.synthetic_views`` views of the map ``config.map`` to ``data.train_set`` (an
    :class:`~posekit.training.posenet.AbsolutePoseDataModule`); return how many were added.

    Raises:
        ConfigError: views without a map, a map without views, stereo or the reprojection loss (rendered views
            carry no sensor depth), grey images.
    """
    count = int(getattr(config, "synthetic_views", 0) or 0)
    map_folder = getattr(config, "map", None)
    if count < 0:
        raise ConfigError(f"--synthetic-views must be >= 0, got {count}")
    if count and not map_folder:
        raise ConfigError("--synthetic-views needs --map MAP (build one with `posekit map build`)")
    if map_folder and not count:
        raise ConfigError("--map is used only for rendered views: add --synthetic-views N (N > 0)")
    if not count:
        return 0
    if config.stereo:
        raise ConfigError("--synthetic-views: rendered views are mono; drop --stereo")
    if getattr(config.loss, "value", config.loss) == "reprojection":
        raise ConfigError("--synthetic-views: the reprojection loss needs sensor depth, which rendered views lack; "
                          "choose --loss fixed or learned")
    real = data.train_set
    first = real[0]
    if first["image"].shape[0] != 3:
        raise ConfigError(f"--synthetic-views: rendered views are RGB, the training images have "
                          f"{first['image'].shape[0]} channel(s)")
    pose_map = load_map(map_folder)
    height, width = first["image"].shape[-2:]
    colour_k = data.transform.apply_intrinsics(pose_map.calibration.colour)
    if (colour_k.height, colour_k.width) != (height, width):
        raise ConfigError(f"--map {map_folder}: its colour camera ({pose_map.calibration.colour.width}x"
                          f"{pose_map.calibration.colour.height}) gives {colour_k.width}x{colour_k.height} images "
                          f"after the training transform, the real images are {width}x{height}")
    poses = torch.stack([sample[0].T_world_cam for sample in real.samples]).to(torch.float64)
    cache = Path(config.cache_dir) if config.cache_dir else default_cache_dir()
    sampling = replace(VIEW_SAMPLING,
                       translation_sigma=float(getattr(config, "view_translation_sigma", VIEW_SAMPLING.translation_sigma)),
                       rotation_sigma_deg=float(getattr(config, "view_rotation_sigma", VIEW_SAMPLING.rotation_sigma_deg)))
    views = rendered_views(pose_map, poses, count, colour_k, cache / "rendered_views", seed=config.seed,
                           sampling=sampling, log=log)
    rendered = RenderedViewDataset(views, real.pose_stats, first["intrinsics"], first.get("camera", ""),
                                   first_index=len(real), frame_type=type(first["frame"]), augment=real.augment)
    data.train_set = ConcatDataset([real, rendered])
    log(f"training on {len(real)} real + {len(rendered)} rendered views")
    return len(rendered)
