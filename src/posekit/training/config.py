"""Run configurations: dataclasses that load from YAML, take every field as a CLI flag, and save resolved.

Precedence, lowest first: the dataclass defaults, the YAML file (``--config FILE``), the command-line flags.
The resolved configuration is written into the run folder (``config.yaml``) so a run can be repeated exactly.

**Validation in one place.** A field declares its constraints as metadata (``option(8, "help", check=POSITIVE)``
in :mod:`posekit.training.options`): :func:`resolve_config` checks every value it resolves, so a CLI flag, a
YAML key and a configuration saved in a model file get the same checks and the same one-line
:class:`ConfigError` naming the option. Booleans are never read as numbers (YAML ``batch_size: true``,
``lr: yes``) and float options are always finite. Checks of the machine a run is about to use (a file that
must exist, a folder that must not be a file, an available accelerator) are ``host_check`` metadata, run by
:func:`check_host` when training starts, not when a saved configuration is read back elsewhere.

Example:
    >>> from dataclasses import dataclass
    >>> @dataclass
    ... class Demo:
    ...     lr: float = 1e-3
    ...     pretrained: bool = True
    >>> resolve_config(Demo, None, {"lr": 0.01})
    Demo(lr=0.01, pretrained=True)
"""

from __future__ import annotations

import dataclasses
import enum
import math
import re
import types
import typing
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, TypeVar

import click
import yaml

from posekit.errors import ConfigError, FileFormatError
from posekit.fileio import atomic_write_text, read_text

ConfigT = TypeVar("ConfigT")


def _field_type(cls: type, field: dataclasses.Field) -> Any:
    hints = typing.get_type_hints(cls)
    return hints[field.name]


def _unwrap_optional(tp: Any) -> tuple[Any, bool]:
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(tp) if a is not type(None)]
        if len(args) == 1:
            return args[0], True
    return tp, False


IMAGE_SIZE_HELP = "HxW, e.g. 128x160"
_IMAGE_SIZE = re.compile(r"\s*(\d+)\s*[xX]\s*(\d+)\s*")


def parse_image_size(text: str, name: str = "image_size") -> tuple[int, int]:
    """``"HxW"`` (height first, e.g. ``"128x160"``) -> ``(H, W)``: the one size grammar of every option.

    Raises:
        ConfigError: anything else (``"128,160"``, ``"128"``, a zero side), naming ``name``.

    Example:
        >>> parse_image_size("128x160")
        (128, 160)
    """
    match = _IMAGE_SIZE.fullmatch(str(text))
    if match is None or min(int(v) for v in match.groups()) <= 0:
        raise ConfigError(f"{name}: expected a size HxW with positive sides (e.g. 128x160), got {text!r}")
    return int(match.group(1)), int(match.group(2))


def format_image_size(size) -> str:
    """``(128, 160)`` -> ``"128x160"`` (as :func:`parse_image_size` reads it)."""
    height, width = size
    return f"{int(height)}x{int(width)}"


class ImageSizeParam(click.ParamType):
    """A click parameter read by :func:`parse_image_size`: every size option of the CLI is ``HxW``."""

    name = "HxW"

    def get_metavar(self, *args, **kwargs) -> str:
        return "HxW"

    def convert(self, value, param, ctx):
        """``(H, W)``; a bad value raises :class:`ConfigError` (one line, exit code 2 from the CLI)."""
        if isinstance(value, tuple):
            return value
        return parse_image_size(value, param.opts[0] if param is not None else "size")


IMAGE_SIZE = ImageSizeParam()


def _is_image_size(tp: Any) -> bool:
    return typing.get_origin(tp) is tuple and typing.get_args(tp) == (int, int)


def field_help(cls: type, name: str) -> str:
    """The help text of field ``name``: its own, else that of the nearest base class declaring it (a task
    configuration overriding a shared option's default keeps its help)."""
    for klass in cls.__mro__:
        field = getattr(klass, "__dataclass_fields__", {}).get(name)
        if field is not None and "help" in field.metadata:
            return field.metadata["help"]
    return ""


