"""The import structure: one direction (shell -> web/cli -> domain -> store -> engines), no circles.

Every ``import`` in every module under ``catalog/`` and ``inference/`` is read from the source
(module level and inside functions alike), so an import hidden in a function to dodge a cycle
is still seen.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("catalog", "inference")

# Rooms from the top floor down; a module may import its own room and any room below it.
# Rooms on the same floor (web and cli; the three engines) may not import each other.
FLOORS: list[tuple[str, ...]] = [
    ("catalog.shell",),
    ("catalog.web", "catalog.cli"),
    ("inference",),
    ("catalog.domain",),
    ("catalog.store",),
    ("catalog.search", "catalog.sqlpp", "catalog.onnxdoc"),
]


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def all_modules() -> dict[str, Path]:
    found = {}
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            if "migrations" not in path.parts:
                found[module_name(path)] = path
    return found


def imports_of(name: str, path: Path, modules: dict[str, Path]) -> set[str]:
    """Return the project modules that ``name`` imports (resolving ``from pkg import mod``)."""
    tree = ast.parse(path.read_text(), str(path))
    is_package = path.name == "__init__.py"
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = name.split(".")
                anchor = anchor[: len(anchor) - node.level + (1 if is_package else 0)]
                base = ".".join(anchor + ([base] if base else []))
            # ``from pkg import mod`` depends on pkg.mod; ``from mod import name`` on mod.
            targets = [
                f"{base}.{alias.name}" if f"{base}.{alias.name}" in modules else base
                for alias in node.names
            ]
        else:
            continue
        for target in targets:
            while target and target not in modules:
                target = target.rpartition(".")[0]
            if target and target != name:
                found.add(target)
    return found


def room_of(module: str) -> tuple[int, str]:
    for floor, rooms in enumerate(FLOORS):
        for room in rooms:
            if module == room or module.startswith(room + "."):
                return floor, room
    raise AssertionError(f"{module} is in no room of the layer map: add it to FLOORS")


def graph() -> dict[str, set[str]]:
    modules = all_modules()
    return {name: imports_of(name, path, modules) for name, path in modules.items()}


def test_every_module_has_a_room():
    for name in all_modules():
        if name in PACKAGES:
            continue
        room_of(name)


def test_imports_run_one_way():
    against = []
    for name, targets in graph().items():
        if name in PACKAGES:
            continue
        floor, room = room_of(name)
        for target in targets:
            if target in PACKAGES:
                continue
            t_floor, t_room = room_of(target)
            if t_room != room and t_floor <= floor:
                against.append(f"{name} -> {target}")
    assert against == [], "imports against the layers:\n" + "\n".join(sorted(against))


def test_no_circles_between_modules():
    g = graph()
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    circles: list[list[str]] = []
    counter = [0]

    def visit(v: str) -> None:  # Tarjan's strongly connected components
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on_stack.add(v)
        for w in g.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                circles.append(sorted(component))

    for v in sorted(g):
        if v not in index:
            visit(v)
    assert circles == [], f"import circles: {circles}"


def test_the_checker_sees_an_import_against_the_layers(tmp_path):
    """The walk finds function-level imports too (a store reaching up into the domain)."""
    src = tmp_path / "m.py"
    src.write_text("def f():\n    from catalog.domain.registry import Registry\n")
    modules = all_modules()
    assert "catalog.domain.registry" in imports_of("catalog.store.fake", src, modules)
