"""File input and output: atomic writes, and strict reading of text files.

**Writing.** Every file posekit writes (trajectories, checkpoints, images, reports, caches) goes through the
``atomic_*`` helpers: the content is written to a temporary file ``.<name>.<pid>.<random>.tmp`` in the
destination folder, flushed to disk, then moved over the destination with :func:`os.replace`, which is
atomic on POSIX and Windows. A process killed mid-write leaves the old file (or none) under the final name
and its temporary file beside it; the next successful write of the same file removes the temporaries of
processes that no longer run.

**Reading.** Every text reader (trajectory files, split and calibration files, dataset lists) goes
through :func:`read_text_lines`: UTF-8 (a leading byte-order mark is dropped), lines ended by ``\n``,
``\r\n`` or ``\r`` only (not the form feeds, ``\x85`` or U+2028 that :meth:`str.splitlines` also
breaks on), and a :class:`~posekit.errors.FileFormatError` naming the file and line otherwise. Numbers
go through :func:`parse_number`: the grammar of C's ``strtod`` in ASCII (no ``1_000``, no fullwidth
digits, which Python's :func:`float` accepts), finite values only.
"""

from __future__ import annotations

import contextlib
import math
import os
import re
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO

from posekit.errors import FileFormatError


@contextlib.contextmanager
def atomic_open(path: str | Path, mode: str = "w", encoding: str | None = "utf-8") -> Iterator[IO]:
    """Open a temporary file beside ``path`` for writing; on success it replaces ``path`` atomically.

    Example:
        >>> with atomic_open(tmp_path / "poses.txt") as f:  # doctest: +SKIP
        ...     f.write("0 0 0 0 0 0 0 1\\n")
    """
    if "r" in mode or "a" in mode or "+" in mode:
        raise ValueError(f"atomic_open: mode must be a write mode ('w' or 'wb'), got {mode!r}")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.{os.getpid()}.", suffix=".tmp", dir=path.parent)
    try:
        os.chmod(tmp_name, 0o666 & ~_current_umask())  # mkstemp makes 0600; give the usual permissions
        with os.fdopen(fd, mode, encoding=None if "b" in mode else encoding) as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp_name, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp_name)
        raise
    remove_stale_temporaries(path)


def remove_stale_temporaries(path: str | Path) -> list[Path]:
    """Remove the temporary files that atomic writes of ``path`` left behind when their process was killed
    (``.<name>.<pid>.<random>.tmp`` whose process no longer runs). Returns the removed paths.

    Temporaries of running processes (a concurrent write of the same file) are kept.
    """
    path = Path(path)
    pattern = re.compile(re.escape(f".{path.name}.") + r"(\d+)\.[^.]+\.tmp\Z")
    removed = []
    try:
        siblings = list(path.parent.iterdir())
    except OSError:
        return removed
    for sibling in siblings:
        match = pattern.match(sibling.name)
        if match and not _process_alive(int(match.group(1))):
            with contextlib.suppress(OSError):
                sibling.unlink()
                removed.append(sibling)
    return removed


def _process_alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError, OSError):
        return True  # exists but not ours, or cannot tell: keep its file
    return True


def _current_umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def atomic_write_text(path: str | Path, text: str) -> None:
    """Write ``text`` to ``path`` atomically (UTF-8)."""
    with atomic_open(path, "w") as handle:
        handle.write(text)


