"""One installed namespace: ``mastbench`` is the only top-level package (issue: method protocol).

``problems/`` and ``theory/`` sit at the top of the repository but are installed as
``mastbench.problems`` and ``mastbench.theory``; a user's own ``theory/`` or ``problems.py``
next to a script must not shadow them.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

_PROBE = """
import json, sys
import mastbench
from mastbench import theory
from mastbench.verify import verify
for family in theory.families():
    thm = theory.all(family)[0]
    verify(thm, thm.instances(True)[0])
print(json.dumps(sorted(m for m in sys.modules if m.split(".")[0] in ("problems", "theory"))))
"""


def test_a_users_own_theory_and_problems_do_not_shadow_the_package(tmp_path):
    (tmp_path / "theory").mkdir()
    (tmp_path / "theory" / "__init__.py").write_text("raise ImportError('user theory imported')\n")
    (tmp_path / "problems.py").write_text("raise ImportError('user problems imported')\n")
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    out = subprocess.run(
        [sys.executable, "-c", _PROBE],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout.splitlines()[-1]) == []


def _package_dirs() -> dict[str, Path]:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    mapping = config["package-dir"]
    listed = config["packages"]
    dirs = {}
    for name in listed:
        parent = max((p for p in mapping if name == p or name.startswith(p + ".")), key=len)
        rest = name[len(parent) :].lstrip(".")
        dirs[name] = (
            ROOT / mapping[parent] / Path(*rest.split(".")) if rest else ROOT / mapping[parent]
        )
    return dirs


def test_every_package_folder_is_installed_under_mastbench():
    dirs = _package_dirs()
    assert all(name == "mastbench" or name.startswith("mastbench.") for name in dirs)
    on_disk = {
        init.parent.resolve()
        for top in ("mastbench", "problems", "theory")
        for init in (ROOT / top).rglob("__init__.py")
        if "__pycache__" not in init.parts
    }
    assert on_disk == {path.resolve() for path in dirs.values()}


@pytest.mark.slow
def test_the_wheel_has_one_top_level_package(tmp_path):
    pytest.importorskip("setuptools")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "-w",
            str(tmp_path),
            str(ROOT),
        ],
        check=True,
    )
    (wheel,) = tmp_path.glob("mastbench-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    tops = {n.split("/", 1)[0] for n in names if not n.split("/", 1)[0].endswith(".dist-info")}
    assert tops == {"mastbench"}
    assert "mastbench/problems/quadratic.py" in names
    assert "mastbench/theory/_core.py" in names
