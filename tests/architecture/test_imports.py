"""The dependency rules of docs/ARCHITECTURE.md, checked on the code's own imports.

``lint-imports`` runs the contracts declared in pyproject.toml (layers point down; the
statistics engine imports no I/O). The cycle check below covers what a layers contract
cannot: two modules of one package that import each other.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import grimp
import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def graph() -> grimp.ImportGraph:
    return grimp.build_graph("movierec")


def module_cycles(graph: grimp.ImportGraph) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    cycles: list[list[str]] = []
    counter = 0
    for root in sorted(graph.modules):
        if root in index:
            continue
        work = [(root, iter(sorted(graph.find_modules_directly_imported_by(root))))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph.find_modules_directly_imported_by(child)))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    cycles.append(sorted(component))
    return cycles


def test_contracts_of_pyproject_hold() -> None:
    result = subprocess.run(
        [str(Path(sys.executable).with_name("lint-imports")), "--no-cache"],
        cwd=ROOT, capture_output=True, text=True, check=False,
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert "0 broken" in result.stdout


def test_no_module_imports_itself_back(graph: grimp.ImportGraph) -> None:
    assert module_cycles(graph) == []


def test_cycle_check_finds_a_cycle() -> None:
    # The check itself must be able to fail: a two-module loop built in a fresh graph.
    g = grimp.ImportGraph()
    for name in ("pkg", "pkg.a", "pkg.b", "pkg.c"):
        g.add_module(name)
    g.add_import(importer="pkg.a", imported="pkg.b")
    g.add_import(importer="pkg.b", imported="pkg.a")
    g.add_import(importer="pkg.c", imported="pkg.a")
    assert module_cycles(g) == [["pkg.a", "pkg.b"]]


def test_models_do_not_depend_on_evaluation_or_above(graph: grimp.ImportGraph) -> None:
    for above in ("movierec.evaluation", "movierec.selection", "movierec.pipelines"):
        assert graph.find_shortest_chain(importer="movierec.models", imported=above, as_packages=True) is None


def test_web_and_serving_are_not_mutual(graph: grimp.ImportGraph) -> None:
    assert graph.find_shortest_chain(importer="movierec.web", imported="movierec.serving", as_packages=True) is None


def test_every_module_reads_in_one_sitting() -> None:
    limit = 400
    long = {
        str(path.relative_to(ROOT)): n
        for folder in ("movierec", "functions", "training_job")
        for path in (ROOT / folder).rglob("*.py")
        if (n := len(path.read_text(encoding="utf-8").splitlines())) > limit
    }
    assert long == {}, f"modules over {limit} lines: split them along their seams"
