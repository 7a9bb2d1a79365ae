"""``posekit eval``: shared options (``--model`` with its old name, ``--split``, ``HxW`` sizes) and the
``eval traj`` alias of ``eval-traj``."""

from __future__ import annotations

import torch

from posekit.geometry import translation_axis_angle_to_matrix
from posekit.metrics.trajectory import Trajectory
from posekit.metrics.trajectory_files import write_tum
from tests.conftest import invoke


def _trajectory(noise: float, seed: int) -> Trajectory:
    generator = torch.Generator().manual_seed(seed)
    xi = torch.zeros(20, 6, dtype=torch.float64)
    xi[:, 0] = torch.linspace(0, 2, 20, dtype=torch.float64)
    xi += noise * torch.randn(20, 6, generator=generator, dtype=torch.float64)
    return Trajectory(translation_axis_angle_to_matrix(xi), torch.arange(20, dtype=torch.float64))


def test_eval_traj_is_the_eval_traj_command(tmp_path):
    write_tum(tmp_path / "gt.tum", _trajectory(0.0, 0))
    write_tum(tmp_path / "est.tum", _trajectory(0.01, 1))
    alias = invoke("eval", "traj", tmp_path / "gt.tum", tmp_path / "est.tum")
    command = invoke("eval-traj", tmp_path / "gt.tum", tmp_path / "est.tum")
    assert alias.exit_code == 0, alias.output
    assert alias.output == command.output


def test_model_is_required_and_checkpoint_is_its_deprecated_name(tmp_path):
    missing = invoke("eval", "posenet", "--dataset", "frames", "--data", tmp_path)
    assert missing.exit_code == 2 and "Missing option '--model'" in missing.output
    not_a_model = tmp_path / "notes.safetensors"
    not_a_model.write_bytes(b"not a model")
    old_name = invoke("eval", "posenet", "--checkpoint", not_a_model, "--dataset", "frames", "--data", tmp_path)
    assert old_name.exit_code == 2
    assert "--checkpoint is deprecated; use --model" in old_name.output and "notes.safetensors" in old_name.output
    assert "--checkpoint" not in invoke("eval", "posenet", "--help").output


def test_sizes_are_hxw_and_split_is_the_policy(tmp_path):
    comma = invoke("eval", "relpose", "--dataset", "frames", "--data", tmp_path, "--image-size", "128,160")
    assert comma.exit_code == 2 and "--image-size: expected a size HxW" in comma.output
    help_text = invoke("eval", "relpose", "--help").output
    assert "--split TEXT" in help_text and "split policy" in help_text and "--split-policy" not in help_text
    train_help = invoke("train", "relpose", "--help").output
    assert "--split TEXT" in train_help and "--image-size HxW" in train_help
