"""A sweep on two local worker processes, killed with SIGKILL by ``tests/test_sweeps.py``.

Usage: ``PYTHONPATH=. python tests/fake_parallel_sweep.py FOLDER``.  Each job writes its
worker's pid into FOLDER and then waits for a file that never comes.
"""

import os
import sys
import time
from pathlib import Path

from mastbench.sweep import run_jobs


def wait_forever(job: dict) -> list[dict]:
    """Note this worker's pid, then block."""
    folder = Path(job["folder"])
    (folder / f"{os.getpid()}.pid").touch()
    while not (folder / "never").exists():
        time.sleep(0.05)
    return []


if __name__ == "__main__":
    jobs = [{"folder": sys.argv[1], "index": i} for i in range(2)]
    run_jobs(jobs, wait_forever, n_jobs=2, progress=False)
