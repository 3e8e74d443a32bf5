"""The asv benchmark suite of mastbench (see ``benchmarks/common.py`` and the README).

When the project is installed in the benchmark environment (``asv run``, ``asv continuous``),
the installed commit is measured.  With ``asv run --python=same`` nothing is installed, so
the working tree that holds this suite is appended to ``sys.path`` as a fallback: appended,
never prepended, so that it cannot shadow an installed build.
"""

import importlib.util
import sys
from pathlib import Path

if importlib.util.find_spec("mastbench") is None:
    sys.path.append(str(Path(__file__).resolve().parent.parent))
