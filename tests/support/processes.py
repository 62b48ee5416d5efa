"""What a running process of the tests started, and what it has mapped, read from /proc."""

from __future__ import annotations

from pathlib import Path


def children(pid: int) -> set[int]:
    """The processes `pid` started, by any of its threads (a thread may end meanwhile)."""
    found: set[int] = set()
    try:
        tasks = list(Path(f"/proc/{pid}/task").iterdir())
    except FileNotFoundError:  # the process itself ended
        return found
    for task in tasks:
        try:
            found |= {int(c) for c in (task / "children").read_text().split()}
        except FileNotFoundError:
            continue
    return found


def running(pid: int) -> bool:
    """The process exists and is no zombie waiting to be reaped."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    return state != "Z"


def shared_objects(pid: int) -> set[str]:
    """The paths of the shared libraries the process has mapped (its C extensions among them)."""
    lines = Path(f"/proc/{pid}/maps").read_text().splitlines()
    return {line.split()[-1] for line in lines if ".so" in line.split()[-1]}
