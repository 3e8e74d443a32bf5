"""Where a result or an artifact comes from: command, package version, commit, machine.

Every file the report writes is stamped with :func:`stamp`; every row of the results store
carries :func:`versions` and :func:`commit`.  Nothing here depends on the time of day except
the ``date`` entry of :func:`stamp`, so masking that one entry makes two runs comparable.
"""

from __future__ import annotations

import datetime
import hashlib
import importlib.metadata
import importlib.util
import json
import platform
import shlex
import subprocess
import sys
from collections.abc import Sequence
from functools import cache
from pathlib import Path

__all__ = [
    "blas",
    "command_line",
    "commit",
    "machine",
    "module_hash",
    "package_hash",
    "source_hash",
    "source_roots",
    "stamp",
    "stamp_line",
    "versions",
]

_VERSIONED = ("numpy", "scipy", "array-api-compat", "cupy", "pyarrow", "matplotlib")


def _git_commit(folder: Path) -> str | None:
    """HEAD of the git checkout whose top folder is ``folder`` (not of a repository that
    merely contains it), or ``None``."""
    try:
        out = subprocess.run(
            ["git", "rev-parse", "--show-toplevel", "HEAD"],
            cwd=folder,
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    lines = out.stdout.split()
    if out.returncode != 0 or len(lines) != 2 or Path(lines[0]).resolve() != folder.resolve():
        return None
    return lines[1]


def _installed_commit() -> str | None:
    """The commit pip recorded when mastbench was installed from a VCS URL (PEP 610)."""
    try:
        text = importlib.metadata.distribution("mastbench").read_text("direct_url.json")
    except importlib.metadata.PackageNotFoundError:
        return None
    info = json.loads(text) if text else {}
    return info.get("vcs_info", {}).get("commit_id")


@cache
def commit() -> str:
    """The git commit of mastbench's own code, ``"unknown"`` when it cannot be known.

    Running from a checkout (an editable install, or the source tree on the path): the HEAD
    of the checkout whose top folder holds the ``mastbench`` package, never of another
    repository around the environment (a ``.venv`` inside some other project).  Installed
    from a VCS URL: the commit pip recorded.  Installed from a folder or a wheel: unknown
    (the code's identity is then :func:`package_hash`).
    """
    package_root = Path(__file__).resolve().parent.parent
    return _git_commit(package_root) or _installed_commit() or "unknown"


@cache
def blas() -> str:
    """The BLAS library NumPy uses and its thread count, e.g. ``"openblas 0.3.27 (pthreads),
    2 threads"`` (from threadpoolctl, which scikit-learn brings; NumPy's build record
    otherwise)."""
    import numpy as np

    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        found = np.show_config(mode="dicts").get("Build Dependencies", {}).get("blas", {})
        name = found.get("name", "unknown")
        return f"{name} {found.get('version', '')}".strip() + " (threads unknown)"
    pools = [p for p in threadpool_info() if p.get("user_api") == "blas"]
    if not pools:
        return "unknown"
    return "; ".join(
        f"{p['internal_api']} {p.get('version') or ''} ({p.get('threading_layer', '?')}), "
        f"{p['num_threads']} threads".replace("  ", " ")
        for p in pools
    )


@cache
def machine() -> str:
    """The machine in words: OS, architecture, Python implementation and version."""
    return (
        f"{platform.system()} {platform.machine()}, "
        f"{platform.python_implementation()} {platform.python_version()}"
    )


@cache
def versions() -> str:
    """JSON object of the versions of mastbench and the libraries its numbers depend on."""
    from mastbench import __version__

    found = {"mastbench": __version__}
    for name in _VERSIONED:
        try:
            found[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            continue
    return json.dumps(found, sort_keys=True)


def command_line(argv: Sequence[str] | None = None) -> str:
    """The command that is running, as a shell would read it (``mastbench`` + arguments)."""
    args = list(sys.argv[1:] if argv is None else argv)
    return shlex.join(["mastbench", *args])


def stamp(command: str, *, date: bool = True) -> dict[str, str]:
    """Provenance of an artifact: command, version, commit, machine, BLAS and its threads
    (:func:`blas`), and the UTC date.

    Parameters
    ----------
    command : str
        The command that made the artifact.
    date : bool
        Include the UTC date and time (leave out for byte-identical binary artifacts).
    """
    from mastbench import __version__

    out = {
        "command": command,
        "version": __version__,
        "commit": commit(),
        "machine": machine(),
        "blas": blas(),
    }
    if date:
        out["date"] = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    return out


def stamp_line(info: dict[str, str]) -> str:
    """The stamp as one line: ``generated by `cmd` · mastbench 0.1.0 · commit … · machine``."""
    parts = [f"generated by `{info['command']}`", f"mastbench {info['version']}"]
    parts += [f"commit {info['commit']}", info["machine"]]
    if "blas" in info:
        parts.append(f"BLAS {info['blas']}")
    if "date" in info:
        parts.append(info["date"])
    return " · ".join(parts)


#: The packages whose source makes up :func:`package_hash` (problems and theory are installed
#: from their own folders, so each is walked where it lives).
_PACKAGES = ("mastbench", "mastbench.problems", "mastbench.theory")


def source_roots() -> list[Path]:
    """The folders of mastbench's installed packages (``mastbench``, ``mastbench.problems``,
    ``mastbench.theory``), wherever each lives (site-packages, or the checkout when the
    install is editable)."""
    roots: list[Path] = []
    for name in _PACKAGES:
        spec = importlib.util.find_spec(name)
        for location in (spec.submodule_search_locations or []) if spec else []:
            path = Path(location).resolve()
            if all(path != r and r not in path.parents for r in roots):
                roots.append(path)
    return roots


def _digest_files(files: Sequence[tuple[str, Path]]) -> str:
    h = hashlib.sha256()
    for name, path in sorted(files):
        h.update(name.encode() + b"\0" + path.read_bytes() + b"\0")
    return h.hexdigest()[:16]


@cache
def package_hash() -> str:
    """A hash of every ``.py`` file of mastbench's installed packages (:func:`source_roots`),
    by relative path and content; computed once per process.

    It changes with any edit to an algorithm, a theorem or a problem, committed or not, so
    results stored under it are never shown for code that no longer produces them.
    """
    files = [
        (f"{root.name}/{path.relative_to(root).as_posix()}", path)
        for root in source_roots()
        for path in root.rglob("*.py")
        if "__pycache__" not in path.parts
    ]
    return _digest_files(files)


@cache
def module_hash(name: str) -> str:
    """A hash of the source of module ``name`` (a plugin loaded with ``--import``): its file,
    or every ``.py`` file of its folder when it is a package; ``""`` when it has no source."""
    spec = importlib.util.find_spec(name)
    if spec is None or not spec.origin or not spec.has_location:
        return ""
    origin = Path(spec.origin)
    if spec.submodule_search_locations:
        files = [
            (path.relative_to(origin.parent).as_posix(), path)
            for path in origin.parent.rglob("*.py")
            if "__pycache__" not in path.parts
        ]
        return _digest_files(files)
    return _digest_files([(origin.name, origin)]) if origin.suffix == ".py" else ""


def source_hash(modules: Sequence[str] = ()) -> str:
    """The code a result depends on: mastbench's version, :func:`package_hash` and the
    :func:`module_hash` of each plugin module in ``modules``."""
    from mastbench import __version__

    parts = [__version__, package_hash(), *(f"{m}={module_hash(m)}" for m in modules)]
    return "/".join(parts)
