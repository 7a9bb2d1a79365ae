"""``posekit predict``: poses from images alone with tiny models trained on the synthetic sequence; a folder of
images and the dataset's frames give the same poses, one TUM file per record, relative poses chained from the
identity."""

from __future__ import annotations

import csv
import json
import shutil

import pytest
import torch

from posekit.metrics.trajectory_files import read_tum
from tests.conftest import SYNTH_SIZE, TEST_FRAMES, TRAIN_FRAMES, check_ok, invoke

COMMON = ["--train-frames", TRAIN_FRAMES, "--test-frames", TEST_FRAMES, "--image-size", SYNTH_SIZE, "--batch-size", "4",
          "--max-epochs", "1", "--max-steps", "2", "--no-progress"]
TASK_OPTIONS = {
    "posenet": ["--feature-dim", "32"],
    "relpose": ["--backbone", "resnet18", "--no-pretrained", "--hidden", "32", "--distance", "1"],
}


@pytest.fixture(scope="module")
def trained(synth_sequence, shared_cache, tmp_path_factory):  # noqa: F811
    runs = {}
    for task, options in TASK_OPTIONS.items():
        run = tmp_path_factory.mktemp(f"predict_{task}")
        check_ok(invoke("train", task, *synth_sequence.options(), *COMMON, *options, "--cache-dir", shared_cache,
                        "--out", run))
        runs[task] = run / "model.safetensors"
    return runs


def _json(result) -> dict:
    """The JSON object printed by ``--json`` (stderr lines, e.g. the thread count, may be mixed in)."""
    return json.loads(next(line for line in result.output.splitlines() if line.startswith("{")))


def _image_folder(synth_sequence, tmp_path, frames):
    """Copies of the colour images of ``frames`` (no pose file)."""
    folder = tmp_path / "images"
    folder.mkdir()
    images = sorted(p for p in synth_sequence.root.rglob("*.color.png"))
    chosen = [p for p in images if int(p.name.split(".")[0].split("-")[-1]) in frames]
    for path in chosen:
        shutil.copy(path, folder / path.name)
    return folder, len(chosen)


@pytest.mark.parametrize("task", ["posenet", "relpose"])
def test_images_and_dataset_frames_give_the_same_poses(task, trained, synth_sequence, shared_cache, tmp_path):  # noqa: F811
    if synth_sequence.format != "7scenes":
        pytest.skip("needs the rendered sequence (headless OpenGL)")
    folder, count = _image_folder(synth_sequence, tmp_path, range(30, 36))
    assert count == 6
    from_images = _json(check_ok(invoke("predict", task, "--model", trained[task], "--images", folder,
                                        "--out", tmp_path / "a", "--json")))
    from_dataset = _json(check_ok(invoke("predict", task, "--model", trained[task], *synth_sequence.options(),
                                         "--test-frames", "30-35", "--cache-dir", shared_cache,
                                         "--out", tmp_path / "b", "--json")))
    assert from_images["frames"] == from_dataset["frames"] == 6
    (images_file,) = from_images["trajectories"].values()
    (dataset_file,) = from_dataset["trajectories"].values()
    a, b = read_tum(tmp_path / "a" / images_file), read_tum(tmp_path / "b" / dataset_file)
    torch.testing.assert_close(a.poses, b.poses, atol=1e-4, rtol=0)
    assert b.timestamps.tolist() == [30.0, 31.0, 32.0, 33.0, 34.0, 35.0]  # frame numbers (no timestamps in 7-Scenes)
    rows = list(csv.DictReader(open(tmp_path / "b" / f"{task}.csv")))
    assert len(rows) == 6 and rows[0]["name"].endswith("000030")
    if task == "relpose":
        torch.testing.assert_close(b.poses[0], torch.eye(4, dtype=torch.float64))
        assert "identity" in from_dataset["chaining"]


def test_predict_needs_one_input(trained, tmp_path):
    result = invoke("predict", "posenet", "--model", trained["posenet"], "--out", tmp_path)
    assert result.exit_code == 2 and "--images" in result.output
