"""Lazy start-up: ``import posekit.cli`` and ``posekit --help`` load neither torch nor Lightning, and
``eval-traj`` loads no Lightning (checked in fresh processes, through ``sys.modules``)."""

from __future__ import annotations

import json
import subprocess
import sys

from click.testing import CliRunner

from posekit.cli import COMMAND_HELP, COMMAND_MODULES, cli, command_name

HEAVY = ("torch", "lightning", "pytorch_lightning", "kornia", "cv2", "matplotlib")


def _loaded_after(code: str) -> list[str]:
    probe = f"import sys\n{code}\nimport json; print(json.dumps([m for m in {HEAVY!r} if m in sys.modules]))"
    out = subprocess.run([sys.executable, "-c", probe], check=True, capture_output=True, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_importing_the_cli_loads_no_torch_or_lightning():
    assert _loaded_after("import posekit.cli") == []


def test_help_loads_no_torch_or_lightning():
    code = "from posekit.cli import main\ntry:\n    main(['--help'])\nexcept SystemExit:\n    pass"
    assert _loaded_after(code) == []


def test_eval_traj_module_loads_torch_but_no_lightning():
    assert _loaded_after("import posekit.cli.eval_traj") == ["torch"]


def test_help_lists_every_command_with_its_line():
    out = CliRunner().invoke(cli, ["--help"])
    assert out.exit_code == 0, out.output
    for module in COMMAND_MODULES:
        assert command_name(module) in out.output
    assert COMMAND_HELP["eval-traj"][:30] in out.output


def test_every_listed_command_loads_and_has_its_name():
    for module in ("eval_traj", "traj", "res"):
        command = cli.get_command(None, command_name(module))
        assert command is not None and command.name == command_name(module)
    assert cli.get_command(None, "no-such-command") is None


def test_unknown_command_is_a_usage_error():
    out = CliRunner().invoke(cli, ["no-such-command"])
    assert out.exit_code == 2 and "No such command" in out.output
