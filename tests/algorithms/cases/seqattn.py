"""Small valid calls of the seqattn algorithms (see :mod:`tests.algorithms.cases`)."""

CASES: dict = {}
