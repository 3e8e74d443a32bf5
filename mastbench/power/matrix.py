"""The detection matrix of a power run as text: one row per fault, one column per theorem."""

from __future__ import annotations

from mastbench.power.detect import PowerReport

__all__ = ["format_matrix", "format_summary"]

_MARK = {"violated": "X", "holds": ".", "not applicable": "-", "falsified": "f"}


def _mark(status: str) -> str:
    return "E" if status.startswith("error") else _MARK.get(status, "?")


def format_matrix(report: PowerReport) -> str:
    """Per family, a matrix with one row per fault and one column per theorem (``X`` caught
    it, ``.`` held, ``E`` crashed, ``-`` not applicable), then the undetected faults."""
    lines = []
    for family in sorted(report.baseline):
        theorems = sorted(report.baseline[family])
        results = [r for r in report.results if r.family == family]
        if not results:
            continue
        lines.append(f"{family}: theorems")
        for i, thm in enumerate(theorems):
            lines.append(f"  [{i:2d}] {thm}  (correct code: {report.baseline[family][thm]})")
        width = max(len(r.fault) for r in results)
        header = " ".join(f"{i:2d}" for i in range(len(theorems)))
        lines.append(f"  {'fault':<{width}}  {header}")
        for r in results:
            marks = " ".join(f"{_mark(r.statuses.get(t, '?')):>2}" for t in theorems)
            lines.append(f"  {r.fault:<{width}}  {marks}")
        lines.append("")
    return "\n".join(lines)


def format_summary(report: PowerReport) -> str:
    """The score and each undetected fault with the reason it could not be seen."""
    detected = sum(r.detected for r in report.results)
    lines = [
        f"power: {detected} of {len(report.results)} faults detected ({100 * report.score:.0f} %)"
    ]
    for r in report.results:
        if not r.detected:
            crashed = [t for t, s in r.statuses.items() if s.startswith("error")]
            why = (
                f"crashed in {', '.join(crashed)} (a theorem that also fails on the correct code)"
                if crashed
                else "every theorem of the family still holds with it"
            )
            lines.append(f"  undetected: {r.fault} — {why}")
    return "\n".join(lines)
