"""The write side's fixed statements, one ``.sql`` file each, read once at import by ``load``.

A statement here has named parameters (``%(name)s``) and nothing filled in by Python: what it
does is what the file says. Statements assembled from the read tables' declarations (the
stock and checkout statements) are built in ``products/write/commands/*_sql.py`` instead.
"""

from pathlib import Path

_HERE = Path(__file__).parent


def load(name):
    """Return the text of the statement ``name`` (``<name>.sql`` beside this module)."""
    return (_HERE / f"{name}.sql").read_text()
