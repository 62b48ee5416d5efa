"""Poppler's command-line tools (Debian's poppler-utils), the independent readers of the PDFs
the worker writes: required in CI, skipped with a hint elsewhere."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from tests.support.required import missing


def poppler(tool: str, *args: str | Path) -> str:
    """The standard output of `tool args…` (`pdfsig`, `pdftotext`)."""
    path = shutil.which(tool)
    if path is None:
        missing(tool, "apt-get install poppler-utils")
    return subprocess.run(
        [path, *map(str, args)], capture_output=True, text=True, check=True
    ).stdout
