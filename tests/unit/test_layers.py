"""The house reads as the flow of a demande: no import cycles, and no import running back
up (storage and notifier never import intake; the feed never imports storage)."""

from __future__ import annotations

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
    [("storage", "intake"), ("notifier", "intake"), ("intake.feed", "storage")],
)
def test_no_import_runs_back_up(graph: grimp.ImportGraph, lower: str, upper: str):
    chains = graph.find_shortest_chains(importer=lower, imported=upper)
    assert chains == set(), chains
