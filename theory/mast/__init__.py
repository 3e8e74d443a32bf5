"""MAST (Demidovich, Malinovsky, Shulgin, Richtárik; arXiv 2311.16086): the theorem catalogue.

Lemmas on sketches and on the MAST objective live in :mod:`.lemmas`; the
convergence theorems of the Double Sketched methods in :mod:`.rates` (with
:mod:`.rates_multi`), T-ABC (option II, data minibatches) in
:mod:`.abc`, T-NC's weighted-average form in :mod:`.nc_weighted`; the typed instances they
are checked on in :mod:`.instances`.
Importing this package registers every theorem of its modules.  Statements are named by
content (T-GAP, T-SC, ...), since the paper's numbering differs between versions
(``shared/theory/mast.md`` §0).
"""

from mastbench._discovery import import_public_submodules

import_public_submodules(__name__)
