"""The typed exceptions of posekit.

Every error posekit raises on bad input derives from :class:`PosekitError`; the command line catches that
one class and turns it into a one-line message with exit code 2. Errors about bad values also derive from
``ValueError`` so that callers who do not know posekit can still catch them in the usual way.
"""

from __future__ import annotations

from pathlib import Path


class PosekitError(Exception):
    """Base class of every error posekit raises on bad input."""


class ShapeError(PosekitError, ValueError):
    """A tensor has the wrong shape or dtype. The message names the expected and the actual shape."""


class RotationError(PosekitError, ValueError):
    """A rotation is not valid: not proper (det != +1), not orthonormal, a zero or non-finite quaternion."""


class FileFormatError(PosekitError, ValueError):
    """A file does not follow its format. The message names the file and, where known, the line."""

    def __init__(self, path: str | Path, message: str, line: int | None = None):
        self.path = Path(path)
        self.line = line
        where = f"{self.path}:{line}" if line is not None else f"{self.path}"
        super().__init__(f"{where}: {message}")


class ConfigError(PosekitError, ValueError):
    """An option is invalid: an unknown name, a value of the wrong type, a combination that cannot work. The
    message names the option, its value and, where there are few, the choices."""


class TrajectoryError(PosekitError, ValueError):
    """Two trajectories cannot be compared (no common timestamps, too few poses, mismatched lengths)."""


class DatasetError(PosekitError, ValueError):
    """A dataset folder is not what its format expects (missing files, mismatched counts, bad images)."""


class CheckpointError(PosekitError, ValueError):
    """A checkpoint is corrupt or was written for another model."""


class RenderError(PosekitError, RuntimeError):
    """The renderer cannot run (for example no headless OpenGL backend); the message says what to install."""
