"""The quick suite's verdicts, computed once per test session and shared by the tests.

The catalogue, the control and the table-coverage tests all read the verdicts of every theorem
on its quick instances and of every negative control; each is computed once, while the steps
of every Method of the algorithm table are counted, so that the coverage test costs nothing
more than the suite it checks.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from mastbench.theory import NegativeControl, Theorem

from mastbench.algorithms import all_algorithms
from mastbench.verify import Verdict, verify, verify_control

#: The Method classes whose ``step`` ran while a verdict of this module was computed.
STEPPED: set[type] = set()

_PLAIN: dict[tuple[Theorem, str], Verdict] = {}
_CONTROLS: dict[tuple[Theorem, str], Verdict] = {}


@contextmanager
def _counting_steps() -> Iterator[None]:
    """Count, into :data:`STEPPED`, the Method classes of the table whose ``step`` runs."""
    classes = {spec.method for spec in all_algorithms()}
    own = {cls: cls.__dict__.get("step") for cls in classes}
    for cls in classes:
        original = cls.step

        def counting(self, *args, _step=original, **kwargs):
            STEPPED.add(type(self))
            return _step(self, *args, **kwargs)

        cls.step = counting
    try:
        yield
    finally:
        for cls, step in own.items():
            if step is None:
                del cls.step
            else:
                cls.step = step


def quick_verdicts(thm: Theorem) -> list[Verdict]:
    """``verify(thm, instance)`` for every quick instance of ``thm``, in order."""
    out = []
    for instance in thm.instances(True):
        key = (thm, instance.name)
        if key not in _PLAIN:
            with _counting_steps():
                _PLAIN[key] = verify(thm, instance)
        out.append(_PLAIN[key])
    return out


def control_verdict(thm: Theorem, control: NegativeControl) -> Verdict:
    """``verify_control`` of ``control`` on the first quick instance of ``thm``."""
    key = (thm, control.name)
    if key not in _CONTROLS:
        plain = quick_verdicts(thm)[0] if control.bound_scale is not None else None
        with _counting_steps():
            _CONTROLS[key] = verify_control(thm, thm.instances(True)[0], control, plain)
    return _CONTROLS[key]
