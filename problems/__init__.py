"""Convex problems with exact constants: quadratics, least squares, logistic regression, ...

Public names are re-exported here; see each module for the mathematics.
"""

from problems.base import FiniteSum, Problem
from problems.least_squares import LeastSquares
from problems.logistic import Logistic
from problems.mast_objective import MASTObjective
from problems.quadratic import Quadratic, QuadraticForm

__all__ = [
    "FiniteSum",
    "LeastSquares",
    "Logistic",
    "MASTObjective",
    "Problem",
    "Quadratic",
    "QuadraticForm",
]
