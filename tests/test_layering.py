"""The package layout shows the architecture: a module imports only from its own level or below."""

from __future__ import annotations

import ast
from pathlib import Path

import posekit

PACKAGE_ROOT = Path(posekit.__file__).parent

# Level of each top-level part of the package (see docs/architecture.md).
LEVELS = {
    "__init__": 0,
    "errors": 0,
    "fileio": 0,
    "geometry": 0,
    "metrics": 1,
    "data": 2,
    "models": 2,
    "losses": 2,
    "baselines": 3,
    "mapping": 3,
    "training": 4,
    "viz": 4,
    "demo": 5,
    "localization": 5,
    "cli": 5,
    "__main__": 5,
}


def _part(module_path: Path) -> str:
    relative = module_path.relative_to(PACKAGE_ROOT)
    return relative.parts[0].removesuffix(".py")


def _imported_parts(module_path: Path) -> set[str]:
    tree = ast.parse(module_path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return {name.split(".")[1] for name in names if name.startswith("posekit.") and len(name.split(".")) > 1}


def test_every_part_has_a_level():
    parts = {_part(p) for p in PACKAGE_ROOT.rglob("*.py")}
    assert parts <= set(LEVELS), f"parts without a level: {parts - set(LEVELS)}"


def test_no_upward_imports():
    violations = []
    for path in sorted(PACKAGE_ROOT.rglob("*.py")):
        own = _part(path)
        for imported in _imported_parts(path):
            if LEVELS.get(imported, 99) > LEVELS[own]:
                violations.append(f"{path.relative_to(PACKAGE_ROOT)} imports posekit.{imported}")
    assert not violations, "upward imports:\n" + "\n".join(violations)
