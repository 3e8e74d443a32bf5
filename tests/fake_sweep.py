"""A sweep run as a separate process by ``tests/test_results.py`` (killed with SIGKILL).

Usage: ``PYTHONPATH=. python tests/fake_sweep.py STORE FORMAT LOG N_JOBS GATE``.  Each job
returns many rows; every executed job appends its index to LOG before returning.  Job
:data:`BLOCKED` and the ones after it first write ``GATE.waiting`` and wait until the file
GATE exists: a test kills the sweep at that point, after exactly :data:`BLOCKED` finished jobs,
and creates GATE before resuming.
"""

import sys
import time
from pathlib import Path

from mastbench.results import ResultStore
from mastbench.sweep import run_jobs

ROWS = 2000
BLOCKED = 4


def rows_of(index: int) -> list[dict]:
    """The rows job ``index`` records."""
    return [
        {"algorithm": "slow", "seed": index, "iteration": t, "subopt": 1.0 / (t + 1)}
        for t in range(ROWS)
    ]


def main() -> None:
    """Run the sweep."""
    root, fmt, log, n = sys.argv[1], sys.argv[2], Path(sys.argv[3]), int(sys.argv[4])
    gate = Path(sys.argv[5])

    def execute(job: dict) -> list[dict]:
        if job["index"] >= BLOCKED and not gate.exists():
            gate.with_suffix(".waiting").touch()
            while not gate.exists():
                time.sleep(0.01)
        with open(log, "a") as fh:
            fh.write(f"{job['index']}\n")
        return rows_of(job["index"])

    jobs = [{"index": i} for i in range(n)]
    run_jobs(jobs, execute, store=ResultStore(root, fmt), progress=False)


if __name__ == "__main__":
    main()
