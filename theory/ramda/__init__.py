"""RAMDA (Huang & Lee, NeurIPS 2024, arXiv 2403.14398): the theorems of family ``ramda``
(:mod:`.theorems`)."""

from mastbench._discovery import import_public_submodules

import_public_submodules(__name__)
