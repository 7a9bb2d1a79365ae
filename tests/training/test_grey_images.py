"""Grey datasets (KITTI odometry's ``image_0``): PoseNet trains and evaluates, retrieval and the relative-pose
network evaluate, with grey images replicated to 3 channels (``grey_images: replicate`` in config.yaml); a run
resumes with ``--resume last`` from ``best.ckpt`` when ``last.ckpt`` is broken. Tiny images, one epoch or one step."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
import yaml

from posekit.data import load_index
from posekit.training.common import cover_and_crop
from tests.conftest import check_ok, invoke, require_real_data

SIZE = "32x96"


@pytest.fixture(scope="module")
def kitti():
    return require_real_data("kitti_odometry/seq06_frames000000-000050")


def test_grey_frames_become_three_equal_channels(kitti, tmp_path):
    from posekit.data import AbsolutePoseDataset, Split

    index = load_index("kitti", kitti)
    dataset = AbsolutePoseDataset(index, Split.ALL, transform=cover_and_crop(index, 32, 96), cache=False)
    image = dataset[0]["image"]
    assert image.shape == (3, 32, 96)
    assert torch.equal(image[0], image[1]) and torch.equal(image[1], image[2])
    assert float(image.std()) > 0.01


def _json(result) -> dict:
    """The JSON object a ``--json`` command printed (the output also holds stderr's notes)."""
    return json.loads([line for line in check_ok(result).output.splitlines() if line.startswith("{")][-1])


def _train(kitti, tmp_path, *extra):
    return invoke("train", "posenet", "--dataset", "kitti", "--data", kitti, "--image-size", SIZE, "--no-pretrained",
                  "--feature-dim", 8, "--batch-size", 8, "--max-epochs", 1, "--no-progress", "--out", tmp_path / "run",
                  "--cache-dir", tmp_path / "cache", *extra)


def test_posenet_retrieval_and_relpose_on_a_grey_dataset_and_resume_last(kitti, tmp_path):
    # best.ckpt (selected on validation frames) and the optimiser state are kept only on request
    check_ok(_train(kitti, tmp_path, "--keep-best", "--val-frames", "30-34", "--save-optimizer"))
    run = tmp_path / "run"
    assert yaml.safe_load((run / "config.yaml").read_text())["grey_images"] == "replicate"
    model = run / "model.safetensors"
    common = ["--dataset", "kitti", "--data", kitti, "--cache-dir", tmp_path / "cache", "--json"]
    posenet = _json(invoke("eval", "posenet", "--model", model, *common))
    retrieval = _json(invoke("eval", "retrieval", "--model", model, *common))
    assert posenet["frames"] == retrieval["frames"] > 0
    assert np.isfinite(posenet["median_t_m"]) and np.isfinite(retrieval["median_t_m"])

    check_ok(invoke("train", "relpose", "--dataset", "kitti", "--data", kitti, "--image-size", SIZE, "--no-pretrained",
                    "--hidden", 8, "--batch-size", 4, "--max-epochs", 1, "--max-steps", 1, "--no-progress",
                    "--out", tmp_path / "relpose", "--cache-dir", tmp_path / "cache"))
    relpose = _json(invoke("eval", "relpose", "--model", tmp_path / "relpose" / "model.safetensors", "--distances", 1,
                           *common))
    assert relpose["network"]["pairs"] > 0

    # a kill during the write of last.ckpt: --resume last continues from best.ckpt and says so
    (run / "checkpoints" / "last.ckpt").write_bytes(b"\x80\x04truncated")
    resumed = check_ok(_train(kitti, tmp_path, "--max-epochs", 2, "--resume", "last", "--keep-best", "--val-frames",
                              "30-34", "--save-optimizer"))
    assert "resuming from" in resumed.output and "best.ckpt" in resumed.output
    assert torch.load(run / "checkpoints" / "last.ckpt", weights_only=True)["epoch"] == 1
