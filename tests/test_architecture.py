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


#: The one module that may set a status: `StateMachine.apply` checks and records each move.
STATE_MACHINE = PACKAGE / "statemachine.py"


def _status_assignments(tree: ast.Module) -> list[tuple[int, str]]:
    """Writes to an attribute named `status`: as an assignment target of any kind (plain,
    unpacked, augmented, annotated, a `for` or `with` target) or through `setattr`."""
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and node.attr == "status":
            if isinstance(node.ctx, ast.Store):  # every assignment target has this context
                found.append((node.lineno, ast.unparse(node)))
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id == "setattr"
            and len(node.args) >= 2
            and isinstance(node.args[1], ast.Constant)
            and node.args[1].value == "status"
        ):
            found.append((node.lineno, ast.unparse(node)))
    return found


def test_statuses_change_only_through_a_state_machine():
    """A status set directly skips the transition table's check and the record of who moved
    it and when: every change goes through `StateMachine.apply`."""
    offenders = [
        f"{path.relative_to(PACKAGE.parent)}:{line}: {code}"
        for path in _modules()
        if path != STATE_MACHINE
        for line, code in _status_assignments(ast.parse(path.read_text()))
    ]
    assert offenders == []


@pytest.mark.parametrize(
    ("source", "assigns"),
    [
        ("payment.status = PaymentStatus.FAILED\n", True),
        ("payment.status, payment.settled_at = PaymentStatus.FAILED, now\n", True),
        ("(a, [b.status, c]) = x\n", True),
        ("a, *entry.status = x\n", True),
        ("entry.attempts = entry.status = 0\n", True),
        ("user.status += 1\n", True),
        ("user.status: UserStatus = UserStatus.ACTIVE\n", True),
        ("user.status: UserStatus\n", True),
        ("for row.status in statuses:\n    pass\n", True),
        ("with opened() as row.status:\n    pass\n", True),
        ("setattr(user, 'status', UserStatus.ACTIVE)\n", True),
        ("def f():\n    self.status = 1\n", True),
        ("status = 409\n", False),
        ("class E:\n    status = 409\n", False),
        ("Task(status=TaskStatus.DRAFT)\n", False),
        ("if task.status == TaskStatus.OPEN:\n    pass\n", False),
        ("x = task.status\n", False),
        ("record.response_status = 200\n", False),
        ("setattr(milestone, name, value)\n", False),
        ("TASK_STATES.apply(task, 'publish', actor_id=None)\n", False),
    ],
)
def test_the_status_guard_tells_assignments_apart(source, assigns):
    assert bool(_status_assignments(ast.parse(source))) is assigns
