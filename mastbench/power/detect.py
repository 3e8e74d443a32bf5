"""Run a family's theorems with one fault injected, and the detection matrix of a catalogue.

Each fault runs in a fresh interpreter (``python -m mastbench.power.detect FAULT``), so that
no cache of a theorem (a reference solution, a trace) computed by the correct code can hide
the fault, and no patch outlives its run.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from mastbench.power.catalogue import Fault, catalogue, get_fault

__all__ = ["FaultResult", "PowerReport", "detect", "family_verdicts", "power"]


def family_verdicts(family: str, quick: bool = True) -> dict[str, str]:
    """Status of every theorem of ``family`` on its built-in instances (worst first).

    A theorem is ``violated`` when one instance is, ``error`` when one raised, ``holds`` when
    all that apply hold, ``not applicable`` otherwise.
    """
    from mastbench import theory
    from mastbench.verify import verify

    rank = {"violated": 4, "falsified": 3, "error": 2, "holds": 1, "not applicable": 0}
    out: dict[str, str] = {}
    # an algorithm family is named like its theory subpackage; theorem ids use the prefix
    prefix = {package: prefix for prefix, package in theory.PACKAGES.items()}[family]
    for thm in theory.all(prefix):
        status = "not applicable"
        for instance in thm.instances(quick):
            try:
                verdict = verify(thm, instance).status
            except Exception as exc:  # a crash under a fault is recorded, not fatal
                verdict = f"error: {type(exc).__name__}"
            key = "error" if verdict.startswith("error") else verdict
            if rank[key] > rank.get(status.split(":")[0], 0):
                status = verdict
        out[thm.id] = status
    return out


def _in_process(fault_name: str | None, family: str, quick: bool) -> dict[str, str]:
    from mastbench.algorithms import get_algorithm
    from mastbench.power.inject import patched

    if fault_name is None:
        return family_verdicts(family, quick)
    fault = get_fault(fault_name)
    method = get_algorithm(fault.algorithm).method
    if method is None:
        raise TypeError(f"algorithm {fault.algorithm!r} is not a Method yet; cannot inject")
    with patched(method, fault.wrap):
        return family_verdicts(family, quick)


def detect(fault: Fault | None, family: str, *, quick: bool = True) -> dict[str, str]:
    """The family's theorem statuses with ``fault`` injected (``None``: the correct code),
    computed in a fresh interpreter."""
    command = [sys.executable, "-m", "mastbench.power.detect", family, "quick" if quick else "full"]
    if fault is not None:
        command.append(fault.name)
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        tail = (done.stderr.strip().splitlines() or ["no output"])[-1]
        return {"*": f"error: {tail}"}
    return json.loads(done.stdout.strip().splitlines()[-1])


@dataclass
class FaultResult:
    """What the suite said of one fault: each theorem's status, and whether any caught it."""

    fault: str
    algorithm: str
    family: str
    kind: str
    statuses: dict[str, str]
    detected_by: list[str] = field(default_factory=list)

    @property
    def detected(self) -> bool:
        return bool(self.detected_by)


@dataclass
class PowerReport:
    """The detection matrix (fault × theorem), the baseline it is read against, the score."""

    baseline: dict[str, dict[str, str]]
    results: list[FaultResult]

    @property
    def score(self) -> float:
        """Fraction of the catalogue detected by at least one theorem."""
        return sum(r.detected for r in self.results) / max(len(self.results), 1)

    def to_json(self) -> dict:
        """The report's table (``title``, ``notes``, one row per fault) and the full matrix
        (``baseline``, ``results``: every theorem's status under every fault)."""
        detected = sum(r.detected for r in self.results)
        rows = [
            {
                "fault": r.fault,
                "family": r.family,
                "kind": r.kind,
                "detected": "yes" if r.detected else "no",
                "detected by": ", ".join(r.detected_by),
            }
            for r in self.results
        ]
        return {
            "title": "Verification power: the fault catalogue",
            "notes": (
                f"{detected} of {len(self.results)} faults detected ({100 * self.score:.0f} %) "
                "by mastbench verify on the quick instances (mastbench power)."
            ),
            "rows": rows,
            "score": self.score,
            "detected": sum(r.detected for r in self.results),
            "faults": len(self.results),
            "baseline": self.baseline,
            "results": [
                {
                    "fault": r.fault,
                    "algorithm": r.algorithm,
                    "family": r.family,
                    "kind": r.kind,
                    "detected": r.detected,
                    "detected_by": r.detected_by,
                    "statuses": r.statuses,
                }
                for r in self.results
            ],
        }


def _caught(baseline: dict[str, str], statuses: dict[str, str]) -> list[str]:
    """Theorems that held on the correct code and do not with the fault."""
    return sorted(
        thm
        for thm, status in statuses.items()
        if baseline.get(thm) == "holds" and (status == "violated" or status.startswith("error"))
    )


def power(
    faults: Sequence[Fault] | None = None,
    *,
    quick: bool = True,
    jobs: int = 1,
    progress: Callable[[str], None] | None = None,
) -> PowerReport:
    """Inject every fault, run its family's theorems, and build the detection matrix.

    A fault counts as detected when a theorem that holds on the correct code is violated (or
    crashes) with it.  Faults run in separate interpreters, ``jobs`` at a time.
    """
    faults = list(catalogue() if faults is None else faults)
    families = sorted({f.family for f in faults})
    with ThreadPoolExecutor(max_workers=max(jobs, 1)) as pool:
        baseline = dict(
            zip(
                families,
                pool.map(lambda fam: detect(None, fam, quick=quick), families),
                strict=True,
            )
        )
        runs = pool.map(lambda f: detect(f, f.family, quick=quick), faults)
        results = []
        for fault, statuses in zip(faults, runs, strict=True):
            result = FaultResult(
                fault.name,
                fault.algorithm,
                fault.family,
                fault.kind,
                statuses,
                _caught(baseline[fault.family], statuses),
            )
            results.append(result)
            if progress is not None:
                mark = "detected" if result.detected else "MISSED"
                progress(
                    f"[{mark}] {fault.name}"
                    + (f" — by {', '.join(result.detected_by)}" if result.detected else "")
                )
    return PowerReport(baseline, results)


if __name__ == "__main__":
    from mastbench.threads import one_blas_thread

    one_blas_thread()
    family_name, depth = sys.argv[1], sys.argv[2]
    name = sys.argv[3] if len(sys.argv) > 3 else None
    print(json.dumps(_in_process(name, family_name, depth == "quick")))
