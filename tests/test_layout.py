"""The tests' own layout: test modules share helpers through tests/support, never each other.

A test module that imports another one runs the other's tests twice (or drags its fixtures in by
name), and a conftest is pytest's to load, not a module to import from. Fixtures that several
directories use come from the `*_fixtures` plugins in tests/support, registered once in
tests/conftest.py, and are asked for by name.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TESTS = ROOT / "tests"
SUPPORT = TESTS / "support"
# bench/ and scripts/ reuse test helpers too; they follow the same rule.
CHECKED = (TESTS, ROOT / "bench", ROOT / "scripts")


def python_files() -> list[Path]:
    return sorted(
        path
        for folder in CHECKED
        for path in folder.rglob("*.py")
        if "__pycache__" not in path.parts
    )


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported_names(path: Path) -> Iterator[tuple[int, str]]:
    """(line, dotted name) of each module `path` imports, and of each name it takes from one."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    package = module_name(path)
    if path.name != "__init__.py":
        package = package.rpartition(".")[0]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom):
            origin = node.module or ""
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                origin = ".".join([*base, node.module] if node.module else base)
            yield node.lineno, origin
            # `from tests.billing import test_invoices` imports a module too.
            for alias in node.names:
                yield node.lineno, f"{origin}.{alias.name}"


def forbidden(name: str) -> tuple[str, str] | None:
    """The module in `name` that no one may import, and what it is; None when all is well."""
    parts = name.split(".")
    if parts[0] != "tests":
        return None
    for depth, part in enumerate(parts[1:], start=2):
        module = ".".join(parts[:depth])
        if part == "conftest":
            return module, "a conftest"
        if part.startswith("test_"):
            return module, "a test module"
        if parts[1] == "support" and part.endswith("_fixtures"):
            return module, "a fixture plugin (ask for its fixtures by name)"
    return None


def test_no_module_imports_a_test_module_a_conftest_or_a_fixture_plugin() -> None:
    problems = sorted(
        {
            f"{path.relative_to(ROOT)}:{line} imports {found[0]}: {found[1]}"
            for path in python_files()
            for line, name in imported_names(path)
            if (found := forbidden(name))
        }
    )
    assert not problems, "share it through tests/support instead:\n" + "\n".join(problems)


def test_every_test_directory_is_a_package() -> None:
    # Test module basenames repeat across directories (marketplace/bookings/test_services.py and
    # marketplace/creatives/test_services.py): only packages keep their module names apart.
    missing = sorted(
        str(folder.relative_to(ROOT))
        for folder in {path.parent for path in TESTS.rglob("*.py")}
        if "__pycache__" not in folder.parts and not (folder / "__init__.py").is_file()
    )
    assert not missing, f"directories without __init__.py: {missing}"


def test_every_fixture_plugin_is_registered_in_the_root_conftest() -> None:
    tree = ast.parse((TESTS / "conftest.py").read_text(encoding="utf-8"))
    registered: list[str] = []
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(
            isinstance(target, ast.Name) and target.id == "pytest_plugins"
            for target in node.targets
        ):
            registered = list(ast.literal_eval(node.value))
    plugins = sorted(module_name(path) for path in SUPPORT.glob("*_fixtures.py"))
    assert plugins, "no fixture plugins found in tests/support"
    assert sorted(registered) == plugins
