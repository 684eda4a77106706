"""Guards of the layering that import-linter cannot see."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "marketplace"


def _modules() -> list[Path]:
    return sorted(PACKAGE.rglob("*.py"))


def _is_type_checking(node: ast.If) -> bool:
    return "TYPE_CHECKING" in ast.unparse(node.test)


def _hidden_imports(tree: ast.Module) -> list[tuple[int, str]]:
    """Imports of project modules inside functions, outside `if TYPE_CHECKING:` blocks."""
    found: list[tuple[int, str]] = []

    def visit(node: ast.AST, in_function: bool) -> None:
        if isinstance(node, ast.If) and _is_type_checking(node):
            return
        if in_function and isinstance(node, ast.Import | ast.ImportFrom):
            names = [node.module or ""] if isinstance(node, ast.ImportFrom) else []
            names += [alias.name for alias in node.names] if isinstance(node, ast.Import) else []
            if (isinstance(node, ast.ImportFrom) and node.level) or any(
                name == "marketplace" or name.startswith("marketplace.") for name in names
            ):
                found.append((node.lineno, ast.unparse(node)))
        inside = in_function or isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
        for child in ast.iter_child_nodes(node):
            visit(child, inside)

    visit(tree, False)
    return found


def test_project_modules_are_imported_at_the_top_only():
    """A function-level import hides an upward dependency from import-linter; only the app
    factory, which wires every area together, may import inside its functions."""
    factory = PACKAGE / "__init__.py"
    offenders = [
        f"{path.relative_to(PACKAGE.parent)}:{line}: {code}"
        for path in _modules()
        if path != factory
        for line, code in _hidden_imports(ast.parse(path.read_text()))
    ]
    assert offenders == []


@pytest.mark.parametrize(
    ("source", "hidden"),
    [
        ("def f():\n    from marketplace.tasks import services\n", True),
        ("def f():\n    from . import services\n", True),
        ("def f():\n    import marketplace.tasks\n", True),
        ("def f():\n    import json\n", False),
        ("from marketplace.tasks import services\n", False),
        ("if TYPE_CHECKING:\n    from marketplace.tasks import services\n", False),
        ("def f():\n    if TYPE_CHECKING:\n        from marketplace import x\n", False),
    ],
)
def test_the_import_guard_tells_hidden_imports_apart(source, hidden):
    assert bool(_hidden_imports(ast.parse(source))) is hidden
