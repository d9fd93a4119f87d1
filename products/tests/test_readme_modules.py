"""The README's module table ("How it is built") matches the tree: every path it names exists,
and every module of the layered packages is named in the row of its package."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# The packages whose modules the table lists one by one.
LISTED_PACKAGES = (
    "products/events",
    "products/write/commands",
    "products/read/queries",
    "products/http/views",
    "products/http/serializers",
)


def _module_rows():
    """Return the table's rows as (path, role text), in order."""
    readme = (ROOT / "README.md").read_text()
    section = readme.split("## How it is built", 1)[1].split("\n## ", 1)[0]
    rows = re.findall(r"^\| `([^`]+)` \| (.*) \|$", section, re.MULTILINE)
    assert rows, "no module table under 'How it is built'"
    return rows


def test_every_path_in_the_module_table_exists():
    missing = [path for path, _ in _module_rows() if not (ROOT / path).exists()]
    assert missing == []


def test_every_module_of_the_layered_packages_is_named_in_its_row():
    rows = _module_rows()
    unnamed = []
    for package in LISTED_PACKAGES:
        for module in sorted((ROOT / package).glob("*.py")):
            if module.name == "__init__.py":
                continue
            path = module.relative_to(ROOT).as_posix()
            # The row of the deepest listed folder that holds the module names it relative to that folder.
            holders = [(row, role) for row, role in rows if row.endswith("/") and path.startswith(row)]
            if not holders:
                unnamed.append(path)
                continue
            row, role = max(holders, key=lambda holder: len(holder[0]))
            if f"`{path[len(row) :]}`" not in role:
                unnamed.append(path)
    assert unnamed == []


def test_the_new_modules_are_named():
    text = " ".join(f"{path} {role}" for path, role in _module_rows())
    for name in (
        "serializers/reservations.py",
        "serializers/batches.py",
        "commands/expire_reservations.py",
        "views/reservations.py",
        "views/stock.py",
        "stock_batches.py",
    ):
        assert f"{name}`" in text, name
