"""The feature cache: a hit returns the very tensors computed on the miss; a changed image file, image size,
encoder (weights or level) is a miss."""

from __future__ import annotations

import os

import imageio.v3 as iio
import numpy as np
import pytest
import torch

from posekit.data.loader import FrameLoader
from posekit.data.records import FrameRecord
from posekit.data.transforms import FrameTransform
from posekit.geometry import PinholeIntrinsics
from posekit.models import create_backbone
from posekit.models.feature_cache import FeatureCache, encoder_digest


def _write_image(path, seed):
    rng = np.random.default_rng(seed)
    iio.imwrite(path, rng.integers(0, 256, size=(48, 64, 3), dtype=np.uint8))


@pytest.fixture()
def frames(tmp_path):
    records = []
    for i in range(3):
        path = tmp_path / f"frame-{i}.png"
        _write_image(path, i)
        records.append(FrameRecord(path, torch.eye(4, dtype=torch.float64), PinholeIntrinsics(50.0, 50.0, 31.5, 23.5, 64, 48),
                                   "seq", "cam0", str(i), i))
    return records


@pytest.fixture()
def encoder():
    torch.manual_seed(0)
    return create_backbone("resnet18")


def _loader(h=32, w=48):
    return FrameLoader(FrameTransform(resize=(h, w)), load_depth=False)


def test_a_hit_returns_the_tensors_of_the_miss(frames, encoder, tmp_path):
    cache = FeatureCache(encoder, level=2, root=tmp_path / "features")
    first = cache.feature_maps(frames, _loader())
    assert cache.misses == 3 and cache.hits == 0
    assert first.shape == (3, encoder.out_channels[2], 4, 6)
    again = FeatureCache(encoder, level=2, root=tmp_path / "features")
    second = again.feature_maps(frames, _loader())
    assert again.hits == 3 and again.misses == 0
    assert torch.equal(first, second)
    with torch.no_grad():
        direct = encoder.eval().features(torch.stack([_loader().load(f).image for f in frames]), num_levels=3)[2]
    assert torch.allclose(first, direct, atol=1e-6)


def test_a_changed_image_file_is_a_miss(frames, encoder, tmp_path):
    cache = FeatureCache(encoder, level=2, root=tmp_path / "features")
    before = cache.feature_maps(frames, _loader())
    _write_image(frames[1].image_path, 99)
    stat = frames[1].image_path.stat()
    os.utime(frames[1].image_path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 10**9))
    after = cache.feature_maps(frames, _loader())
    assert cache.hits == 2 and cache.misses == 4
    assert torch.equal(before[0], after[0]) and not torch.equal(before[1], after[1])


def test_a_changed_image_size_is_a_miss(frames, encoder, tmp_path):
    cache = FeatureCache(encoder, level=2, root=tmp_path / "features")
    cache.feature_maps(frames, _loader(32, 48))
    larger = cache.feature_maps(frames, _loader(64, 96))
    assert cache.misses == 6 and larger.shape[-2:] == (8, 12)


def test_a_changed_encoder_or_level_is_a_miss(frames, encoder, tmp_path):
    root = tmp_path / "features"
    FeatureCache(encoder, level=2, root=root).feature_maps(frames, _loader())
    other_level = FeatureCache(encoder, level=3, root=root)
    other_level.feature_maps(frames, _loader())
    assert other_level.misses == 3
    torch.manual_seed(1)
    retrained = create_backbone("resnet18")
    assert encoder_digest(retrained) != encoder_digest(encoder)
    other_weights = FeatureCache(retrained, level=2, root=root)
    other_weights.feature_maps(frames, _loader())
    assert other_weights.misses == 3 and other_weights.hits == 0
    other_name = FeatureCache(create_backbone("efficientnet_lite0"), level=2, root=root)
    other_name.feature_maps(frames, _loader())
    assert other_name.misses == 3


def test_a_miss_with_a_lower_level_cached_runs_the_remaining_stages_only(frames, encoder, tmp_path):
    root = tmp_path / "features"
    FeatureCache(encoder, level=2, root=root).feature_maps(frames, _loader())
    upper = FeatureCache(encoder, level=3, root=root)
    calls = []
    upper._compute = lambda *args: calls.append(args)  # the images are not read again
    maps = upper.feature_maps(frames, _loader())
    assert not calls and upper.misses == 3
    with torch.no_grad():
        direct = encoder.eval().features(torch.stack([_loader().load(f).image for f in frames]), num_levels=4)[3]
    assert torch.allclose(maps, direct, atol=1e-5)
    stored = FeatureCache(encoder, level=3, root=root)
    assert torch.equal(stored.feature_maps(frames, _loader()), maps) and stored.hits == 3
    # another encoder's lower level is not used
    torch.manual_seed(1)
    other = FeatureCache(create_backbone("resnet18"), level=3, root=root)
    other._compute = lambda frames_, loader: calls.append(len(frames_)) or [torch.zeros(256, 2, 3)] * len(frames_)
    other.feature_maps(frames, _loader())
    assert calls == [3]
