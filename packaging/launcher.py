"""Entry script of the frozen application (PyInstaller): the same ``main`` as the ``artimuse-desktop`` command.

``freeze_support`` must run before anything parses the command line: the indexer's process pool starts
workers by re-running this executable (``spawn``), and those children must become workers, not a second app.
"""

import multiprocessing
import sys

from artimuse_desktop.cli import main

if __name__ == "__main__":
    multiprocessing.freeze_support()
    sys.exit(main())
