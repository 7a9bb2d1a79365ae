"""Checkpoints: written atomically, loaded without unpickling code, checked against the model they are for.

Two files per trained model:

- Lightning checkpoints (``checkpoints/best.ckpt``, ``checkpoints/last.ckpt``) for ``--resume``: written through
  :class:`AtomicCheckpointIO` (a temporary file moved into place, so a crash never leaves a truncated
  checkpoint) and read back with ``torch.load(weights_only=True)``.
- An exported model (``model.safetensors``): the weights plus JSON metadata (the model kind, its
  configuration, the pose normalisation), the file ``posekit eval`` reads. safetensors never executes code.

Either kind of file from another model (a PoseNet checkpoint given to the relative-pose evaluator), a corrupt
file or a pickle holding code raises :class:`posekit.errors.CheckpointError` naming the file and what was
expected; :func:`check_checkpoint` is the one check of ``.ckpt`` files, for ``--resume`` and ``posekit eval``.
A stale temporary file of a killed write is removed by the next successful write of the same checkpoint
(:func:`posekit.fileio.remove_stale_temporaries`).
"""

from __future__ import annotations

import json
import pickle
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from lightning.fabric.plugins.io.torch_io import TorchCheckpointIO

from posekit.errors import CheckpointError
from posekit.fileio import atomic_save, atomic_write_bytes

KIND_KEY = "posekit_kind"
FORMAT_VERSION = "1"


class AtomicCheckpointIO(TorchCheckpointIO):
    """Lightning checkpoint IO that writes each checkpoint to a temporary file and moves it into place."""

    def save_checkpoint(self, checkpoint: dict[str, Any], path, storage_options: Any | None = None) -> None:
        if storage_options is not None:
            raise TypeError(f"{type(self).__name__} does not take storage_options, got {storage_options!r}")
        atomic_save(path, lambda handle: torch.save(checkpoint, handle))


@dataclass
class ExportedModel:
    """An exported model: its kind, weights and metadata (configuration, pose statistics, ...)."""

    kind: str
    state_dict: dict[str, torch.Tensor]
    metadata: dict[str, Any]


def export_model(path: str | Path, kind: str, state_dict: dict[str, torch.Tensor], metadata: dict[str, Any]) -> None:
    """Write ``state_dict`` and JSON-serialisable ``metadata`` to a safetensors file, atomically."""
    from safetensors.torch import save

    tensors = {name: tensor.detach().cpu().contiguous() for name, tensor in state_dict.items()}
    header = {KIND_KEY: kind, "format_version": FORMAT_VERSION, "metadata": json.dumps(metadata)}
    atomic_write_bytes(path, save(tensors, metadata=header))


def load_exported_model(path: str | Path, expected_kind: str) -> ExportedModel:
    """Read a file written by :func:`export_model`; raise :class:`CheckpointError` if corrupt or of another kind."""
    from safetensors import SafetensorError
    from safetensors.torch import load

    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as error:
        raise CheckpointError(f"{path}: cannot read the model file ({error.strerror})") from error
    try:
        tensors = load(data)
        header = _safetensors_header(data)
    except (SafetensorError, ValueError, json.JSONDecodeError) as error:
        raise CheckpointError(f"{path}: not a valid safetensors model file ({error})") from error
    kind = header.get(KIND_KEY)
    if kind != expected_kind:
        found = f"a {kind!r} model" if kind else "no posekit model"
        raise CheckpointError(f"{path}: expected a {expected_kind!r} model, found {found}")
    return ExportedModel(kind, tensors, json.loads(header.get("metadata", "{}")))


def _safetensors_header(data: bytes) -> dict[str, str]:
    """The ``__metadata__`` entry of a safetensors file's JSON header."""
    if len(data) < 8:
        raise ValueError("file too short")
    size = int.from_bytes(data[:8], "little")
    return json.loads(data[8 : 8 + size]).get("__metadata__", {})


