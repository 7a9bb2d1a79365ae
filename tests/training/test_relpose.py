"""Relative-pose training end to end on a synthetic sequence: every mode through the CLI writes its run folder and
evaluates, supervised training really learns, foreign checkpoints are refused, configurations are checked."""

from __future__ import annotations

import csv
import json

import pytest
import torch
from torch.utils.data import default_collate

from posekit.data import RelativePoseDataset, load_index
from posekit.errors import CheckpointError, ConfigError
from posekit.losses.pose import RelativePoseLoss
from posekit.metrics.trajectory_files import read_tum
from posekit.training.common import cover_and_crop
from posekit.training.config import config_to_dict, resolve_config
from posekit.training.frame_data import FrameRange, restrict_to_frames
from posekit.training.relpose import RelativePoseModule, RelativePoseTrainConfig, load_relpose, train_relpose
from tests.conftest import SYNTH_SIZE, TEST_FRAMES, TRAIN_FRAMES, check_ok, invoke

RPE_KEYS = {"rpe_t_rmse_m", "rpe_t_median_m", "rpe_r_rmse_deg", "rpe_r_median_deg", "ate_rmse_m", "pairs_per_second"}


def _small(data, cache, out, *extra):
    return ["train", "relpose", *data.options(), "--train-frames", TRAIN_FRAMES, "--test-frames", TEST_FRAMES,
            "--image-size", SYNTH_SIZE, "--backbone", "resnet18", "--no-pretrained", "--hidden", "32",
            "--batch-size", "4", "--max-epochs", "1", "--distance", "2", "--no-progress", "--cache-dir", str(cache),
            "--out", str(out), *extra]


def _logged(run_dir, key):
    rows = list(csv.DictReader(open(next((run_dir / "logs" / "relpose").glob("version_*/metrics.csv")))))
    return [float(r[key]) for r in rows if r.get(key)]


@pytest.mark.parametrize("mode,extra", [
    ("supervised", ["--fusion", "early", "--separate-heads"]),
    ("photometric", ["--edge-weight", "1.0", "--max-steps", "3"]),
    ("monocular", ["--num-scales", "2", "--max-steps", "3"]),
])
def test_each_mode_trains_and_evaluates_through_the_cli(synth_sequence, shared_cache, tmp_path, mode, extra):
    run = tmp_path / mode
    check_ok(invoke(*_small(synth_sequence, shared_cache, run, "--mode", mode, *extra)))
    for name in ("config.yaml", "model.safetensors", "checkpoints/last.ckpt"):
        assert (run / name).is_file(), name
    config = resolve_config(RelativePoseTrainConfig, run / "config.yaml", {})
    assert config.mode.value == mode and config.train_frames == TRAIN_FRAMES and config.image_size == (64, 96)
    assert _logged(run, "train/loss"), "the training loss was logged"
    if mode == "supervised":
        assert _logged(run, "val/t_err_m"), "a full epoch ends with validation on the held-out pairs"

    result = check_ok(invoke("eval", "relpose", "--model", run / "model.safetensors", *synth_sequence.options(),
                             "--distances", "1,2,4", "--cache-dir", shared_cache, "--json"))
    summary = json.loads(result.stdout.strip().splitlines()[-1])["network"]
    assert RPE_KEYS <= set(summary)
    assert summary["distance"] == 2 and set(summary["by_distance"]) == {"1", "2", "4"}
    assert summary["pairs"] == 16 - 2 and summary["by_distance"]["4"]["pairs"] == 16 - 4
    assert summary["held_out"] == f"frames {TEST_FRAMES}" and summary["frames"] == 16
    if mode == "monocular":
        assert summary["scale_alignment"].startswith("per-pair") and summary["ate_alignment"] == "sim3"
        assert 0 <= summary["depth_median_scaled_abs_rel"] and summary["depth_median_scaled_median_scaling"] is True
    else:
        assert summary["scale_alignment"].startswith("none") and summary["ate_alignment"] == "se3"
    # the chained trajectory: frames 24, 26, ..., 38 of the test range, ground truth beside it
    estimate, truth = read_tum(run / "eval" / "network.tum"), read_tum(run / "eval" / "network.gt.tum")
    assert len(estimate) == len(truth) == 8 == summary["trajectory_frames"]
    rows = list(csv.DictReader(open(run / "eval" / "network.csv")))
    assert len(rows) == summary["pairs"] and rows[0]["name"].endswith("000024->000026")


