from __future__ import annotations

import ast
from pathlib import Path

import recommender

FORBIDDEN = ("sqlalchemy", "marketplace", "billing", "portal_plugin", "analytics")


def test_recommender_imports_no_database_or_product_code() -> None:
    root = Path(recommender.__file__).parent
    offenders = []
    for path in sorted(root.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names: list[str] = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            offenders += [
                f"{path.name}: {name}" for name in names if name.split(".")[0] in FORBIDDEN
            ]
    assert offenders == []
