"""bench/ and chaos/ share what they share through harness/, never through each other or tests/;
harness/ depends on none of the three. Read from the sources' imports (every one, inside functions too)."""
import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
FORBIDDEN = {
    "bench": {"chaos", "tests"},
    "chaos": {"bench", "tests"},
    "harness": {"bench", "chaos", "tests"},
}


def imported_packages(source: str, own_package: str) -> list[tuple[int, str]]:
    """(line, top-level package) of every import in `source`; a relative import is of `own_package`."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name.split(".")[0]) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            found.append((node.lineno, own_package if node.level else node.module.split(".")[0]))
    return sorted(found)


def violations(package: str) -> list[str]:
    return [
        f"{path.relative_to(ROOT)}:{line} imports {imported}"
        for path in sorted((ROOT / package).rglob("*.py"))
        for line, imported in imported_packages(path.read_text(), package)
        if imported in FORBIDDEN[package]
    ]


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_a_package_imports_none_of_the_packages_it_must_not(package):
    assert list((ROOT / package).rglob("*.py")), f"no sources under {package}/"
    assert violations(package) == []


def test_an_import_inside_a_function_counts_as_much_as_one_at_the_top():
    source = "import os\nfrom harness.stats import percentiles\n\ndef run():\n    from tests.support import kafka\n"

    assert imported_packages(source, "bench") == [(1, "os"), (2, "harness"), (5, "tests")]


def test_import_x_dot_y_and_a_relative_import_are_read_as_their_packages():
    source = "import chaos.faults, json\nfrom . import stats\n"

    assert imported_packages(source, "bench") == [(1, "chaos"), (1, "json"), (2, "bench")]
