"""Run configurations: defaults < YAML < flags, unknown keys and wrong types rejected, saved config reloads."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

import click
import pytest
from click.testing import CliRunner

from posekit.errors import ConfigError, FileFormatError
from posekit.training.config import config_options, field_help, parse_image_size, resolve_config, save_config
from posekit.training.options import TrainerOptions, option


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
    image_size: tuple[int, int] = field(default=(128, 160), metadata={"help": "input size HxW"})
    hidden: tuple[int, ...] = field(default=(256, 256), metadata={"help": "widths"})


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
    assert "[default: 128x160]" in help_text and "[default: 256,256]" in help_text  # as users type them
    assert "[default: --pretrained]" in help_text and "[default: adam]" in help_text
    assert "None" not in help_text and "(128, 160)" not in help_text


@pytest.mark.parametrize("text", ["128,160", "128", "128x", "0x160", "128x160x3", "128 160", "big"])
def test_sizes_are_hxw_only(text):
    with pytest.raises(ConfigError, match="image_size: expected a size HxW"):
        parse_image_size(text)
    with pytest.raises(ConfigError, match="image_size: expected a size HxW"):
        resolve_config(ExampleConfig, None, {"image_size": text})


def test_sizes_read_height_first_and_lists_stay_comma_separated():
    assert parse_image_size(" 96X128 ") == (96, 128)
    config = resolve_config(ExampleConfig, None, {"image_size": "96x128", "hidden": "64,32,16"})
    assert config.image_size == (96, 128) and config.hidden == (64, 32, 16)


def test_a_task_config_declares_only_what_differs():
    @dataclass
    class Task(TrainerOptions):
        max_epochs: int = option(3)

    assert Task().max_epochs == 3 and TrainerOptions().max_epochs == 10
    assert field_help(Task, "max_epochs") == field_help(TrainerOptions, "max_epochs") == "epochs"
