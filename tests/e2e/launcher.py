"""Runs the `intake` command with the clock fixed at $INTAKE_TEST_NOW (tests only).

One timeline per command as launched by a test: the first launcher notes when it started
($INTAKE_TEST_EPOCH, real time), and the processes the command starts again through this
launcher (the jobs of `intake run`) inherit it, so their clock goes on from the command's
instead of starting over at $INTAKE_TEST_NOW."""

import os
import sys
import time
from datetime import datetime, timedelta

import time_machine

from intake.cli import main

# Guarded: the feed's worker processes, when started by a forkserver, import this script
# again (as __mp_main__), and must not run the command a second time.
if __name__ == "__main__":
    epoch = float(os.environ.setdefault("INTAKE_TEST_EPOCH", repr(time.time())))
    now = datetime.fromisoformat(os.environ["INTAKE_TEST_NOW"])
    with time_machine.travel(now + timedelta(seconds=time.time() - epoch), tick=True):
        code = main()
    sys.exit(code)