def load_lightning_checkpoint(path: str | Path, expected_kind: str) -> dict[str, Any]:
    """Load a Lightning checkpoint with ``weights_only=True`` and check it was written for ``expected_kind``
    (:func:`check_checkpoint`)."""
    return check_checkpoint(path, expected_kind)


def check_checkpoint(path: str | Path, expected_kind: str | None = None, module: torch.nn.Module | None = None) -> dict[str, Any]:
    """The one check of a Lightning checkpoint, shared by ``--resume`` and ``posekit eval``: the file is read with
    ``weights_only=True`` (a pickle holding code is refused, never run), must be a Lightning checkpoint of a
    posekit model of ``expected_kind`` (any kind when ``None``) and, given ``module``, hold exactly its weights
    (names and shapes). Returns the checkpoint.

    Raises:
        CheckpointError: one line naming the file and the defect.
    """
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"{path}: checkpoint not found")
    try:
        checkpoint = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as error:
        found = re.search(r"Unsupported global: GLOBAL (\S+)", str(error))
        if found:  # torch's weights-only unpickler met a reference to code
            detail = f"it refers to Python code ({found.group(1)}); refused, loading it would run code"
        else:
            detail = "not a readable checkpoint (corrupt or not a torch file)"
        raise CheckpointError(f"{path}: {detail}") from error
    except Exception as error:  # torch raises many types for corrupt files (RuntimeError, EOFError, ...)
        first = (str(error).strip().splitlines() or [""])[0]
        raise CheckpointError(f"{path}: not a readable checkpoint ({type(error).__name__}: {first})") from error
    if not isinstance(checkpoint, dict) or not isinstance(checkpoint.get("state_dict"), dict):
        raise CheckpointError(f"{path}: not a Lightning checkpoint (no state_dict)")
    hyper_parameters = checkpoint.get("hyper_parameters")
    kind = hyper_parameters.get(KIND_KEY) if isinstance(hyper_parameters, dict) else None
    if expected_kind is not None and kind != expected_kind:
        found = f"a {kind!r} model" if kind else "no posekit model"
        raise CheckpointError(f"{path}: expected a {expected_kind!r} checkpoint, found {found}")
    if module is not None:
        _check_weights_fit(path, checkpoint["state_dict"], module.state_dict())
    return checkpoint


def _check_weights_fit(path: Path, saved: dict[str, Any], expected: dict[str, torch.Tensor]) -> None:
    missing = sorted(set(expected) - set(saved))
    unexpected = sorted(set(saved) - set(expected))
    if missing or unexpected:
        example = (f"missing {missing[0]}" if missing else f"unexpected {unexpected[0]}")
        raise CheckpointError(f"{path}: the weights do not fit this network ({len(missing)} missing, "
                              f"{len(unexpected)} unexpected, e.g. {example}); was it trained with other options?")
    for name, tensor in expected.items():
        value = saved[name]
        if not torch.is_tensor(value) or tuple(value.shape) != tuple(tensor.shape):
            shape = tuple(value.shape) if torch.is_tensor(value) else type(value).__name__
            raise CheckpointError(f"{path}: weight {name} has shape {shape}, this network's is {tuple(tensor.shape)} "
                                  "(trained with other options?)")


def load_model_file(path: str | Path, expected_kind: str) -> ExportedModel:
    """Load either an exported ``.safetensors`` model or a Lightning ``.ckpt`` as an :class:`ExportedModel`.

    For a Lightning checkpoint the weights are the LightningModule's state dict and the hyper-parameters
    (without the kind) are the metadata, as in the exported file.
    """
    path = Path(path)
    if path.suffix == ".safetensors":
        return load_exported_model(path, expected_kind)
    checkpoint = load_lightning_checkpoint(path, expected_kind)
    metadata = {k: v for k, v in checkpoint["hyper_parameters"].items() if k != KIND_KEY}
    return ExportedModel(expected_kind, checkpoint["state_dict"], metadata)
