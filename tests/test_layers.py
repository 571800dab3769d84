"""How the core's modules depend on each other, read from their source (no imports run): no
import cycles, the cache and the plan below the runner, and no core module importing the
built-in plugins (they are reached through the plugin manager only)."""

from __future__ import annotations

import ast
from pathlib import Path

HARNESS = Path(__file__).resolve().parent.parent / "harness"


def module_name(path: Path) -> str:
    parts = path.relative_to(HARNESS.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(path): path for path in HARNESS.rglob("*.py")}


def imports(path: Path, *, top_level_only: bool) -> set[str]:
    """Modules ``path`` imports: at import time only (not inside functions, not under
    ``if TYPE_CHECKING``), or anywhere."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()

    def visit(nodes: list[ast.stmt]) -> None:
        for node in nodes:
            if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
                continue
            if isinstance(node, ast.Import):
                found.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                found.add(node.module)
                found.update(f"{node.module}.{alias.name}" for alias in node.names)
            elif isinstance(node, (ast.If, ast.Try, ast.With)):
                for block in ("body", "orelse", "finalbody"):
                    visit(getattr(node, block, []))
                for handler in getattr(node, "handlers", []):
                    visit(handler.body)

    if top_level_only:
        visit(tree.body)
    else:
        visit([n for n in ast.walk(tree) if isinstance(n, (ast.Import, ast.ImportFrom))])  # type: ignore[misc]
    return found


def test_no_import_cycles_at_import_time() -> None:
    graph = {
        name: imports(path, top_level_only=True) & set(MODULES) - {name}
        for name, path in MODULES.items()
    }
    done: set[str] = set()

    def walk(name: str, trail: list[str]) -> None:
        if name in trail:
            cycle = trail[trail.index(name) :] + [name]
            raise AssertionError("import cycle: " + " -> ".join(cycle))
        if name in done:
            return
        for dep in sorted(graph[name]):
            walk(dep, [*trail, name])
        done.add(name)

    for name in sorted(graph):
        walk(name, [])


def test_the_cache_and_the_plan_sit_below_the_runner() -> None:
    below = {
        "harness.cache": {"harness.runner", "harness.plan", "harness.training"},
        "harness.plan": {"harness.runner"},
        "harness.versions": {"harness.runner", "harness.cache", "harness.plan"},
    }
    for name, forbidden in below.items():
        found = imports(MODULES[name], top_level_only=False) & forbidden
        assert not found, f"{name} imports {sorted(found)}"


def test_the_core_never_imports_the_built_in_plugins() -> None:
    for name, path in MODULES.items():
        found = {m for m in imports(path, top_level_only=False) if m.startswith("harness_plugins")}
        assert not found, f"{name} imports {sorted(found)}: reach plugins through the registries"


def test_every_import_of_the_project_resolves() -> None:
    """mypy cannot follow ``harness_plugins`` imports (``plugins/`` is read as files), so a
    module moved without its importers updated is caught here."""
    import importlib.util

    root = HARNESS.parent
    files = [*root.glob("harness/**/*.py"), *root.glob("plugins/**/*.py")]
    files += [*root.glob("tests/*.py"), *root.glob("benchmarks/*.py")]
    missing = []
    for path in files:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module and not node.level:
                names = [node.module]
            elif isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            else:
                continue
            for name in names:
                ours = name.split(".")[0] in ("harness", "harness_plugins", "harness_specs")
                if ours and importlib.util.find_spec(name) is None:
                    missing.append(f"{path.relative_to(root)}: {name}")
    assert not missing, "imports of modules that do not exist: " + ", ".join(missing)
