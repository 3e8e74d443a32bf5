"""The layering of ``shared/DESIGN.md``, enforced from the imports: each module imports only
from its own layer or the layers below (lazy imports inside functions count too).

    application   mastbench.cli, .report*, .verify, .falsify, .power, .results, .jobs, ...
    theory        mastbench.theory
    dynamics      mastbench.algorithms, mastbench.exact, mastbench.montecarlo, .agreement
    problems      mastbench.problems, mastbench.strategies (shared hypothesis strategies)
    foundation    mastbench.backend, .validation, .sketches, .trace, ...

Also: no import cycle between the top-level subpackages of ``mastbench``.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SOURCES = {
    "mastbench": ROOT / "mastbench",
    "mastbench.problems": ROOT / "problems",
    "mastbench.theory": ROOT / "theory",
}

FOUNDATION, PROBLEMS, DYNAMICS, THEORY, APPLICATION = range(5)
NAMES = ["foundation", "problems", "dynamics", "theory", "application"]

#: Layer of each first component below ``mastbench`` (the rest is application).
LAYERS = {
    "backend": FOUNDATION,
    "validation": FOUNDATION,
    "sketches": FOUNDATION,
    "trace": FOUNDATION,
    "testing": FOUNDATION,
    "_discovery": FOUNDATION,
    "problems": PROBLEMS,
    "strategies": PROBLEMS,
    "algorithms": DYNAMICS,
    "exact": DYNAMICS,
    "_moment_maps": DYNAMICS,
    "_diagonal_step": DYNAMICS,
    "_diagonal_kernel": DYNAMICS,
    "montecarlo": DYNAMICS,
    "agreement": DYNAMICS,
    "theory": THEORY,
}


def _modules() -> dict[str, Path]:
    out = {}
    for package, folder in SOURCES.items():
        for path in folder.rglob("*.py"):
            if "__pycache__" in path.parts:
                continue
            if package == "mastbench" and path.relative_to(folder).parts[0] in (
                "problems",
                "theory",
            ):
                continue
            parts = list(path.relative_to(folder).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts = parts[:-1]
            out[".".join([package, *parts])] = path
    return out


def _component(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


def layer(module: str) -> int:
    return LAYERS.get(_component(module), APPLICATION)


def _imports(module: str, path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    package = module if path.name == "__init__.py" else module.rsplit(".", 1)[0]
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                name = ".".join(base + ([node.module] if node.module else []))
            else:
                name = node.module or ""
            found.add(name)
            found.update(f"{name}.{a.name}" for a in node.names)
    return {m for m in found if m == "mastbench" or m.startswith("mastbench.")}


def test_imports_point_down_only():
    modules = _modules()
    wrong = []
    for module, path in sorted(modules.items()):
        if module == "mastbench":  # the public surface (lazy ``mastbench.run``)
            continue
        for target in sorted(_imports(module, path)):
            if target == "mastbench" or (
                _component(target) not in LAYERS and target not in modules
            ):
                continue
            if layer(target) > layer(module):
                wrong.append(
                    f"{module} ({NAMES[layer(module)]}) imports {target} ({NAMES[layer(target)]})"
                )
    assert not wrong, "\n".join(wrong)


def test_no_import_cycle_between_subpackages():
    modules = _modules()
    packages = {_component(m) for m, p in modules.items() if p.name == "__init__.py"}
    edges: dict[str, set[str]] = {}
    for module, path in modules.items():
        source = _component(module)
        for target in _imports(module, path):
            dest = _component(target)
            if dest != source and {dest, source} <= packages:
                edges.setdefault(source, set()).add(dest)

    def reaches(start: str, goal: str, seen: set[str]) -> bool:
        for nxt in edges.get(start, ()):
            if nxt == goal or (nxt not in seen and reaches(nxt, goal, seen | {nxt})):
                return True
        return False

    cycles = sorted(f"{a} -> {b}" for a in edges for b in edges[a] if reaches(b, a, {b}))
    assert not cycles, "import cycles between subpackages: " + ", ".join(cycles)
