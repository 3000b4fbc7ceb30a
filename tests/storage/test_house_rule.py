"""The house rule, enforced: nothing outside storage/ writes SQL or imports the models.

Every module of ``newswatch/`` and ``crawler/`` is parsed (not imported) and its imports
checked:

* from SQLAlchemy only what does not build SQL: ``sqlalchemy.orm.Session`` (the type of
  the session the web routes receive and pass to storage's query functions),
  ``sqlalchemy.exc`` (catching a database error) and ``make_url`` (reading a database
  URL).  Anything else (``select``, ``update``, ``insert``, ``delete``, ``text``,
  ``func``, ``sqlalchemy.sql``, ``sqlalchemy.dialects``, a bare ``import sqlalchemy``
  ...) is a statement being written outside storage/: it belongs in a query function
  there.  An allow-list, so that a name nobody thought of is caught too;
* no ``apscheduler.jobstores.sqlalchemy``: subclassing that store is writing SQL
  (storage/jobtable.py is the project's one);
* ``storage.models`` and ``storage.migrations`` only under ``if TYPE_CHECKING:``
  (annotating the objects a storage function returns); never at run time.

import-linter (pyproject.toml) holds the models part too, for ``./dev check``; it cannot
tell ``from sqlalchemy import select`` from ``from sqlalchemy.orm import Session`` (it sees
external packages as a whole), hence this test.  Benchmarks and tests are not the
application and may write SQL.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
CHECKED = ("newswatch", "crawler")

#: module -> the names that may be imported from it (None: any name).
ALLOWED_SQLALCHEMY: dict[str, frozenset[str] | None] = {
    "sqlalchemy": frozenset({"make_url"}),
    "sqlalchemy.engine": frozenset({"make_url", "URL"}),
    "sqlalchemy.exc": None,
    "sqlalchemy.orm": frozenset({"Session"}),
}
FORBIDDEN = ("apscheduler.jobstores.sqlalchemy",)
TYPE_ONLY = ("storage.models", "storage.migrations")


def _within(module: str, packages: tuple[str, ...]) -> bool:
    return any(module == package or module.startswith(package + ".") for package in packages)


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


class _Imports(ast.NodeVisitor):
    def __init__(self) -> None:
        self.problems: list[str] = []
        self._type_only = 0

    def visit_If(self, node: ast.If) -> None:
        if not _is_type_checking(node.test):
            self.generic_visit(node)
            return
        self._type_only += 1
        for statement in node.body:
            self.visit(statement)
        self._type_only -= 1
        for statement in node.orelse:
            self.visit(statement)

    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            # A bare ``import sqlalchemy`` opens all of it (``sa.select``).
            if _within(alias.name, ("sqlalchemy",)) or self._breaks(alias.name):
                self._report(node, f"import {alias.name}")

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        if node.level or node.module is None:
            return  # relative: within the module's own package
        names = [alias.name for alias in node.names]
        statement = f"from {node.module} import {', '.join(names)}"
        if _within(node.module, ("sqlalchemy",)):
            allowed = ALLOWED_SQLALCHEMY.get(node.module, frozenset())
            if allowed is not None and any(name not in allowed for name in names):
                self._report(node, statement)
            return
        # ``from storage import models`` imports the module storage.models.
        if any(self._breaks(module) for module in [node.module, *(f"{node.module}.{n}" for n in names)]):
            self._report(node, statement)

    def _breaks(self, module: str) -> bool:
        return _within(module, FORBIDDEN) or (_within(module, TYPE_ONLY) and not self._type_only)

    def _report(self, node: ast.stmt, statement: str) -> None:
        self.problems.append(f"line {node.lineno}: {statement}")


def violations(source: str) -> list[str]:
    """The imports of ``source`` that break the house rule, one line each."""
    visitor = _Imports()
    visitor.visit(ast.parse(source))
    return visitor.problems


def test_no_module_outside_storage_writes_sql_or_imports_the_models() -> None:
    found = [
        f"{path.relative_to(REPO)} {problem}"
        for package in CHECKED
        for path in sorted((REPO / package).rglob("*.py"))
        for problem in violations(path.read_text(encoding="utf-8"))
    ]
    assert not found, (
        "SQL or the models outside storage/ (put the statement in a query function in storage/):\n"
        + "\n".join(found)
    )


@pytest.mark.parametrize("source", [
    "from sqlalchemy import select",
    "from sqlalchemy import update, make_url",
    "from sqlalchemy import insert",
    "from sqlalchemy import delete",
    "from sqlalchemy import text",
    "from sqlalchemy import func",
    "from sqlalchemy.sql import expression",
    "from sqlalchemy.sql.expression import null",
    "from sqlalchemy.dialects import postgresql",
    "from sqlalchemy.dialects.sqlite import insert",
    "from sqlalchemy.orm import Session, sessionmaker",
    "import sqlalchemy",
    "import sqlalchemy as sa",
    "import sqlalchemy.sql",
    "from storage.models import Watch",
    "from storage import models",
    "import storage.models",
    "from storage.migrations import env",
    "from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore",
    "def f():\n    from storage.models import Watch",
    "if TYPE_CHECKING:\n    pass\nelse:\n    from storage.models import Watch",
])
def test_the_check_catches(source: str) -> None:
    assert violations(source), source


@pytest.mark.parametrize("source", [
    "from sqlalchemy.orm import Session",
    "from sqlalchemy.exc import SQLAlchemyError, OperationalError",
    "from sqlalchemy import make_url",
    "from storage import browse, watches",
    "from storage.db import Database",
    "from apscheduler.jobstores.memory import MemoryJobStore",
    "if TYPE_CHECKING:\n    from storage.models import Watch",
    "if typing.TYPE_CHECKING:\n    from storage import models",
    "from .jobstore import SafeJobStore",
])
def test_the_check_lets_through(source: str) -> None:
    assert violations(source) == [], source
