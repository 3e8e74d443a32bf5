"""Small valid calls of the ramda algorithms (see :mod:`tests.algorithms.cases`)."""

CASES: dict = {}
