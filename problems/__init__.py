"""Convex problems with exact constants: quadratics, least squares, logistic regression, ...

Public names are re-exported here; see each module for the mathematics.
"""

from problems.base import FiniteSum, Problem
from problems.composite import Composite
from problems.least_squares import LeastSquares
from problems.logistic import Logistic
from problems.multinomial import MultinomialLogistic
from problems.quadratic import Quadratic, QuadraticForm
from problems.regularizers import L1, GroupLasso, NuclearNorm

__all__ = [
    "L1",
    "Composite",
    "FiniteSum",
    "GroupLasso",
    "LeastSquares",
    "Logistic",
    "MultinomialLogistic",
    "NuclearNorm",
    "Problem",
    "Quadratic",
    "QuadraticForm",
]
