"""Exact moment propagation for methods that are affine in the iterate on quadratics.

MAST (Demidovich, Malinovsky, Shulgin, Richtárik, arXiv 2311.16086) methods applied to a
quadratic f(x) = ½xᵀAx − bᵀx + const are *affine recursions with fresh random matrices*: with
y := x − v (v the shift) every step reads y⁺ = K y + h for a random pair (K, h) drawn
independently of the past.  The first and second moments m_t = E[y_t], P_t = E[y_t y_tᵀ]
therefore evolve by a deterministic map (``theory/mast.md`` §6.1 [D]):

    m⁺ = E[K] m + E[h]
    P⁺ = E[K P Kᵀ] + E[K m hᵀ] + E[h mᵀ Kᵀ] + E[h hᵀ]

(K and h share the random sketch, so the cross terms do not factorize).  Each method declares
its map (``moment_map(problem)``, evaluated with the closed-form sketch moments of
:mod:`mastbench.sketches` or by enumerating a finite joint support) and its MAST objective;
:func:`moments` propagates and reads out E‖x_t − x_D*‖², E f_D(x_t) − f_D*, E f(x_t) − f* and
E‖∇f_D(x_t)‖², and :func:`limit` solves for the fixed point.  The same method object runs in
the driver (:func:`mastbench.algorithms.driver.run`); :func:`mastbench.agreement.agreement`
compares the two, and ``tests/exact/test_contract.py`` keeps them in agreement.

Modules: :mod:`~mastbench.exact.engine` (``moments``, ``limit``, results),
:mod:`~mastbench.exact.moment_maps` (the maps, propagation, fixed point),
:mod:`~mastbench.exact.diagonal_step` (the fused step of diagonal sketches),
:mod:`~mastbench.exact.affine_form` (any map as one affine map of (m, vech P)) and
:mod:`~mastbench.exact.numba_kernel` (the compiled propagation of both; ``enabled = False``
forces the NumPy loop).
"""

from mastbench.exact.engine import (
    MAX_BRANCHES,
    MAX_LIMIT_DIM,
    ExactLimit,
    ExactMoments,
    Geometry,
    affine_limit,
    affine_moments,
    limit,
    moments,
    quadratic_components,
)

__all__ = [
    "MAX_BRANCHES",
    "MAX_LIMIT_DIM",
    "ExactLimit",
    "ExactMoments",
    "Geometry",
    "affine_limit",
    "affine_moments",
    "limit",
    "moments",
    "quadratic_components",
]
