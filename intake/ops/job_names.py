"""The jobs of `intake run` a process may be started for, and what its exit says; apart from
`intake.ops.children` so that the command line names them without importing anything."""

from __future__ import annotations

PREPARATION = "preparation"  # the start-up checks, before the first job
JOB_NAMES = (  # `intake.ops.duties` does them
    "courriels",
    "purge",
    "rapport",
    "journal",
    "verification",
    "calendrier",
    "boite",
    "depot",
    "extranet",
)
NEWS = 10  # a job's exit status: done, and the staff have news to hear
# What the service hands its jobs' processes, in their environment.
PARENT_ENV = "INTAKE_RUN_PID"  # the scheduler's pid, which a job outlives by no more than a signal
CONFIG_ENV = "INTAKE_RUN_CONFIG"  # the configuration's text as the service read it at start
DROPBOX_ENV = "INTAKE_RUN_DEPOT"  # the drop folder as the scheduler last saw it stand still
