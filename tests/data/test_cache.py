"""The transform cache never serves a stale entry, matches the uncached pipeline bit for bit, and lives in
the user cache folder."""

from __future__ import annotations

import os

import numpy as np
import torch

from posekit.data import AbsolutePoseDataset, ColorJitter, FrameLoader, FrameTransform, TransformCache, default_cache_dir, load_index
from posekit.data.imaging import ImageMode

from .layouts import intrinsics_yaml, pose, tum_quaternion_line, write_depth, write_rgb


def _folder(root, n=3):
    for i in range(n):
        write_rgb(root / "images" / f"{i:06d}.png", seed=i, width=32, height=24)
        write_depth(root / "depth" / f"{i:06d}.png", np.arange(32 * 24).reshape(24, 32) + 1)
    (root / "poses.txt").write_text("".join(tum_quaternion_line(float(i), pose(t=(i, 0, 0))) for i in range(n)))
    (root / "intrinsics.yaml").write_text(intrinsics_yaml(fx=30.0, fy=30.0, cx=15.5, cy=11.5, width=32, height=24, depth_scale=0.001))
    return load_index("folder", root)


def test_cached_equals_uncached_and_hits(tmp_path):
    index = _folder(tmp_path / "data")
    transform = FrameTransform(resize=(12, 16), crop=(10, 12))
    cache = TransformCache(tmp_path / "cache")
    plain = FrameLoader(transform).load(index.frames[1])
    cached = FrameLoader(transform, cache)
    first, second = cached.load(index.frames[1]), cached.load(index.frames[1])
    assert (cache.misses, cache.hits) == (1, 1)
    for out in (first, second):
        assert torch.equal(out.image, plain.image) and torch.equal(out.depth, plain.depth)
        assert out.intrinsics == plain.intrinsics
    assert plain.image.shape == (3, 10, 12) and plain.depth.shape == (1, 10, 12)


def test_changed_setting_is_a_different_entry(tmp_path):
    index = _folder(tmp_path / "data")
    cache = TransformCache(tmp_path / "cache")
    small = FrameLoader(FrameTransform(resize=(12, 16)), cache).load(index.frames[0])
    other = FrameLoader(FrameTransform(resize=(12, 16), crop=(12, 12)), cache).load(index.frames[0])
    grey = FrameLoader(FrameTransform(resize=(12, 16), image_mode=ImageMode.GREY), cache).load(index.frames[0])
    no_depth = FrameLoader(FrameTransform(resize=(12, 16)), cache, load_depth=False).load(index.frames[0])
    assert cache.hits == 0 and cache.misses == 4
    assert small.image.shape == (3, 12, 16) and other.image.shape == (3, 12, 12) and grey.image.shape == (1, 12, 16)
    assert no_depth.depth is None and small.depth is not None


def test_touched_or_replaced_file_is_never_served_stale(tmp_path):
    index = _folder(tmp_path / "data")
    frame = index.frames[2]
    loader = FrameLoader(FrameTransform(resize=(12, 16)), TransformCache(tmp_path / "cache"))
    before = loader.load(frame)
    write_rgb(frame.image_path, seed=99, width=32, height=24)  # new content, same size
    stat = frame.image_path.stat()
    os.utime(frame.image_path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000))
    after = loader.load(frame)
    assert not torch.equal(before.image, after.image)
    assert torch.equal(after.image, FrameLoader(FrameTransform(resize=(12, 16))).load(frame).image)
    misses = loader.cache.misses
    stat = frame.image_path.stat()
    os.utime(frame.image_path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000))  # touched only
    loader.load(frame)
    assert loader.cache.misses == misses + 1
    write_depth(frame.depth_path, np.full((24, 32), 7))  # the depth file counts too
    assert torch.allclose(loader.load(frame).depth, torch.full((1, 12, 16), 0.007))


def test_corrupt_entry_is_a_miss_and_is_rewritten(tmp_path):
    index = _folder(tmp_path / "data")
    cache = TransformCache(tmp_path / "cache")
    loader = FrameLoader(FrameTransform(resize=(12, 16)), cache)
    good = loader.load(index.frames[0])
    (entry,) = list((tmp_path / "cache").rglob("*.pt"))
    entry.write_bytes(b"not a torch file")
    again = loader.load(index.frames[0])
    assert torch.equal(good.image, again.image)
    assert cache.load(cache.key({"x": 1}, [])) is None
    assert loader.load(index.frames[0]) is not None and cache.hits >= 1


def test_cache_lives_in_the_user_cache_dir_and_augmentation_runs_after_it(tmp_path, monkeypatch, user_cache_dir):
    index = _folder(tmp_path / "data")
    work = tmp_path / "cwd"
    work.mkdir()
    monkeypatch.chdir(work)
    assert default_cache_dir() == user_cache_dir.resolve()
    dataset = AbsolutePoseDataset(
        index, "all", transform=FrameTransform(resize=(12, 16)), cache=True, augment=ColorJitter(brightness=0.5), normalize=False
    )
    torch.manual_seed(0)
    first, second = dataset[0]["image"], dataset[0]["image"]
    assert not torch.equal(first, second)  # fresh random jitter on each read of a cached entry
    assert dataset.selection.loader.cache.hits == 1
    assert list(work.iterdir()) == []  # nothing written into the current directory
    assert list((user_cache_dir / "transforms").rglob("*.pt"))
    assert list((user_cache_dir / "splits").glob("folder-data-*.json"))
