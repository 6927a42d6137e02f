"""The arrows point one way: nothing below the terminal UI imports Textual."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

UI_FREE = [
    "schemas.tools",
    "schemas.audit",
    "schemas.bundle",
    "schemas.learning",
    "audit_tools",
    "exports",
    "workbench.store.models",
    "workbench.store.engine",
    "workbench.store.migrate",
    "workbench.store.history",
    "workbench.store.changes",
    "workbench.services.audits",
    "workbench.services.returns",
    "workbench.services.casework",
    "workbench.services.distribution",
    "workbench.services.bundle",
    "workbench.services.demo",
    "workbench.services.overview",
    "workbench.services.matrix",
    "workbench.services.return_context",
    "workbench.services.themes",
    "workbench.services.theme_suggest",
    "workbench.services.theme_analysis",
    "workbench.services.kappa",
    "workbench.services.agreement",
    "workbench.services.learning",
    "workbench.services.actions",
    "workbench.services.demo_learning",
    "workbench.services.identifier_scan",
    "workbench.services.exporting",
    "workbench.services.retention",
    "workbench.services.change_history",
    "workbench.tui.autosave",
    "workbench.tui.preferences",
]


@pytest.mark.parametrize("module", UI_FREE)
def test_module_does_not_import_textual(module: str) -> None:
    code = (
        f"import json, sys, {module}; "
        "print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] == 'textual')))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert json.loads(result.stdout) == []


def test_schemas_import_nothing_of_ours() -> None:
    code = (
        "import json, sys, schemas.tools, schemas.audit, schemas.bundle, schemas.learning; "
        "print(json.dumps(sorted(m for m in sys.modules "
        "if m.split('.')[0] in {'workbench', 'audit_tools', 'exports'})))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert json.loads(result.stdout) == []


def test_tools_list_does_not_load_the_database_layer_or_textual() -> None:
    """`workbench tools list` stays quick: neither SQLAlchemy nor Textual is imported."""
    code = (
        "import json, sys\n"
        "from workbench.cli import main\n"
        "try:\n    main(['tools', 'list'])\nexcept SystemExit:\n    pass\n"
        "print(json.dumps(sorted({m.split('.')[0] for m in sys.modules} & "
        "{'sqlalchemy', 'textual', 'alembic'})), file=sys.stderr)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert json.loads(result.stderr.strip().splitlines()[-1]) == []
