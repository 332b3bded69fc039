"""``python -m govsocial.cli``: the same command line as ``govsocial``."""

import sys

from govsocial.cli import main

sys.exit(main())
