"""Collecting what is wrong with a dataset folder instead of stopping at the first error.

Readers and the verification pass record every problem they meet in a :class:`ProblemLog`: a malformed
line, a missing image, a pose file whose length does not match the images. Building a dataset then either
raises one :class:`posekit.errors.DatasetError` that lists them (the default), or drops the affected frames
and reports them (``skip_bad=True``); ``posekit data check`` prints them all.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from posekit.errors import DatasetError, FileFormatError
from posekit.fileio import read_text_lines

# How many problems a DatasetError message lists before "... and N more".
MAX_LISTED = 10


@dataclass(frozen=True)
class Problem:
    """One problem found in a dataset.

    Attributes:
        path: the file (or folder) at fault.
        message: what is wrong.
        line: 1-based line number in ``path``, where it applies.
        frame_key: the frame it makes unusable (``record/camera/frame``), or ``None`` when no frame record
            was produced for it (the reader already left the frames out).
    """

    path: Path
    message: str
    line: int | None = None
    frame_key: str | None = None

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}" if self.line is not None else f"{self.path}"
        return f"{where}: {self.message}"


class ProblemLog:
    """An ordered list of :class:`Problem` found while reading and verifying one dataset, and notes: facts
    worth reporting that are not errors (frames without ground truth left out, a default used)."""

    def __init__(self) -> None:
        self._problems: list[Problem] = []
        self.notes: list[str] = []

    def note(self, message: str) -> None:
        self.notes.append(message)

    def add(self, path: str | Path, message: str, line: int | None = None, frame_key: str | None = None) -> None:
        self._problems.append(Problem(Path(path), message, line, frame_key))

    def add_error(self, error: Exception, path: str | Path, frame_key: str | None = None) -> None:
        """Record a caught error; a :class:`FileFormatError` keeps its own file and line."""
        if isinstance(error, FileFormatError):
            text = str(error)
            prefix = f"{error.path}:{error.line}: " if error.line is not None else f"{error.path}: "
            self.add(error.path, text[len(prefix):] if text.startswith(prefix) else text, error.line, frame_key)
        else:
            self.add(path, str(error), None, frame_key)

    def read_lines(self, path: str | Path) -> list[str]:
        """The lines of a UTF-8 text file (:func:`posekit.fileio.read_text_lines`); a file that cannot be
        read or decoded is recorded as a problem and gives no line."""
        try:
            return read_text_lines(path)
        except FileFormatError as error:
            self.add_error(error, path)
            return []

    @property
    def bad_frame_keys(self) -> set[str]:
        return {p.frame_key for p in self._problems if p.frame_key is not None}

    def __iter__(self) -> Iterator[Problem]:
        return iter(self._problems)

    def __len__(self) -> int:
        return len(self._problems)

    def __bool__(self) -> bool:
        return bool(self._problems)

    def to_error(self, what: str) -> DatasetError:
        """One error listing the problems (the first :data:`MAX_LISTED` of them)."""
        lines = [f"{what}: {len(self)} problem(s) found (use skip_bad / --skip-bad to drop the bad frames):"]
        lines += [f"  {p}" for p in self._problems[:MAX_LISTED]]
        if len(self) > MAX_LISTED:
            lines.append(f"  ... and {len(self) - MAX_LISTED} more (run `posekit data check` to list them all)")
        return DatasetError("\n".join(lines))
