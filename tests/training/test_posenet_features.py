"""PoseNet trained on cached features of its frozen backbone (``--freeze-backbone --cache-features``): the cache
holds exactly what the backbone computes, is reused and keyed on the images, the exported model is an ordinary
PoseNet, and the options it cannot honour are refused."""

from __future__ import annotations

import json

import torch

from posekit.training.posenet import load_posenet
from posekit.training.posenet_features import CACHE_SUBDIR
from tests.conftest import invoke

SMALL = ["--image-size", "64x80", "--feature-dim", "32", "--batch-size", "4", "--no-progress", "--split", "blocks:5:4"]


def _train(data, out, *extra):
    return invoke("train", "posenet", "--dataset", "frames", "--data", data, "--out", out, *SMALL,
                  "--freeze-backbone", "--cache-features", *extra)


def test_cached_feature_training_learns_and_exports_an_ordinary_posenet(tiny_frames, user_cache_dir, tmp_path):
    result = _train(tiny_frames, tmp_path / "run", "--max-epochs", "12", "--lr", "3e-3")
    assert result.exit_code == 0, result.output
    entries = sorted((user_cache_dir / CACHE_SUBDIR).glob("pooled-*.pt"))
    assert len(entries) == 2  # training set and held-out set
    assert "computed and cached features of 30 training images" in result.output

    # The cache holds what the exported model's backbone computes from the images.
    module = load_posenet(tmp_path / "run" / "model.safetensors")
    result = invoke("eval", "posenet", "--model", tmp_path / "run" / "model.safetensors", "--dataset", "frames",
                    "--data", tiny_frames, "--json")
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout.strip().splitlines()[-1])
    assert summary["frames"] == 10
    cached = [torch.load(path, weights_only=True) for path in entries]
    held_out = next(entry for entry in cached if entry["features"].shape[0] == 10)
    from posekit.training.posenet import AbsolutePoseDataModule, PoseNetTrainConfig
    from posekit.training.config import resolve_config

    data = AbsolutePoseDataModule(resolve_config(PoseNetTrainConfig, tmp_path / "run" / "config.yaml", {}))
    images = torch.stack([data.val_set[i]["image"] for i in range(10)])
    with torch.no_grad():
        assert torch.allclose(module.model.backbone.forward_pooled(images), held_out["features"], atol=1e-5)
        predicted = module.predict_T_world_cam(images)
    # 12 epochs on the FC layers: the training loss went down (first vs last logged epoch).
    import csv

    rows = list(csv.DictReader(open(next((tmp_path / "run" / "logs" / "posenet").glob("version_*/metrics.csv")))))
    losses = [float(r["train/loss"]) for r in rows if r.get("train/loss")]
    assert losses[-1] < losses[0]
    assert torch.isfinite(predicted).all()

    # A second run with the same images and weights reads the cache; another image size is another entry.
    again = _train(tiny_frames, tmp_path / "again", "--max-epochs", "1")
    assert again.exit_code == 0, again.output
    assert "cached features of 30 training images" in again.output and "computed" not in again.output
    other = invoke("train", "posenet", "--dataset", "frames", "--data", tiny_frames, "--out", tmp_path / "other",
                   *SMALL[2:], "--image-size", "48x64", "--freeze-backbone", "--cache-features", "--max-epochs", "1")
    assert other.exit_code == 0, other.output
    assert len(list((user_cache_dir / CACHE_SUBDIR).glob("pooled-*.pt"))) == 4


def test_cache_features_refuses_what_it_cannot_honour(tiny_frames, user_cache_dir, tmp_path):
    base = ["train", "posenet", "--dataset", "frames", "--data", tiny_frames, "--out", tmp_path / "r", *SMALL]
    for extra, reason in ((["--cache-features"], "--freeze-backbone is off"),
                          (["--cache-features", "--freeze-backbone", "--augment"], "--augment is on"),
                          (["--cache-features", "--freeze-backbone", "--loss", "reprojection"], "--loss reprojection")):
        result = invoke(*base, *extra)
        assert result.exit_code == 2, result.output
        assert f"cache_features: {reason}" in result.output
    assert not (tmp_path / "r" / "model.safetensors").exists()
