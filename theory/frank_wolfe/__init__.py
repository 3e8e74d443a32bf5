"""Frank-Wolfe (Jaggi 2013; AdaFW; away/pairwise FW; SFW): the theorems of family ``fw``
(:mod:`.theorems`; step-by-step reference and invariant checks in :mod:`.trajectories`, with
the exact rational reference trajectories of :mod:`.reference`; instances in
:mod:`.instances`)."""

from mastbench._discovery import import_public_submodules

import_public_submodules(__name__)
