"""The house reads as the flow of a demande: no import cycles, no import running back up
(storage and notifier never import intake; the feed never imports storage), and only storage/
builds queries or uses a session."""

from __future__ import annotations

import ast
from pathlib import Path

import grimp
import pytest

PACKAGES = ("intake", "storage", "notifier")


@pytest.fixture(scope="module")
def graph() -> grimp.ImportGraph:
    return grimp.build_graph(*PACKAGES)


def _cycles(graph: grimp.ImportGraph) -> list[list[str]]:
    """Strongly connected groups of modules (Tarjan's), function-level imports included."""
    edges = {m: sorted(graph.find_modules_directly_imported_by(m)) for m in graph.modules}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(module: str) -> None:
        index[module] = low[module] = len(index)
        stack.append(module)
        on_stack.add(module)
        for other in edges.get(module, []):
            if other not in index:
                visit(other)
                low[module] = min(low[module], low[other])
            elif other in on_stack:
                low[module] = min(low[module], index[other])
        if low[module] == index[module]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == module:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    for module in sorted(graph.modules):
        if module not in index:
            visit(module)
    return found


def test_no_import_cycles(graph: grimp.ImportGraph):
    assert _cycles(graph) == []


@pytest.mark.parametrize(
    ("lower", "upper"),
    [
        ("storage", "intake"),
        ("notifier", "intake"),
        ("intake.feed", "storage"),
        # The console's services and the convention's clocks serve the console and the
        # commands; they never reach back into either, nor the clocks into the desk.
        ("intake.desk", "intake.web"),
        ("intake.desk", "intake.cli"),
        ("intake.convention", "intake.desk"),
        ("intake.convention", "intake.web"),
        ("intake.convention", "intake.cli"),
        ("intake.ops", "intake.web"),
        ("intake.web", "intake.cli"),
    ],
)
def test_no_import_runs_back_up(graph: grimp.ImportGraph, lower: str, upper: str):
    chains = graph.find_shortest_chains(importer=lower, imported=upper)
    assert chains == set(), chains


# --- only storage/ builds queries ---------------------------------------------------------------

ROOT = Path(__file__).resolve().parents[2]
QUERY_BUILDERS = frozenset({"select", "update", "delete", "insert", "text", "col", "func"})
SESSION_METHODS = frozenset(
    {
        "exec", "execute", "add", "add_all", "delete", "get", "get_one", "scalar", "scalars",
        "merge", "flush", "refresh", "commit", "rollback",
    }
)  # fmt: skip
# The heuristic: a session (or connection) is recognised by its name, the names this code base
# gives them; `pending.add(...)`, `seen.add(...)`, `config.get(...)` are not sessions. Handing
# a session to a storage function is allowed, and so is `transaction(engine)` (storage.db).
SESSION_NAMES = frozenset({"session", "s", "conn", "connection"})
ORM_PACKAGES = ("sqlalchemy", "sqlmodel")
# Raw SQL, whatever holds the connection: a string handed to `execute`, or the driver's own
# connection (a PRAGMA, say). Opening a `Session` is storage's too (`transaction` opens one).
RAW_SQL = frozenset({"execute", "exec_driver_sql", "executescript"})
PENDING: set[str] = set()  # moved by the service layer (issue 23 item 1): "path:line what"


def _outside_storage() -> list[Path]:
    return sorted(p for package in ("intake", "notifier") for p in (ROOT / package).rglob("*.py"))


