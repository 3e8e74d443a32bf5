"""Convex problems with exact constants: quadratics, least squares, logistic regression,
multinomial logistic regression, the MAST objective, regularizers, composite objectives and
constraint sets.

Public names are re-exported here; see each module for the mathematics.
"""

from mastbench.problems.base import FiniteSum, Problem
from mastbench.problems.composite import Composite
from mastbench.problems.constraints import (
    GroupL1Ball,
    L1Ball,
    L2Ball,
    LInfBall,
    NuclearBall,
    Simplex,
    constrained_minimum,
    curvature_constant,
)
from mastbench.problems.group_structured import GroupLeastSquares, GroupMultinomial, Groups
from mastbench.problems.least_squares import LeastSquares
from mastbench.problems.logistic import Logistic
from mastbench.problems.mast_objective import MASTObjective
from mastbench.problems.multinomial import MultinomialLogistic
from mastbench.problems.quadratic import Quadratic, QuadraticForm
from mastbench.problems.regularizers import L1, GroupLasso, NuclearNorm

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