def _coerce(name: str, tp: Any, value: Any) -> Any:
    """Convert a YAML or CLI value to the field's type, or raise :class:`ConfigError`."""
    base, optional = _unwrap_optional(tp)
    if value is None:
        if optional:
            return None
        raise ConfigError(f"config field {name!r} may not be empty")
    try:
        if isinstance(base, type) and issubclass(base, enum.Enum):
            return value if isinstance(value, base) else base(value)
        if base is bool:
            if isinstance(value, bool):
                return value
            if isinstance(value, str) and value.lower() in ("true", "yes", "1", "false", "no", "0"):
                return value.lower() in ("true", "yes", "1")
            raise ValueError(value)
        if base in (int, float, str):
            if base in (int, float) and isinstance(value, bool):
                raise ConfigError(f"{option_name(name)}: expected a number, got the boolean {value!r} "
                                  "(YAML reads yes/no/true/false/on/off as booleans)")
            if base is int and isinstance(value, float) and not value.is_integer():
                raise ValueError(value)
            converted = base(value)
            if base is float and not math.isfinite(converted):
                raise ConfigError(f"{option_name(name)}: expected a finite number, got {value!r}")
            return converted
        if _is_image_size(base) and isinstance(value, str):  # "128x160" on the command line
            return parse_image_size(value, name)
        if typing.get_origin(base) in (tuple, list):
            (item,) = set(typing.get_args(base)) - {Ellipsis}
            if isinstance(value, str):  # "256,256" on the command line
                value = [v for v in value.split(",") if v.strip()]
            values = typing.get_origin(base)(_coerce(name, item, v) for v in value)
            if _is_image_size(base) and (len(values) != 2 or min(values) <= 0):
                raise ConfigError(f"{option_name(name)}: expected a size HxW with positive sides (e.g. 128x160 "
                                  f"or [128, 160]), got {value!r}")
            return values
    except ConfigError:
        raise
    except (ValueError, TypeError) as error:
        raise ConfigError(f"config field {name!r}: cannot read {value!r} as {getattr(base, '__name__', base)}") from error
    return value


def option_name(name: str) -> str:
    """How messages name a field: its flag and its YAML key, ``--batch-size (batch_size)``."""
    return f"--{name.replace('_', '-')} ({name})"


class Check:
    """A constraint on an option's value, declared as field metadata (``check=`` / ``host_check=``).

    Args:
        test: ``value -> bool`` (True: valid).
        expects: what a valid value is, for the message (``"an integer >= 1"``).
    """

    def __init__(self, test: Callable[[Any], bool], expects: str):
        self.test = test
        self.expects = expects

    def __call__(self, name: str, value: Any) -> None:
        """Raise :class:`ConfigError` naming the option if ``value`` fails the test (``None`` always passes)."""
        if value is not None and not self.test(value):
            raise ConfigError(f"{option_name(name)}: expected {self.expects}, got {_shown(value)}")

    def __repr__(self) -> str:
        return f"Check({self.expects!r})"


def _shown(value: Any) -> str:
    return repr(value.value) if isinstance(value, enum.Enum) else repr(value)


def at_least(low: float) -> Check:
    """Values ``>= low``."""
    return Check(lambda v: v >= low, f"a value >= {low}")


def in_range(low: float, high: float, *, high_open: bool = False) -> Check:
    """Values in ``[low, high]`` (``[low, high)`` with ``high_open``)."""
    bracket = ")" if high_open else "]"
    return Check(lambda v: low <= v and (v < high if high_open else v <= high), f"a value in [{low}, {high}{bracket}")


def each(check: Check) -> Check:
    """Every item of a tuple or list passes ``check``."""
    return Check(lambda values: all(check.test(v) for v in values), f"items that are each {check.expects}")


POSITIVE = Check(lambda v: v > 0, "a value > 0")
NON_NEGATIVE = Check(lambda v: v >= 0, "a value >= 0")
AT_LEAST_ONE = at_least(1)
UNLIMITED_OR_POSITIVE = Check(lambda v: v == -1 or v >= 1, "-1 (no limit) or a value >= 1")


def folder_or_absent(path: Any) -> bool:
    """A path that is not an existing non-folder (a run or cache folder to create or reuse)."""
    return not (Path(path).exists() and not Path(path).is_dir())


def existing_file(path: Any) -> bool:
    """A path naming an existing file."""
    return Path(path).is_file()


FOLDER = Check(folder_or_absent, "a folder (this path names a file)")
EXISTING_FILE = Check(existing_file, "an existing file")


def check_values(config: Any) -> None:
    """Run the ``check`` metadata of every field of ``config`` (what :func:`resolve_config` does).

    Raises:
        ConfigError: the first failing option, named.
    """
    _check_fields(type(config), {f.name: getattr(config, f.name) for f in dataclasses.fields(config)}, "check")


def check_host(config: Any) -> None:
    """Run the ``check`` and ``host_check`` metadata of every field (files that must exist, folders, devices): the
    checks of the machine a run is about to use, done when training starts.

    Raises:
        ConfigError: the first failing option, named.
    """
    check_values(config)
    _check_fields(type(config), {f.name: getattr(config, f.name) for f in dataclasses.fields(config)}, "host_check")


def _check_fields(cls: type, values: Mapping[str, Any], key: str) -> None:
    for name, value in values.items():
        checks = field_metadata(cls, name, key)
        for check in checks if isinstance(checks, (tuple, list)) else (checks,) if checks else ():
            check(name, value)


def field_metadata(cls: type, name: str, key: str) -> Any:
    """Field metadata ``key`` of field ``name`` from the nearest class declaring it (an override keeps the
    checks of the field it overrides), or ``None``."""
    for klass in cls.__mro__:
        field = getattr(klass, "__dataclass_fields__", {}).get(name)
        if field is not None and key in field.metadata:
            return field.metadata[key]
    return None