def atomic_write_bytes(path: str | Path, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically."""
    with atomic_open(path, "wb") as handle:
        handle.write(data)


def atomic_save(path: str | Path, save: Callable[[IO[bytes]], None]) -> None:
    """Call ``save(handle)`` on a binary temporary file and move it over ``path`` when it returns.

    For writers that take a file object, e.g. ``atomic_save(p, lambda f: torch.save(obj, f))``.
    """
    with atomic_open(path, "wb") as handle:
        save(handle)


# ----------------------------------------------------------------------------------------------------------
# Strict text reading
# ----------------------------------------------------------------------------------------------------------

_LINE_BREAK = re.compile(r"\r\n|\r|\n")
# C strtod's grammar, ASCII only: decimal (digits with an optional point, optional exponent) or hexadecimal
# (0x digits with an optional point, optional binary exponent p).
_DECIMAL = re.compile(r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?\Z")
_HEXADECIMAL = re.compile(r"[+-]?0[xX](?:[0-9a-fA-F]+\.?[0-9a-fA-F]*|\.[0-9a-fA-F]+)(?:[pP][+-]?[0-9]+)?\Z")
_NON_FINITE = re.compile(r"[+-]?(?:inf|infinity|nan(?:\([0-9A-Za-z_]*\))?)\Z", re.IGNORECASE)
# Blanks that separate fields on a line: space and tab (not the other characters str.split() splits on).
BLANKS = " \t"


def read_text(path: str | Path) -> str:
    """The content of a UTF-8 text file (a leading byte-order mark dropped).

    Raises:
        FileFormatError: the file is missing, unreadable, or not UTF-8 (naming the line of the first bad byte).
    """
    path = Path(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise FileFormatError(path, "file not found") from None
    except IsADirectoryError:
        raise FileFormatError(path, "expected a file, found a folder") from None
    except OSError as error:
        raise FileFormatError(path, f"cannot read the file ({error.strerror or error})") from None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = len(_LINE_BREAK.findall(data[: error.start].decode("utf-8", errors="replace"))) + 1
        raise FileFormatError(
            path, f"not UTF-8 text (byte 0x{data[error.start]:02x} at offset {error.start})", line
        ) from None


def split_lines(text: str) -> list[str]:
    """``text`` split at ``\n``, ``\r\n`` and ``\r`` only; a final line break does not start a new line."""
    lines = _LINE_BREAK.split(text)
    if lines and lines[-1] == "":
        lines.pop()
    return lines


def read_text_lines(path: str | Path) -> list[str]:
    """The lines of a UTF-8 text file (see :func:`read_text` and :func:`split_lines`); line ``i`` of the
    file is element ``i - 1``."""
    return split_lines(read_text(path))


def data_lines(path: str | Path, comment: str | None = "#") -> list[tuple[int, str]]:
    """``(1-based line number, text stripped of spaces and tabs)`` of the lines of ``path`` that are not
    blank and do not start with ``comment``."""
    result = []
    for number, line in enumerate(read_text_lines(path), start=1):
        text = line.strip(BLANKS)
        if text and not (comment and text.startswith(comment)):
            result.append((number, text))
    return result


def split_fields(text: str) -> list[str]:
    """The fields of a line separated by runs of spaces and tabs."""
    return [field for field in re.split(r"[ \t]+", text.strip(BLANKS)) if field]


def is_number(token: str) -> bool:
    """Whether ``token`` is a finite number in the strict grammar of :func:`parse_number`."""
    if _DECIMAL.match(token):
        return math.isfinite(float(token))
    if _HEXADECIMAL.match(token):
        return math.isfinite(float.fromhex(token))
    return False


def parse_number(token: str, path: str | Path, line: int | None = None, what: str = "value") -> float:
    """``token`` as a finite float: C ``strtod``'s grammar in ASCII (``12``, ``-1.5e-3``, ``.5``, ``0x1p-3``).

    Raises:
        FileFormatError: naming ``path``, ``line`` and ``what``: the token is not a number in that grammar
            (``1_000``, fullwidth digits, ``1,5``), or is infinite, NaN or out of float64 range.
    """
    if _DECIMAL.match(token):
        value = float(token)
    elif _HEXADECIMAL.match(token):
        value = float.fromhex(token)
    elif _NON_FINITE.match(token):
        raise FileFormatError(path, f"{what}: non-finite value {token!r}", line)
    else:
        raise FileFormatError(path, f"{what}: {token!r} is not a number", line)
    if not math.isfinite(value):
        raise FileFormatError(path, f"{what}: {token!r} is out of the float64 range", line)
    return value
