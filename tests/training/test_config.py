"""Run configurations: defaults < YAML < flags, unknown keys and wrong types rejected, saved config reloads."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

import click
import pytest
from click.testing import CliRunner

from posekit.errors import FileFormatError
from posekit.errors import ConfigError
from posekit.training.config import config_options, resolve_config, save_config


class Optimiser(str, enum.Enum):
    ADAM = "adam"
    SGD = "sgd"


@dataclass
class ExampleConfig:
    data: str = ""
    lr: float = 1e-4
    batch_size: int = 8
    pretrained: bool = True
    optimizer: Optimiser = Optimiser.ADAM
    weights: str | None = None
    image_size: tuple[int, ...] = field(default=(128, 160), metadata={"help": "H W"})


def test_precedence_defaults_yaml_flags(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text("lr: 0.01\nbatch-size: 4\npretrained: false\noptimizer: sgd\n")
    config = resolve_config(ExampleConfig, path, {"batch_size": 2, "lr": None})
    assert config == ExampleConfig(lr=0.01, batch_size=2, pretrained=False, optimizer=Optimiser.SGD)


def test_unknown_key_and_bad_type_are_named(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text("learning_rate: 0.01\n")
    with pytest.raises(ConfigError, match="learning_rate"):
        resolve_config(ExampleConfig, path, {})
    with pytest.raises(ConfigError, match="batch_size.*'many'"):
        resolve_config(ExampleConfig, None, {"batch_size": "many"})
    with pytest.raises(ConfigError, match="optimizer"):
        resolve_config(ExampleConfig, None, {"optimizer": "lbfgs"})


def test_malformed_yaml_names_the_file(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text("lr: [0.1\n")
    with pytest.raises(FileFormatError, match="bad.yaml"):
        resolve_config(ExampleConfig, path, {})
    path.write_text("- 1\n- 2\n")
    with pytest.raises(FileFormatError, match="mapping"):
        resolve_config(ExampleConfig, path, {})


def test_saved_config_reloads_identically(tmp_path):
    config = ExampleConfig(lr=0.5, optimizer=Optimiser.SGD, weights="w.pt", image_size=(64, 80))
    save_config(config, tmp_path / "run" / "config.yaml")
    assert resolve_config(ExampleConfig, tmp_path / "run" / "config.yaml", {}) == config


def test_every_field_is_a_flag(tmp_path):
    seen = {}

    @click.command()
    @config_options(ExampleConfig)
    def run(config_path, **values):
        seen["config"] = resolve_config(ExampleConfig, config_path, values)

    (tmp_path / "c.yaml").write_text("lr: 0.02\n")
    result = CliRunner().invoke(run, ["--config", str(tmp_path / "c.yaml"), "--batch-size", "3", "--no-pretrained", "--optimizer", "sgd", "--image-size", "64x80"])
    assert result.exit_code == 0, result.output
    assert seen["config"] == ExampleConfig(lr=0.02, batch_size=3, pretrained=False, optimizer=Optimiser.SGD, image_size=(64, 80))
    help_text = CliRunner().invoke(run, ["--help"]).output
    for flag in ("--data", "--lr", "--batch-size", "--pretrained / --no-pretrained", "--optimizer", "--weights", "--image-size"):
        assert flag in help_text
