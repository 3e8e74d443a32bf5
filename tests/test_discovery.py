import sys

from mastbench._discovery import import_public_submodules, public_submodules


def test_public_submodules_skip_private_ones():
    names = public_submodules("mastbench.algorithms")
    assert "mastbench.algorithms.mast" in names and names == sorted(names)
    assert not any(name.rsplit(".", 1)[1].startswith("_") for name in names)


def test_import_public_submodules_imports_each_once():
    names = import_public_submodules("mastbench.theory")
    assert names == tuple(public_submodules("mastbench.theory"))
    assert all(name in sys.modules for name in names)
    assert import_public_submodules("mastbench.theory") is names  # cached: no second discovery
