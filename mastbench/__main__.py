"""``python -m mastbench`` runs the command line."""

import sys

from mastbench.cli import main

sys.exit(main())
