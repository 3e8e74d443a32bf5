"""Small valid calls of the mast algorithms (see :mod:`tests.algorithms.cases`)."""

CASES: dict = {}
