"""MAST (Demidovich, Malinovsky, Shulgin, Richtárik; arXiv 2311.16086): the theorem catalogue.

Lemmas on sketches and on the MAST objective live in :mod:`theory._mast_lemmas`; the
convergence theorems of the Double Sketched methods in :mod:`theory._mast_rates` (with
:mod:`theory._mast_rates_multi`), T-ABC (option II, data minibatches) in
:mod:`theory._mast_abc`, T-NC's weighted-average form in :mod:`theory._mast_nc_weighted`.
Importing this module registers all of them.  Statements are named by content (T-GAP, T-SC,
...), since the paper's numbering differs between versions (``shared/theory/mast.md`` §0).
"""

from mastbench.theory import _mast_abc, _mast_lemmas, _mast_nc_weighted, _mast_rates

__all__ = ["_mast_abc", "_mast_lemmas", "_mast_nc_weighted", "_mast_rates"]
