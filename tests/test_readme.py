"""Every command the README shows in a ``bash`` block runs as written and exits 0.

The commands run in order in one scratch folder (``mastbench clean results/`` empties the
store the ``run`` before it filled), with this environment's ``mastbench`` on the path.  The
install commands run in a scratch copy of the repository, each in its own fresh virtual
environment; they, and the long jobs, are in the slow tier.
"""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

#: Commands of the slow tier (installs, whole-suite jobs, asv), by what they start with.
SLOW = (
    "python3 -m venv",
    "mastbench verify --quick",
    "mastbench report",
    "mastbench bench",
    "mastbench power",
)


#: LIBSVM data sets a command reads from ``$MASTBENCH_DATA`` (skipped where it is absent).
LIBSVM_SETS = ("a1a", "a5a", "a9a", "mushrooms", "w8a")


def _missing_data(command: str) -> str | None:
    data = Path(os.environ.get("MASTBENCH_DATA") or "/nonexistent")
    for name in LIBSVM_SETS:
        if re.search(rf":{name}\b", command) and not any(
            (data / f).is_file() for f in (name, f"{name}.gz")
        ):
            return name
    return None


def readme_commands() -> list[str]:
    """The commands of the README's bash blocks, one per line, without trailing comments."""
    text = (ROOT / "README.md").read_text()
    commands = []
    for block in re.findall(r"^```bash\n(.*?)^```", text, flags=re.S | re.M):
        for line in block.splitlines():
            command = re.sub(r"\s+#.*$", "", line).strip()
            if command:
                commands.append(command)
    return commands


def _param(command: str):
    marks = [pytest.mark.slow] if command.startswith(SLOW) else []
    return pytest.param(command, marks=marks, id=command[:60])


@pytest.fixture(scope="module")
def scratch(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("readme")


def _environment(with_this_venv: bool) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    if with_this_venv:
        env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    return env


def _copy_of_the_repository(target: Path) -> Path:
    listed = subprocess.run(
        ["git", "ls-files", "-co", "--exclude-standard"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    for name in listed:
        source = ROOT / name
        if source.is_file():
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / name)
    return target


def test_the_readme_shows_the_main_job_first():
    commands = readme_commands()
    assert commands[0] == (
        "python3 -m venv .venv && . .venv/bin/activate && pip install . && mastbench verify --quick"
    )
    assert 'pip install -e ".[test]"' in commands[1] and commands[1].endswith("python -m pytest")


@pytest.mark.parametrize("command", [_param(c) for c in readme_commands()])
def test_readme_command_runs(command, scratch, tmp_path):
    installs = "pip install" in command
    if installs:
        if shutil.which("git") is None:
            pytest.skip("copying the repository needs git")
        cwd = _copy_of_the_repository(tmp_path / "mastbench")
    elif "examples." in command:
        cwd = ROOT  # the README runs the example plugin from the repository's root
    else:
        cwd = scratch
    if command.startswith("mastbench bench") and importlib.util.find_spec("asv") is None:
        pytest.skip("asv is not installed (the bench extra)")
    if _missing_data(command):
        pytest.skip(f"{_missing_data(command)} is not in $MASTBENCH_DATA")
    result = subprocess.run(
        ["bash", "-e", "-o", "pipefail", "-c", command],
        cwd=cwd,
        env=_environment(with_this_venv=not installs),
        capture_output=True,
        text=True,
        timeout=3600,
    )
    assert result.returncode == 0, f"{command}\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
