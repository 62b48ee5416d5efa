"""Runs the `intake` command with the clock fixed at $INTAKE_TEST_NOW (tests only)."""

import os
import sys

import time_machine

from intake.cli import main

with time_machine.travel(os.environ["INTAKE_TEST_NOW"], tick=True):
    code = main()
sys.exit(code)
