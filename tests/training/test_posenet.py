"""PoseNet training end to end on real frames: run folder, learning, resume, evaluation, retrieval, checkpoints, DDP."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys

import numpy as np
import pytest
import torch

from posekit.errors import CheckpointError
from posekit.metrics.trajectory_files import read_tum
from posekit.runs import undocumented_files
from posekit.training.checkpoints import export_model, load_lightning_checkpoint
from posekit.training.config import resolve_config
from posekit.training.posenet import PoseNetTrainConfig, load_posenet, train_posenet
from tests.conftest import invoke

SMALL = ["--image-size", "64x80", "--feature-dim", "32", "--batch-size", "4", "--no-progress", "--split", "blocks:5:4"]


def _train_args(data, out, *extra):
    return ["train", "posenet", "--dataset", "frames", "--data", str(data), "--out", str(out), *SMALL, *extra]


def _logged(run_dir, key):
    rows = list(csv.DictReader(open(next((run_dir / "logs" / "posenet").glob("version_*/metrics.csv")))))
    return [(int(r["step"]), float(r[key])) for r in rows if r.get(key)]


def test_train_then_evaluate_writes_the_run_folder(tiny_frames, user_cache_dir, tmp_path):
    run = tmp_path / "run"
    result = invoke(*_train_args(tiny_frames, run, "--max-epochs", "2", "--lr", "1e-3"))
    assert result.exit_code == 0, result.output
    for name in ("config.yaml", "model.safetensors", "checkpoints/last.ckpt"):
        assert (run / name).is_file(), name
    assert sorted(p.name for p in (run / "checkpoints").iterdir()) == ["last.ckpt"]  # the last only, by default
    assert "optimizer_states" not in torch.load(run / "checkpoints" / "last.ckpt", weights_only=False)
    assert "Tip:" not in result.output and "litlogger" not in result.output and "Deprecat" not in result.output
    config = resolve_config(PoseNetTrainConfig, run / "config.yaml", {})
    assert config.image_size == (64, 80) and config.split == "blocks:5:4" and config.lr == 1e-3
    assert _logged(run, "val/t_err_m"), "validation errors were logged"
    assert any((run / "logs" / "tensorboard").rglob("events.out.tfevents.*"))

    result = invoke(*["eval", "posenet", "--model", str(run / "model.safetensors"), "--dataset", "frames",
                                      "--data", str(tiny_frames), "--json"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout.strip().splitlines()[-1])
    assert {"median_t_m", "median_r_deg", "mean_t_m", "mean_r_deg"} <= set(summary)
    assert summary["held_out"] == "test split (blocks:5:4)" and summary["frames"] == 10  # blocks of 5, every 4th held out: 2 of 8 blocks
    assert invoke("report", str(run)).exit_code == 0
    assert undocumented_files(run) == []  # every file is in the layout posekit.runs documents
    predicted = read_tum(run / "eval" / "posenet.tum")
    truth = read_tum(run / "eval" / "posenet.gt.tum")
    assert len(predicted) == len(truth) == 10
    errors = (predicted.positions - truth.positions).norm(dim=1)
    assert summary["median_t_m"] == pytest.approx(float(np.median(errors.numpy())), rel=1e-6)

    result = invoke(*["eval", "retrieval", "--model", str(run / "model.safetensors"), "--dataset",
                                      "frames", "--data", str(tiny_frames), "--json"])
    assert result.exit_code == 0, result.output
    retrieval = json.loads(result.stdout.strip().splitlines()[-1])
    assert retrieval["frames"] == 10 and retrieval["database_frames"] == 30
    # Retrieval returns training poses: every predicted position is one of the dataset's positions.
    database = torch.stack([torch.from_numpy(np.loadtxt(p)) for p in sorted((tiny_frames / "frames").glob("*.pose.txt"))])
    predicted = read_tum(run / "eval" / "retrieval.tum").positions
    distances = torch.cdist(predicted, database[:, :3, 3])
    assert float(distances.min(dim=1).values.max()) < 1e-6


def test_training_reduces_the_loss(tiny_frames, user_cache_dir, tmp_path):
    config = resolve_config(PoseNetTrainConfig, None, {
        "dataset": "frames", "data": str(tiny_frames), "out": str(tmp_path / "run"), "image_size": "64x80",
        "feature_dim": 32, "batch_size": 8, "max_steps": 24, "max_epochs": 100, "lr": 3e-3, "progress": False,
        "loss": "fixed", "beta": 10.0, "dropout": 0.0, "split": "blocks:5:4"})
    run = train_posenet(config)
    losses = [value for _, value in _logged(run, "train/loss")]
    assert len(losses) == 24
    assert sum(losses[-4:]) / 4 < 0.5 * sum(losses[:4]) / 4, losses


def test_resume_continues_from_the_last_checkpoint(tiny_frames, user_cache_dir, tmp_path):
    run = tmp_path / "run"
    assert invoke(*_train_args(tiny_frames, run, "--max-steps", "2", "--max-epochs", "5")).exit_code == 0
    result = invoke(*_train_args(tiny_frames, run, "--max-steps", "4", "--max-epochs", "5", "--resume", "last"))
    assert result.exit_code == 2 and "--save-optimizer" in result.output  # no optimiser state: no exact resume
    assert invoke(*_train_args(tiny_frames, run, "--max-steps", "2", "--max-epochs", "5", "--save-optimizer")).exit_code == 0
    assert load_lightning_checkpoint(run / "checkpoints" / "last.ckpt", "posenet")["global_step"] == 2
    result = invoke(*_train_args(tiny_frames, run, "--max-steps", "4", "--max-epochs", "5", "--resume", "last",
                                 "--save-optimizer"))
    assert result.exit_code == 0, result.output
    assert load_lightning_checkpoint(run / "checkpoints" / "last.ckpt", "posenet")["global_step"] == 4
    result = invoke(*_train_args(tiny_frames, run, "--resume", str(tmp_path / "missing.ckpt")))
    assert result.exit_code == 2 and "missing.ckpt" in result.output


def test_best_checkpoint_on_request_is_chosen_on_validation_frames(tiny_frames, user_cache_dir, tmp_path):
    run = tmp_path / "run"
    result = invoke(*_train_args(tiny_frames, run, "--max-steps", "2", "--keep-best"))
    assert result.exit_code == 2 and "val_frames" in result.output  # never selected on the test frames
    result = invoke(*_train_args(tiny_frames, run, "--max-epochs", "2", "--keep-best", "--val-frames", "@0-4"))
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in (run / "checkpoints").iterdir()) == ["best.ckpt", "last.ckpt"]
    assert resolve_config(PoseNetTrainConfig, run / "config.yaml", {}).val_frames == "@0-4"


def test_corrupt_or_foreign_checkpoints_are_refused(tmp_path):
    garbage = tmp_path / "model.ckpt"
    garbage.write_bytes(b"not a checkpoint")
    with pytest.raises(CheckpointError, match="model.ckpt: not a readable checkpoint"):
        load_posenet(garbage)
    truncated = tmp_path / "model.safetensors"
    truncated.write_bytes(b"\x08\x00\x00\x00\x00\x00\x00\x00{}")
    with pytest.raises(CheckpointError, match="model.safetensors"):
        load_posenet(truncated)
    foreign = tmp_path / "relpose.safetensors"
    export_model(foreign, "relpose", {"w": torch.zeros(2)}, {"config": {}})
    with pytest.raises(CheckpointError, match="expected a 'posenet' model, found a 'relpose' model"):
        load_posenet(foreign)
    result = invoke(*["eval", "posenet", "--model", str(foreign), "--dataset", "frames", "--data", str(tmp_path)])
    assert result.exit_code == 2 and "expected a 'posenet' model" in result.output


@pytest.mark.slow
def test_two_process_ddp_ends_with_identical_weights(tiny_frames, user_cache_dir, tmp_path):
    """Lightning DDP with gloo on CPU: both ranks end with the same parameters. Their BatchNorm statistics
    differ, which shows that each rank saw different batches (so the equality comes from gradient all-reduce).
    (The run stops after 2 of the epoch's 3 steps per rank: a validation pass would re-broadcast rank 0's
    buffers to every rank.)"""
    run = tmp_path / "ddp_run"
    command = [sys.executable, "-m", "posekit", *_train_args(tiny_frames, run, "--max-steps", "2", "--max-epochs", "5",
                                                            "--devices", "2", "--strategy", "ddp", "--accelerator", "cpu")]
    completed = subprocess.run(command, capture_output=True, text=True, timeout=600, env={**os.environ, "PYTHONWARNINGS": "ignore"})
    assert completed.returncode == 0, completed.stderr[-3000:]
    ranks = [dict(line.split() for line in (run / "ddp" / f"rank{r}.sha256").read_text().splitlines()) for r in (0, 1)]
    assert ranks[0]["parameters"] == ranks[1]["parameters"]
    assert ranks[0]["buffers"] != ranks[1]["buffers"]


def test_validation_figures_reach_tensorboard(tiny_frames, user_cache_dir, tmp_path):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    run = tmp_path / "run"
    assert invoke(*_train_args(tiny_frames, run, "--max-epochs", "1")).exit_code == 0
    (events,) = list((run / "logs" / "tensorboard").rglob("events.out.tfevents.*"))
    accumulator = EventAccumulator(str(events), size_guidance={"images": 0})
    accumulator.Reload()
    assert {"val/trajectory", "val/errors"} <= set(accumulator.Tags()["images"])
    image = accumulator.Images("val/trajectory")[-1]
    assert image.width > 300 and image.height > 200


def _stereo_records() -> dict:
    from tests.data.layouts import pose

    return {record: [(f"170927_0638{10 + i:02d}{k}92", pose(yaw=0.05 * i, t=(0.3 * i, 0.1 * k, 0.0)))
                     for i in range(6)] for k, record in enumerate(("Record001", "Record002"))}


def test_stereo_posenet_trains_and_evaluates_on_camera_pairs(tmp_path):
    from tests.data.layouts import write_apolloscape_zpark

    data, run = tmp_path / "zpark", tmp_path / "run"
    records = _stereo_records()
    write_apolloscape_zpark(data, records)
    split = data / "trainval_split"
    split.mkdir()
    for name, record in (("train.txt", "Record001"), ("val.txt", "Record002")):
        (split / name).write_text("".join(f"{record}/{c}/{s}_{c}\n" for s, _ in records[record]
                                          for c in ("Camera_1", "Camera_2")))
    result = invoke("train", "posenet", "--dataset", "apolloscape", "--data", data, "--out", run, "--stereo",
                    "--image-size", "32x32", "--feature-dim", "8", "--batch-size", "2", "--max-steps", "2",
                    "--no-pretrained", "--no-progress")
    assert result.exit_code == 0, (result.output, repr(result.exception))
    module = load_posenet(run / "model.safetensors")
    assert type(module.model).__name__ == "StereoPoseNet" and module.config.stereo
    evaluated = invoke("eval", "posenet", "--model", run / "model.safetensors", "--dataset", "apolloscape",
                       "--data", data, "--json")
    assert evaluated.exit_code == 0, evaluated.output
    summary = json.loads(evaluated.stdout.strip().splitlines()[-1])
    # the held-out record's 6 camera pairs, each view one frame
    assert summary["frames"] == 12 and summary["stereo"] is True and summary["cameras"] == ["Camera_1", "Camera_2"]
    names = [row["name"] for row in csv.DictReader(open(run / "eval" / "posenet.csv"))]
    assert names[:2] == ["Record002/170927_063810192/Camera_1", "Record002/170927_063810192/Camera_2"]


def test_stereo_needs_two_cameras(tiny_frames, tmp_path):
    result = invoke(*_train_args(tiny_frames, tmp_path / "run", "--stereo", "--max-steps", "1"))
    assert result.exit_code == 2 and "stereo needs exactly two cameras" in result.output
