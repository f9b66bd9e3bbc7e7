"""``python -m movierec ...``: the same command as ``movierec ...``."""

import sys

from movierec.cli import main

sys.exit(main())
