"""mastbench: theory verification and benchmarking for sparsified and structured training.

The engine: array backends (:mod:`mastbench.backend`), sketch distributions
(:mod:`mastbench.sketches`), algorithms (:mod:`mastbench.algorithms`), the exact and
Monte-Carlo engines, verification (:mod:`mastbench.verify`), results, reports and the CLI.
"""

__version__ = "0.1.0"


def __getattr__(name: str) -> object:
    # ``mastbench.run`` without importing the algorithms at ``import mastbench``.
    if name == "run":
        from mastbench.algorithms.driver import run

        return run
    raise AttributeError(f"module 'mastbench' has no attribute {name!r}")