def _queries(path: Path, root: Path = ROOT) -> list[str]:
    """Where a module builds a query or calls a session's methods itself."""
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    name = path.relative_to(root).as_posix()
    found: list[str] = []
    modules: set[str] = set()  # local names bound to sqlalchemy/sqlmodel (or their submodules)
    builders: set[str] = set()  # local names bound to a query builder imported from them
    sessions: set[str] = set()  # local names bound to their Session class
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] in ORM_PACKAGES:
                    modules.add((alias.asname or alias.name).split(".")[0])
        elif isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] in (
            ORM_PACKAGES
        ):
            for alias in node.names:
                if alias.name in QUERY_BUILDERS:
                    builders.add(alias.asname or alias.name)
                    found.append(f"{name}:{node.lineno} imports {alias.name}")
                elif alias.name == "Session":
                    sessions.add(alias.asname or alias.name)
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        if isinstance(func, ast.Name) and func.id in builders | sessions:
            found.append(f"{name}:{node.lineno} {func.id}()")
        elif isinstance(func, ast.Attribute):
            raw = func.attr in RAW_SQL and node.args and isinstance(node.args[0], ast.Constant)
            if raw or func.attr == "raw_connection":
                found.append(f"{name}:{node.lineno} .{func.attr}() (raw SQL)")
            owner = func.value
            while isinstance(owner, ast.Attribute):  # sqlalchemy.sql.expression.select
                owner = owner.value
            if func.attr in QUERY_BUILDERS and isinstance(owner, ast.Name) and owner.id in modules:
                found.append(f"{name}:{node.lineno} {owner.id}...{func.attr}()")
            target = func.value
            called = target.attr if isinstance(target, ast.Attribute) else None
            called = target.id if isinstance(target, ast.Name) else called
            if func.attr in SESSION_METHODS and called in SESSION_NAMES:
                found.append(f"{name}:{node.lineno} {called}.{func.attr}()")
    return found


def test_only_storage_builds_queries():
    found = [hit for path in _outside_storage() for hit in _queries(path)]
    assert [hit for hit in found if hit not in PENDING] == []
    assert PENDING <= set(found), "PENDING lists offenders that are gone: empty it"


def test_the_query_scan_sees_what_it_forbids(tmp_path: Path):
    probe = tmp_path / "probe.py"
    probe.write_text(
        "import sqlalchemy as sa\n"
        "from sqlmodel import Session, select as pick\n"
        "def f(engine, rows, s, seen: set[int]):\n"
        "    with Session(engine) as session:\n"
        "        session.exec(pick(rows))\n"
        "    engine.raw_connection().driver_connection.execute('PRAGMA wal_checkpoint')\n"
        "    s.add(rows)\n"
        "    sa.sql.expression.text('PRAGMA x')\n"
        "    seen.add(1)\n"
        "    rows.get(1)\n",
        encoding="utf-8",
    )
    assert sorted(hit.split(" ", 1)[1] for hit in _queries(probe, tmp_path)) == [
        ".execute() (raw SQL)",
        ".raw_connection() (raw SQL)",
        "Session()",
        "imports select",
        "pick()",
        "s.add()",
        "sa...text()",
        "session.exec()",
    ]


# --- handlers parse, call one service method and render -------------------------------------

MAX_HANDLER_LINES = 20
ROUTE_METHODS = {"get", "post", "put", "patch", "delete"}
# Handlers allowed past the limit, each with why; keep this empty but for what truly cannot be.
LONG_HANDLERS: set[str] = set()


def _handlers() -> list[tuple[str, int]]:
    """Every command (`cmd_*` of intake/cli) and route (intake/web), with its body's lines."""
    root = Path(__file__).resolve().parents[2]
    found = []
    for folder in ("intake/cli", "intake/web"):
        for path in sorted((root / folder).glob("*.py")):
            for node in ast.walk(ast.parse(path.read_text("utf-8"))):
                if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                    continue
                routed = any(
                    isinstance(d, ast.Call)
                    and isinstance(d.func, ast.Attribute)
                    and d.func.attr in ROUTE_METHODS
                    for d in node.decorator_list
                )
                if routed or (folder == "intake/cli" and node.name.startswith("cmd_")):
                    lines = (node.end_lineno or node.lineno) - node.body[0].lineno + 1
                    found.append((f"{folder}/{path.name}::{node.name}", lines))
    return found


def test_the_probe_finds_the_handlers():
    names = {name for name, _ in _handlers()}
    assert {"intake/cli/reading_cmds.py::cmd_demandes", "intake/web/pages.py::demandes"} <= names
    assert len(names) > 40


def test_no_handler_is_longer_than_parse_call_render():
    long = {n: lines for n, lines in _handlers() if lines > MAX_HANDLER_LINES}
    assert set(long) <= LONG_HANDLERS, long
