"""The command's exit codes (cli.md), apart from the handlers so the parser imports nothing
else: 0 done; 1 done, but some input was refused (or the audit trail is broken); 2 usage or
configuration error; 3 an external service (here: the database) could not be reached."""

from __future__ import annotations

EXIT_OK, EXIT_REFUSED, EXIT_USAGE, EXIT_UNREACHABLE = 0, 1, 2, 3