def stability_options(config: Any) -> str:
    """``lr=0.0001, feature_dim=2048, ...``: the options of ``config`` declared with ``stability=True`` (the likely
    causes of a diverging loss) and their values, for the divergence message."""
    names = [f.name for f in dataclasses.fields(config) if field_metadata(type(config), f.name, "stability")]
    values = {name: getattr(config, name) for name in names}
    return ", ".join(f"{name}={v.value if isinstance(v, enum.Enum) else v}" for name, v in values.items())


def resolve_config(cls: type[ConfigT], yaml_path: str | Path | None, overrides: Mapping[str, Any]) -> ConfigT:
    """Build a ``cls`` instance from its defaults, a YAML file and overrides (``None`` values are ignored), and
    check every value against its field's ``check`` metadata.

    Raises:
        FileFormatError: the YAML file is unreadable, not UTF-8 or not a mapping.
        ConfigError: an unknown key, a value of the wrong type or out of its range, naming the option.
    """
    values: dict[str, Any] = {}
    if yaml_path is not None:
        path = Path(yaml_path)
        try:
            loaded = yaml.safe_load(read_text(path)) or {}
        except yaml.YAMLError as error:
            message = " ".join(str(error).split())
            raise FileFormatError(path, f"cannot read the YAML configuration: {message}") from error
        if not isinstance(loaded, dict):
            raise FileFormatError(path, "the configuration must be a mapping of option names to values")
        values.update({str(k).replace("-", "_"): v for k, v in loaded.items()})
    values.update({k: v for k, v in overrides.items() if v is not None})
    fields = {f.name: f for f in dataclasses.fields(cls)}
    unknown = sorted(set(values) - set(fields))
    if unknown:
        raise ConfigError(f"unknown configuration option(s) for {cls.__name__}: {', '.join(unknown)}")
    resolved = {name: _coerce(name, _field_type(cls, fields[name]), value) for name, value in values.items()}
    _check_fields(cls, resolved, "check")  # each value first, then the class's checks of combinations
    return cls(**resolved)


def config_to_dict(config: Any) -> dict[str, Any]:
    """Plain-YAML dictionary of a configuration (enums become their values, tuples lists)."""

    def plain(value: Any) -> Any:
        if isinstance(value, enum.Enum):
            return value.value
        if isinstance(value, (tuple, list)):
            return [plain(v) for v in value]
        if isinstance(value, Path):
            return str(value)
        return value

    return {f.name: plain(getattr(config, f.name)) for f in dataclasses.fields(config)}


def save_config(config: Any, path: str | Path) -> None:
    """Write the resolved configuration as YAML, atomically."""
    atomic_write_text(path, yaml.safe_dump(config_to_dict(config), sort_keys=False))


def _as_typed(tp: Any, flag: str, default: Any) -> str:
    """A default as a user types it: ``128x160``, ``256,256``, ``adam``, ``--no-augment``."""
    if tp is bool:
        return f"--{flag}" if default else f"--no-{flag}"
    if isinstance(default, enum.Enum):
        return str(default.value)
    if _is_image_size(tp):
        return format_image_size(default)
    if isinstance(default, (tuple, list)):
        return ",".join(str(v) for v in default)
    return str(default)


def config_options(cls: type) -> Callable[[Callable], Callable]:
    """Click decorator: ``--config FILE`` plus one ``--field-name`` flag per dataclass field (default: unset).

    Boolean fields become ``--name/--no-name``; enum fields a choice of their values. The decorated function
    receives ``config_path`` and one keyword per field (``None`` when not given); pass them to
    :func:`resolve_config`.
    """

    def decorate(function: Callable) -> Callable:
        for field in reversed(dataclasses.fields(cls)):
            tp, _ = _unwrap_optional(_field_type(cls, field))
            flag = field.name.replace("_", "-")
            default = field.default if field.default is not dataclasses.MISSING else None
            help_text = field_help(cls, field.name)
            if default not in (None, ""):
                help_text = f"{help_text} [default: {_as_typed(tp, flag, default)}]".strip()
            if tp is bool:
                option = click.option(f"--{flag}/--no-{flag}", field.name, default=None, help=help_text)
            elif isinstance(tp, type) and issubclass(tp, enum.Enum):
                option = click.option(f"--{flag}", field.name, type=click.Choice([m.value for m in tp]), default=None, help=help_text)
            elif _is_image_size(tp):
                option = click.option(f"--{flag}", field.name, type=IMAGE_SIZE, default=None, help=help_text)
            elif tp in (int, float):
                option = click.option(f"--{flag}", field.name, type=tp, default=None, help=help_text)
            else:
                option = click.option(f"--{flag}", field.name, type=str, default=None, help=help_text)
            function = option(function)
        return click.option("--config", "config_path", type=click.Path(exists=True, dir_okay=False), default=None,
                            help="YAML file of options; flags given on the command line override it.")(function)

    return decorate
