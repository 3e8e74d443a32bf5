"""Provenance: the package's own commit (never another repository's), BLAS, source hashes."""

import importlib.metadata
import json
import shutil
import subprocess
from pathlib import Path

import pytest

from mastbench import provenance

needs_git = pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")


def git(folder, *args):
    return subprocess.run(
        ["git", *args], cwd=folder, capture_output=True, text=True, check=True
    ).stdout.strip()


@needs_git
def test_a_folder_inside_another_repository_has_no_commit_of_its_own(tmp_path):
    git(tmp_path, "init", "-q")
    git(
        tmp_path,
        "-c",
        "user.email=a@b",
        "-c",
        "user.name=a",
        "commit",
        "-q",
        "--allow-empty",
        "-m",
        "x",
    )
    inner = tmp_path / ".venv" / "lib" / "site-packages"
    inner.mkdir(parents=True)
    assert provenance._git_commit(tmp_path) == git(tmp_path, "rev-parse", "HEAD")
    assert provenance._git_commit(inner) is None


@needs_git
def test_the_commit_is_the_packages_own_checkout():
    root = Path(provenance.__file__).resolve().parent.parent
    expected = provenance._git_commit(root) or "unknown"
    assert provenance.commit() == expected


def test_a_vcs_install_records_the_commit_pip_saw(monkeypatch):
    class Distribution:
        def read_text(self, name):
            assert name == "direct_url.json"
            return json.dumps(
                {"url": "https://x/y.git", "vcs_info": {"vcs": "git", "commit_id": "abc123"}}
            )

    monkeypatch.setattr(importlib.metadata, "distribution", lambda name: Distribution())
    assert provenance._installed_commit() == "abc123"


def test_blas_names_the_library_and_its_threads():
    text = provenance.blas()
    assert "threads" in text
    assert provenance.blas() in provenance.stamp_line(provenance.stamp("cmd"))


def test_package_hash_covers_the_three_installed_packages():
    names = sorted(root.name for root in provenance.source_roots())
    assert len(names) == 3
    modules = {"mastbench", "mastbench.problems", "mastbench.theory"}
    assert {Path(__import__(m, fromlist=["x"]).__file__).resolve().parent for m in modules} == set(
        provenance.source_roots()
    )


def test_module_hash_follows_the_plugin_source(tmp_path, monkeypatch):
    monkeypatch.syspath_prepend(str(tmp_path))
    plugin = tmp_path / "hashed_plugin_module.py"
    plugin.write_text("A = 1\n")
    provenance.module_hash.cache_clear()
    first = provenance.module_hash("hashed_plugin_module")
    plugin.write_text("A = 2\n")
    provenance.module_hash.cache_clear()
    assert provenance.module_hash("hashed_plugin_module") != first
    assert provenance.source_hash(["hashed_plugin_module"]) != provenance.source_hash()
    provenance.module_hash.cache_clear()
