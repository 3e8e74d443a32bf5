"""Small valid calls of the frank_wolfe algorithms (see :mod:`tests.algorithms.cases`)."""

CASES: dict = {}
