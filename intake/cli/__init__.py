"""The `intake` command's entry point: parse, run the command's handler (each group of
commands has its module: `setup_cmds`, `reading_cmds`, `service_cmds`, `status_cmd`,
`retention_cmds`, `trust`, `console`, `calendar_cmd`, `demo_cmds`, imported only by the
command that runs: `cli/lazy.py`), turn refusals into French and exit codes.

Exit codes (cli.md): 0 done; 1 done, but some input was refused (or the audit
trail is broken); 2 usage or configuration error; 3 an external service
(here: the database) could not be reached.
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, TextIO, TypeGuard

from intake.cli.exit_codes import EXIT_OK, EXIT_UNREACHABLE, EXIT_USAGE
from intake.cli.parser import build_parser
from intake.clock import Clock, SystemClock
from intake.errors import ConfigError, IntakeError
from intake.ops import logs
from storage.errors import StorageError

if TYPE_CHECKING:
    from sqlalchemy.exc import DBAPIError

__all__ = ["build_parser", "main"]

log = logging.getLogger("intake")


# --- entry point ---------------------------------------------------------------------------------


def main(
    argv: Sequence[str] | None = None, *, clock: Clock | None = None, out: TextIO | None = None
) -> int:
    out = out or sys.stdout
    # Every file the program writes (database, WAL, exports, PDFs, set-aside feeds, anchors)
    # is its owner's alone, whatever umask the shell or the unit left.
    os.umask(0o077)
    args = build_parser().parse_args(argv)
    args.entry_point = argv is None  # the program itself, not a call from another (a test)
    logs.configure(args.verbose, args.log_json, service=args.command in ("run", "web"))
    handler: Callable[..., int] = args.func  # each command's parser names it (cli/parser.py)
    try:
        return handler(args, clock or SystemClock(), out)
    except ConfigError as exc:
        where = f" ({exc.path})" if exc.path else ""
        print(f"Configuration invalide{where} :", file=sys.stderr)
        for problem in exc.problems:
            print(f"  - {problem}", file=sys.stderr)
        return EXIT_USAGE
    except (IntakeError, StorageError) as exc:  # a refusal the person can act on
        print(f"intake : {exc}", file=sys.stderr)
        return EXIT_USAGE
    except BrokenPipeError:  # `intake demandes | head`: the reader left, nothing more to say
        sys.stderr.close()
        return EXIT_OK
    except Exception as exc:
        if not _unreachable_database(exc):
            raise
        log.debug("database error", exc_info=True)
        if _disk_full(exc.orig):
            print(
                "intake : disque plein : l'écriture en cours a été annulée, rien de ce qui était "
                "déjà enregistré n'est perdu ; libérez de la place puis relancez la commande.",
                file=sys.stderr,
            )
        else:
            # The driver's text may name the server and port, never a demande's content.
            print(
                f"intake : base de données injoignable ({type(exc.orig).__name__})",
                file=sys.stderr,
            )
        return EXIT_UNREACHABLE


def _unreachable_database(error: Exception) -> TypeGuard[DBAPIError]:
    """SQLAlchemy's OperationalError or InterfaceError; asked of SQLAlchemy only when it was
    loaded (no command that left it unloaded can have raised one of its errors)."""
    if "sqlalchemy" not in sys.modules:
        return False
    from sqlalchemy.exc import InterfaceError, OperationalError

    return isinstance(error, OperationalError | InterfaceError)


def _disk_full(error: BaseException | None) -> bool:
    """SQLite's SQLITE_FULL (or the I/O error a refused write gives), PostgreSQL's 53100."""
    name = getattr(error, "sqlite_errorname", "")
    if name == "SQLITE_FULL" or name.startswith("SQLITE_IOERR_WRITE"):
        return True
    return getattr(error, "sqlstate", None) == "53100"
