"""Runs the `intake` command with the clock fixed at $INTAKE_TEST_NOW (tests only)."""

import os
import sys

import time_machine

from intake.cli import main

# Guarded: the feed's worker processes, when started by a forkserver, import this script
# again (as __mp_main__), and must not run the command a second time.
if __name__ == "__main__":
    with time_machine.travel(os.environ["INTAKE_TEST_NOW"], tick=True):
        code = main()
    sys.exit(code)
