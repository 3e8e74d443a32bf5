"""Search for a counterexample to a theorem with hypothesis, shrinking it to a minimal one."""

from __future__ import annotations

from mastbench.verify import Verdict

__all__ = ["falsify"]


def falsify(theorem_id: str, *, max_examples: int = 200, seed: int = 0) -> Verdict | None:
    """Run hypothesis over ``theorem.strategy()`` looking for a violated instance.

    Parameters
    ----------
    theorem_id : str
        Registered theorem id.
    max_examples : int
        Number of instances to try.
    seed : int
        Seed of the search (the search is reproducible).

    Returns
    -------
    Verdict or None
        The verdict, with status ``"falsified"``, on the minimal counterexample hypothesis
        shrank to, or ``None`` when no instance violated the theorem.

    Raises
    ------
    ValueError
        If the theorem has no instance strategy.
    ImportError
        If hypothesis is not installed (``pip install mastbench[test]``).
    """
    from mastbench import theory
    from mastbench.verify import verify

    try:
        from hypothesis import HealthCheck, given, settings
        from hypothesis import seed as hypothesis_seed
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError("falsify needs hypothesis: pip install 'mastbench[test]'") from exc

    thm = theory.get(theorem_id)
    if thm.strategy is None:
        raise ValueError(f"theorem {theorem_id!r} has no instance strategy to search over")
    found: list[Verdict] = []

    @hypothesis_seed(seed)
    @settings(
        max_examples=max_examples,
        database=None,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        print_blob=False,
    )
    @given(thm.strategy())
    def search(instance):
        verdict = verify(thm, instance)
        if verdict.status == "violated":
            verdict.status = "falsified"
            found.append(verdict)
            raise AssertionError(verdict.summary())

    try:
        search()
    except AssertionError:
        # hypothesis replays the shrunk example last: the final verdict is the minimal one
        return found[-1]
    return None
