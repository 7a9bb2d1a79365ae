"""Run configurations: dataclasses that load from YAML, take every field as a CLI flag, and save resolved.

Precedence, lowest first: the dataclass defaults, the YAML file (``--config FILE``), the command-line flags.
The resolved configuration is written into the run folder (``config.yaml``) so a run can be repeated exactly.

Example:
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
import re
import types
import typing
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, TypeVar

import click
import yaml

from posekit.errors import ConfigError, FileFormatError
from posekit.fileio import atomic_write_text

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
            if base is int and isinstance(value, float) and not value.is_integer():
                raise ValueError(value)
            return base(value)
        if _is_image_size(base) and isinstance(value, str):  # "128x160" on the command line
            return parse_image_size(value, name)
        if typing.get_origin(base) in (tuple, list):
            (item,) = set(typing.get_args(base)) - {Ellipsis}
            if isinstance(value, str):  # "256,256" on the command line
                value = [v for v in value.split(",") if v.strip()]
            values = typing.get_origin(base)(_coerce(name, item, v) for v in value)
            if _is_image_size(base) and len(values) != 2:
                raise ConfigError(f"config field {name!r}: expected a size HxW, got {value!r}")
            return values
    except ConfigError:
        raise
    except (ValueError, TypeError) as error:
        raise ConfigError(f"config field {name!r}: cannot read {value!r} as {getattr(base, '__name__', base)}") from error
    return value


def resolve_config(cls: type[ConfigT], yaml_path: str | Path | None, overrides: Mapping[str, Any]) -> ConfigT:
    """Build a ``cls`` instance from its defaults, a YAML file and overrides (``None`` values are ignored).

    Raises:
        FileFormatError: the YAML file is unreadable or not a mapping.
        ConfigError: an unknown key or a value of the wrong type.
    """
    values: dict[str, Any] = {}
    if yaml_path is not None:
        path = Path(yaml_path)
        try:
            loaded = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        except (OSError, yaml.YAMLError) as error:
            raise FileFormatError(path, f"cannot read the YAML configuration: {error}") from error
        if not isinstance(loaded, dict):
            raise FileFormatError(path, "the configuration must be a mapping of option names to values")
        values.update({str(k).replace("-", "_"): v for k, v in loaded.items()})
    values.update({k: v for k, v in overrides.items() if v is not None})
    fields = {f.name: f for f in dataclasses.fields(cls)}
    unknown = sorted(set(values) - set(fields))
    if unknown:
        raise ConfigError(f"unknown configuration option(s) for {cls.__name__}: {', '.join(unknown)}")
    return cls(**{name: _coerce(name, _field_type(cls, fields[name]), value) for name, value in values.items()})


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
