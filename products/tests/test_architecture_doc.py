"""docs/ARCHITECTURE.md matches the tree: every repository path it names in backticks exists, and
every ``path.py:name`` it names (a function, a class, a method, a table) is defined in that file.
The README links it from "How it is built"."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "ARCHITECTURE.md"

# A repository path in backticks: no spaces, no leading slash (an API path), no scheme; a
# folder ends with "/". With ":name" (or ":Class.method") after a Python file, a name defined in it.
PATH = re.compile(r"`([\w.-]+(?:/[\w.<>-]+)*/?)(?::([\w.]+))?`")
FILE_SUFFIXES = (".py", ".md", ".toml", ".yaml", ".yml", ".txt", ".cfg")


def _references(text):
    """Return the (path, name or None) pairs of the backticked repository paths in ``text``."""
    found = []
    for path, name in PATH.findall(text):
        if "/" in path or path.endswith(FILE_SUFFIXES):
            found.append((path, name or None))
    return found


def _defines(source, name):
    """Tell whether ``source`` defines ``name`` (a def, a class or a module-level assignment)."""
    pattern = rf"^\s*(?:async\s+def|def|class)\s+{re.escape(name)}\b|^{re.escape(name)}\s*[:=]"
    return re.search(pattern, source, re.MULTILINE) is not None


def _missing(text):
    missing = []
    for path, name in _references(text):
        if "<" in path:  # a pattern such as products/http/views/<aggregate>.py: its folder must exist
            path = path.rsplit("/", 1)[0] + "/"
        target = ROOT / path
        if not target.exists():
            missing.append(path)
        elif name is not None:
            source = target.read_text()
            missing.extend(f"{path}:{name}" for part in name.split(".") if not _defines(source, part))
    return missing


def test_every_path_and_name_in_the_architecture_doc_exists():
    text = DOC.read_text()

    assert len(_references(text)) > 50  # the scan does find the paths
    assert _missing(text) == []


def test_the_scan_sees_a_wrong_path_and_a_wrong_name():
    text = (
        "`products/read/worker.py:apply_batch` `products/write/relay.py:run` "
        "`products/read/workers.py` `products/read/worker.py:apply_all` `products/nowhere/` "
        "`products/http/views/<aggregate>.py` `/api/products/` `manage.py asyncapi`"
    )
    assert _missing(text) == ["products/read/workers.py", "products/read/worker.py:apply_all", "products/nowhere/"]


def test_the_readme_links_it_from_how_it_is_built():
    readme = (ROOT / "README.md").read_text()
    section = readme.split("## How it is built", 1)[1].split("\n## ", 1)[0]
    assert "(docs/ARCHITECTURE.md)" in section
