"""``python -m artimuse_desktop``."""

import sys

from artimuse_desktop.cli import main

sys.exit(main())