def test_baselines_and_refinement_on_exact_synthetic_depth(synth_sequence, shared_cache, tmp_path):
    """Direct alignment with exact depth recovers the true motion; the network's prediction refined by it too."""
    run = tmp_path / "run"
    check_ok(invoke(*_small(synth_sequence, shared_cache, run, "--max-steps", "2")))
    result = check_ok(invoke("eval", "relpose", "--model", run / "model.safetensors", *synth_sequence.options(),
                             "--method", "direct", "--method", "network_refined", "--method", "orb_pnp",
                             "--distances", "2", "--cache-dir", shared_cache, "--json"))
    summaries = json.loads(result.stdout.strip().splitlines()[-1])
    assert set(summaries) == {"direct", "network_refined", "orb_pnp"}
    for method in ("direct", "network_refined"):
        assert summaries[method]["rpe_t_median_m"] < 0.01 and summaries[method]["rpe_r_median_deg"] < 0.5, summaries[method]
    assert RPE_KEYS <= set(summaries["orb_pnp"]) and "failures" in summaries["orb_pnp"]
    for method in summaries:
        assert (run / "eval" / f"{method}.json").is_file() and (run / "eval" / f"{method}.tum").is_file()


def test_supervised_training_fits_a_tiny_set(synth_sequence, shared_cache, tmp_path):
    """Real learning: after 30 steps on 6 pairs the supervised loss on those pairs is at most half of the start."""
    config = resolve_config(RelativePoseTrainConfig, None, {
        "dataset": synth_sequence.format, "data": str(synth_sequence.root), "train_frames": "0-8",
        "test_frames": "35-39", "image_size": SYNTH_SIZE, "backbone": "resnet18", "pretrained": False, "hidden": "64",
        "distance": 3, "both_directions": False, "batch_size": 2, "max_steps": 30, "max_epochs": 1000, "lr": 1e-3,
        "output_scale": 0.1, "cache_dir": str(shared_cache), "out": str(tmp_path / "run"), "progress": False,
    })
    index = load_index(config.dataset, config.data)
    pairs = RelativePoseDataset(restrict_to_frames(index, FrameRange.parse("0-8")), distances=3,
                                transform=cover_and_crop(index, 64, 96), cache=True, cache_dir=shared_cache)
    batch = default_collate([pairs[i] for i in range(len(pairs))])
    criterion = RelativePoseLoss()

    def loss_of(module: RelativePoseModule) -> float:
        with torch.no_grad():
            out = module.eval().pose_net(batch["source_image"], batch["target_image"])
            return float(criterion(out.vector, batch["T_src_tgt"]).total)

    torch.manual_seed(config.seed)
    initial = loss_of(RelativePoseModule(config_to_dict(config)))
    run = train_relpose(config)
    trained = loss_of(load_relpose(run / "model.safetensors"))
    assert len(pairs) == 6
    assert trained < 0.5 * initial, (initial, trained)


def test_foreign_and_corrupt_checkpoints_are_refused(synth_sequence, shared_cache, tmp_path):
    run = tmp_path / "depth"
    check_ok(invoke("train", "depth", *synth_sequence.options(), "--train-frames", TRAIN_FRAMES, "--test-frames",
                    TEST_FRAMES, "--image-size", SYNTH_SIZE, "--backbone", "resnet18", "--no-pretrained",
                    "--max-steps", "1", "--no-progress", "--cache-dir", shared_cache, "--out", run))
    result = invoke("eval", "relpose", "--model", run / "model.safetensors", *synth_sequence.options())
    assert result.exit_code == 2 and "expected a 'relpose' model, found a 'depth' model" in result.output
    with pytest.raises(CheckpointError, match="expected a 'relpose' checkpoint"):
        load_relpose(run / "checkpoints" / "last.ckpt")
    corrupt = tmp_path / "corrupt.safetensors"
    corrupt.write_bytes(b"not a model")
    with pytest.raises(CheckpointError, match="not a valid safetensors"):
        load_relpose(corrupt)


def test_configuration_errors_are_named(synth_sequence, shared_cache, tmp_path):
    overlapping = invoke(*_small(synth_sequence, shared_cache, tmp_path / "x", "--train-frames", "0-25"))
    assert overlapping.exit_code == 2 and "both training (frames 0-25) and held-out (frames 24-39)" in overlapping.output
    with pytest.raises(ConfigError, match="multiples of 32"):
        resolve_config(RelativePoseTrainConfig, None, {"mode": "monocular", "image_size": "60x80"})
    with pytest.raises(ConfigError, match="frame range"):
        resolve_config(RelativePoseTrainConfig, None, {"train_frames": "9-3"})
    bad_range = invoke(*_small(synth_sequence, shared_cache, tmp_path / "y", "--train-frames", "9-3"))
    assert bad_range.exit_code == 2 and "FIRST-LAST" in bad_range.output
    baselines_only = invoke("eval", "relpose", *synth_sequence.options(), "--method", "network")
    assert baselines_only.exit_code == 2 and "--model" in baselines_only.output
