"""How many threads the BLAS libraries of this process may use.

NumPy and SciPy each load their own OpenBLAS.  The theorem checks run on small instances
(vectors of tens of entries, matrices of at most a few hundred rows): there a multi-threaded
BLAS spends more in waking and spinning its threads than it saves, and on a machine whose
cores are busy a single product of a few dozen entries can then take 100 ms instead of
microseconds.  Workers of the checks (:func:`mastbench.jobs.execute`, ``mastbench falsify``)
therefore use one BLAS thread; ``mastbench bench --threads N`` limits the timed comparisons.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache

__all__ = ["blas_threads", "limited_blas", "one_blas_thread"]


def _load_blas_libraries() -> None:
    """Load SciPy's OpenBLAS too: threadpoolctl only limits the libraries loaded when it is
    called (the compiled exact-engine loop reaches SciPy's through ``scipy.linalg``)."""
    import numpy  # noqa: F401
    import scipy.linalg  # noqa: F401


def blas_threads() -> int | None:
    """Most threads of any BLAS library loaded now, NumPy's or SciPy's (``None``: none seen)."""
    from threadpoolctl import threadpool_info

    counts = [p["num_threads"] for p in threadpool_info() if p.get("user_api") == "blas"]
    return max(counts) if counts else None


@contextmanager
def limited_blas(threads: int) -> Iterator[None]:
    """Limit NumPy's and SciPy's BLAS to ``threads`` threads (an int ≥ 1) inside the ``with``
    block."""
    from threadpoolctl import threadpool_limits

    from mastbench.validation import check_int

    threads = check_int("threads", threads, low=1)
    _load_blas_libraries()
    with threadpool_limits(limits=threads, user_api="blas"):
        yield


@cache
def one_blas_thread() -> None:
    """Limit NumPy's and SciPy's BLAS to one thread for the rest of this process (once)."""
    from threadpoolctl import threadpool_limits

    _load_blas_libraries()
    threadpool_limits(limits=1, user_api="blas")
