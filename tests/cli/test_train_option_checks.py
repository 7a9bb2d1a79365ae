"""Bad training and evaluation options (issue 11): each gives one line naming the option and exit code 2, before
any data is read or any model is built. The checks are declared on the configuration fields, so a flag and the
same key in a YAML ``--config`` are refused alike."""

from __future__ import annotations

import pytest
import torch

from tests.conftest import invoke, require_real_data


def _error_line(result) -> str:
    """The CLI's one-line error (posekit's, or click's usage error)."""
    lines = [line for line in result.output.splitlines() if "rror" in line]
    assert lines, result.output
    return lines[-1]


def _refused(result, *names: str) -> str:
    assert result.exit_code == 2, (result.output, repr(result.exception))
    assert "Traceback" not in result.output
    line = _error_line(result)
    for name in names:
        assert name in line, (name, line)
    return line


@pytest.fixture
def base(tmp_path):
    """``train posenet`` options that would train if nothing else were wrong (the data is never read)."""
    return ["train", "posenet", "--dataset", "frames", "--data", str(tmp_path / "nowhere"), "--out", str(tmp_path / "run"),
            "--no-pretrained"]


FLAG_CASES = [
    (["--batch-size", "0"], "--batch-size"),
    (["--batch-size", "-1"], "--batch-size"),
    (["--image-size", "32"], "--image-size"),
    (["--image-size", "32x40x50"], "--image-size"),
    (["--image-size", "0x40"], "--image-size"),
    (["--max-epochs", "-1"], "--max-epochs"),
    (["--max-epochs", "0"], "--max-epochs"),
    (["--max-steps", "-2"], "--max-steps"),
    (["--max-steps", "0"], "--max-steps"),
    (["--lr", "-1"], "--lr"),
    (["--lr", "0"], "--lr"),
    (["--lr", "nan"], "--lr"),
    (["--lr", "inf"], "--lr"),
    (["--weight-decay", "-0.1"], "--weight-decay"),
    (["--feature-dim", "-4"], "--feature-dim"),
    (["--feature-dim", "0"], "--feature-dim"),
    (["--dropout", "1"], "--dropout"),
    (["--beta", "-1"], "--beta"),
    (["--num-workers", "-1"], "--num-workers"),
    (["--devices", "0"], "--devices"),
    (["--seed", "-1"], "--seed"),
    (["--accelerator", "quantum"], "--accelerator"),
    (["--strategy", "bogus"], "--strategy"),
    (["--test-frames", "9-3"], "frame range"),
]


@pytest.mark.parametrize(("flags", "name"), FLAG_CASES, ids=[" ".join(f) for f, _ in FLAG_CASES])
def test_bad_flags_are_refused_naming_the_option(base, flags, name):
    _refused(invoke(*base, *flags), name)


YAML_CASES = [
    ("lr: yes\n", "--lr (lr)", "boolean"),
    ("batch_size: true\n", "--batch-size (batch_size)", "boolean"),
    ("image_size: [32, 40, 3]\n", "--image-size (image_size)", "HxW"),
    ("image_size: [32, -40]\n", "--image-size (image_size)", "HxW"),
    ("lr: .nan\n", "--lr (lr)", "finite"),
    ("max_epochs: 0\n", "--max-epochs (max_epochs)", ">= 1"),
    ("feature_dim: 2.5\n", "feature_dim", "2.5"),
]


@pytest.mark.parametrize(("text", "name", "detail"), YAML_CASES, ids=[c[0].strip() for c in YAML_CASES])
def test_bad_yaml_values_are_refused_like_flags(base, tmp_path, text, name, detail):
    config = tmp_path / "config.yaml"
    config.write_text(text)
    _refused(invoke(*base, "--config", config), name, detail)


def test_non_utf8_config_names_the_file(base, tmp_path):
    config = tmp_path / "latin1.yaml"
    config.write_bytes("out: caf\xe9\n".encode("latin-1"))
    _refused(invoke(*base, "--config", config), "latin1.yaml:1", "not UTF-8")


def test_out_and_cache_dir_naming_a_file_are_refused(base, tmp_path):
    a_file = tmp_path / "a_file"
    a_file.write_text("x")
    _refused(invoke(*base, "--out", a_file), "--out", "a folder")
    _refused(invoke(*base, "--cache-dir", a_file), "--cache-dir", "a folder")


def test_weights_must_exist_and_are_refused_with_no_pretrained(base, tmp_path):
    """Decision: a missing --weights file is refused always; an existing one with --no-pretrained is refused too
    (it would be ignored), rather than silently honoured or dropped."""
    _refused(invoke(*base, "--weights", tmp_path / "missing.pth"), "--weights", "existing file")
    weights = tmp_path / "w.pth"
    torch.save({}, weights)
    _refused(invoke(*base, "--weights", weights), "--weights", "--no-pretrained")


@pytest.mark.skipif(torch.cuda.is_available() or torch.backends.mps.is_available(), reason="this machine has a GPU")
def test_gpu_accelerator_without_a_gpu_is_refused(base):
    _refused(invoke(*base, "--accelerator", "gpu"), "--accelerator", "gpu")


@pytest.mark.parametrize(("task", "flags", "name"), [
    ("relpose", ["--hidden", "256,0"], "--hidden"),
    ("relpose", ["--output-scale", "0"], "--output-scale"),
    ("relpose", ["--ssim-weight", "1.5"], "--ssim-weight"),
    ("relpose", ["--photometric-levels", "0"], "--photometric-levels"),
    ("relpose", ["--depth-encoder", "missing.safetensors"], "--depth-encoder"),
    ("depth", ["--silog-lambda", "2"], "--silog-lambda"),
    ("depth", ["--min-depth", "0"], "--min-depth"),
    ("depth", ["--batch-size", "0"], "--batch-size"),
])
def test_other_tasks_share_the_checks(tmp_path, task, flags, name):
    base = ["train", task, "--dataset", "frames", "--data", str(tmp_path), "--out", str(tmp_path / "run"), "--no-pretrained"]
    _refused(invoke(*base, "--image-size", "64x64", *flags), name)


@pytest.fixture
def untrained_posenet(tmp_path):
    """An exported, untrained PoseNet (tiny head, random backbone)."""
    from posekit.training.checkpoints import export_model
    from posekit.training.config import config_to_dict
    from posekit.training.posenet import KIND, PoseNetModule, PoseNetTrainConfig

    config = PoseNetTrainConfig(pretrained=False, feature_dim=8, image_size=(32, 32))
    module = PoseNetModule(config_to_dict(config), {"mean": [0.0] * 3, "std": [1.0] * 3, "count": 1, "source": "test"})
    path = tmp_path / "model.safetensors"
    export_model(path, KIND, module.state_dict(), {k: v for k, v in module.hparams.items() if k != "posekit_kind"})
    return path


def test_eval_refuses_a_bogus_held_out_split_and_policy(tmp_path, untrained_posenet):
    data = require_real_data("kitti_odometry/seq06_frames000000-000050")
    common = ["eval", "posenet", "--model", untrained_posenet, "--dataset", "kitti", "--data", data]
    _refused(invoke(*common, "--held-out", "bogus"), "--held-out")
    _refused(invoke(*common, "--split", "bogus"), "split", "bogus")
    _refused(invoke(*common, "--batch-size", "0"), "--batch-size")
    _refused(invoke(*common, "--image-size", "32x40x50"), "--image-size")
