"""Search for a counterexample to a theorem with hypothesis, shrinking it to a minimal one.

Each draw of the theorem's strategy (``Theorem.strategy``) is verified; draws outside the
assumptions are counted as not applicable.  On applicable draws the search steers towards
large measured/bound ratios (hypothesis ``target``), so regions where the bound is nearly
attained are explored first.  A violation is shrunk by hypothesis to a minimal instance, which
:meth:`Falsification.to_json` writes in the form ``mastbench verify --instance`` loads back
(:mod:`mastbench.instance_io`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from mastbench.theory import Instance
from mastbench.verify import Verdict

__all__ = ["Falsification", "falsify", "tightest"]


@dataclass
class Falsification:
    """The outcome of a search.

    Attributes
    ----------
    theorem : str
        Theorem id.
    examples : int
        Draws verified (the shrinking replays included).
    not_applicable : int
        Draws outside the theorem's assumptions (or its step range).
    best_ratio : float
        Largest worst ratio measured/bound over the applicable draws (``nan`` when none).
    verdict : Verdict or None
        The verdict on the minimal counterexample, status ``"falsified"``; ``None`` when no
        draw violated the theorem.
    instance : Instance or None
        The minimal counterexample.
    bound_scale : float
        The factor the bound was multiplied by during the search.
    """

    theorem: str
    examples: int
    not_applicable: int
    best_ratio: float
    verdict: Verdict | None = None
    instance: Instance | None = None
    bound_scale: float = 1.0

    @property
    def found(self) -> bool:
        """True when a counterexample was found."""
        return self.verdict is not None

    def to_json(self) -> dict[str, Any]:
        """The counterexample as instance data (``mastbench verify --instance`` loads it)."""
        from mastbench.instance_io import encode_instance

        if self.instance is None or self.verdict is None:
            raise ValueError(f"no counterexample to {self.theorem} was found")
        return encode_instance(self.instance, self.theorem, self.verdict.params)

    def summary(self) -> str:
        """One line: the counts, and the counterexample's verdict when there is one."""
        best = "n/a" if math.isnan(self.best_ratio) else f"{self.best_ratio:.3g}"
        scale = f" at bound × {self.bound_scale:g}" if self.bound_scale != 1.0 else ""
        counts = (
            f"{self.examples} examples{scale}, {self.not_applicable} not applicable, "
            f"largest ratio {best}"
        )
        if self.verdict is None:
            return f"{self.theorem}: no counterexample ({counts})"
        return f"{self.verdict.summary()} ({counts})"


def falsify(
    theorem_id: str, *, max_examples: int = 200, seed: int = 0, bound_scale: float = 1.0
) -> Falsification:
    """Run hypothesis over ``theorem.strategy()`` looking for a violated instance.

    Parameters
    ----------
    theorem_id : str
        Registered theorem id.
    max_examples : int
        Number of instances to try (hypothesis's budget; shrinking adds replays).
    seed : int
        Seed of the search (the search is reproducible).
    bound_scale : float
        Multiply the bound by this factor: below 1 asks whether the bound is nearly attained
        (a counterexample at 0.9 says the theorem is tight within 10 % on that instance).

    Returns
    -------
    Falsification
        With the verdict (status ``"falsified"``) on the minimal counterexample hypothesis
        shrank to, or without one.

    Raises
    ------
    ValueError
        If the theorem has no instance strategy, or an argument is out of range.
    ImportError
        If hypothesis is not installed (``pip install mastbench[test]``).
    """
    from mastbench import theory
    from mastbench.verify import verify

    try:
        from hypothesis import HealthCheck, Phase, given, settings, target
        from hypothesis import seed as hypothesis_seed
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError("falsify needs hypothesis: pip install 'mastbench[test]'") from exc

    if not (isinstance(max_examples, int) and max_examples >= 1):
        raise ValueError(f"max_examples must be a positive integer, got {max_examples!r}")
    if not (math.isfinite(bound_scale) and bound_scale > 0):
        raise ValueError(f"bound_scale must be a finite number > 0, got {bound_scale!r}")
    thm = theory.get(theorem_id)
    if thm.strategy is None:
        raise ValueError(f"theorem {theorem_id!r} has no instance strategy to search over")
    found: list[tuple[Verdict, Instance]] = []
    counts = {"examples": 0, "not applicable": 0}
    best = [-math.inf]

    @hypothesis_seed(seed)
    @settings(
        max_examples=max_examples,
        database=None,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        print_blob=False,
        phases=(Phase.generate, Phase.target, Phase.shrink),
    )
    @given(thm.strategy())
    def search(instance: Instance) -> None:
        counts["examples"] += 1
        verdict = verify(thm, instance, bound_scale=bound_scale)
        if verdict.status == "not applicable":
            counts["not applicable"] += 1
            return
        ratio = verdict.worst_ratio
        if math.isfinite(ratio):
            best[0] = max(best[0], ratio)
            target(ratio, label="measured / bound")
        if verdict.status in ("violated", "falsified"):
            verdict.status = "falsified"
            found.append((verdict, instance))
            raise AssertionError(verdict.summary())

    result = Falsification(
        theorem_id,
        examples=0,
        not_applicable=0,
        best_ratio=math.nan,
        bound_scale=bound_scale,
    )
    try:
        search()
    except AssertionError:
        # hypothesis replays the shrunk example last: the final verdict is the minimal one
        result.verdict, result.instance = found[-1]
    result.examples = counts["examples"]
    result.not_applicable = counts["not applicable"]
    result.best_ratio = best[0] if math.isfinite(best[0]) else math.nan
    return result


def tightest(
    theorem_id: str, *, max_examples: int = 200, seed: int = 0
) -> tuple[float, Instance | None]:
    """Adversarial search for the instance where the bound is most nearly attained.

    Hypothesis steers ``theorem.strategy()`` towards large nontrivial ratios
    (:attr:`mastbench.verify.Verdict.nontrivial_ratio`, which excludes t = 0 of a rate bound and
    points equal by construction).

    Returns
    -------
    (float, Instance or None)
        The largest nontrivial ratio found (``nan`` when no draw was applicable) and its
        instance.  A ratio above 1 is a violation: run :func:`falsify` on it.
    """
    from hypothesis import HealthCheck, Phase, given, settings, target
    from hypothesis import seed as hypothesis_seed

    from mastbench import theory
    from mastbench.verify import verify

    thm = theory.get(theorem_id)
    if thm.strategy is None:
        raise ValueError(f"theorem {theorem_id!r} has no instance strategy to search over")
    best: list[Any] = [-math.inf, None]

    @hypothesis_seed(seed)
    @settings(
        max_examples=max_examples,
        database=None,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        phases=(Phase.generate, Phase.target),
    )
    @given(thm.strategy())
    def search(instance: Instance) -> None:
        verdict = verify(thm, instance)
        ratio = verdict.nontrivial_ratio
        if verdict.status == "not applicable" or not math.isfinite(ratio):
            return
        target(ratio, label="nontrivial measured / bound")
        if ratio > best[0]:
            best[:] = [ratio, instance]

    search()
    return (best[0] if math.isfinite(best[0]) else math.nan), best[1]
