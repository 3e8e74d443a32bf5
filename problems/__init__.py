"""Convex problems with exact constants: quadratics, least squares, logistic regression,
multinomial logistic regression, the MAST objective, regularizers, composite objectives and
constraint sets.

Public names are re-exported here; see each module for the mathematics.
"""

from problems.base import FiniteSum, Problem
from problems.composite import Composite
from problems.constraints import (
    GroupL1Ball,
    L1Ball,
    L2Ball,
    LInfBall,
    NuclearBall,
    Simplex,
    constrained_minimum,
    curvature_constant,
)
from problems.group_structured import GroupLeastSquares, GroupMultinomial, Groups
from problems.least_squares import LeastSquares
from problems.logistic import Logistic
from problems.mast_objective import MASTObjective
from problems.multinomial import MultinomialLogistic
from problems.quadratic import Quadratic, QuadraticForm
from problems.regularizers import L1, GroupLasso, NuclearNorm

__all__ = [
    "L1",
    "Composite",
    "FiniteSum",
    "GroupL1Ball",
    "GroupLasso",
    "GroupLeastSquares",
    "GroupMultinomial",
    "Groups",
    "L1Ball",
    "L2Ball",
    "LInfBall",
    "LeastSquares",
    "Logistic",
    "MASTObjective",
    "MultinomialLogistic",
    "NuclearBall",
    "NuclearNorm",
    "Problem",
    "Quadratic",
    "QuadraticForm",
    "Simplex",
    "constrained_minimum",
    "curvature_constant",
]
