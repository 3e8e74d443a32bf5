"""Convex problems with exact constants: quadratics, least squares, logistic regression, ...

Public names are re-exported here; see each module for the mathematics.
"""

from problems.base import FiniteSum, Problem
from problems.composite import Composite
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
    "GroupLasso",
    "LeastSquares",
    "Logistic",
    "MASTObjective",
    "MultinomialLogistic",
    "NuclearNorm",
    "Problem",
    "Quadratic",
    "QuadraticForm",
]

# -- Frank-Wolfe constraint sets (problems.constraints) -----------------------------------------
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

__all__ += [
    "GroupL1Ball",
    "L1Ball",
    "L2Ball",
    "LInfBall",
    "NuclearBall",
    "Simplex",
    "constrained_minimum",
    "curvature_constant",
]

# -- SequentialAttention++ group-structured problems (problems.group_structured) ---------------
from problems.group_structured import GroupLeastSquares, GroupMultinomial, Groups  # noqa: E402

__all__ += ["GroupLeastSquares", "GroupMultinomial", "Groups"]
