"""The package's layout rules (docs/design.md), checked on the source so that they cannot drift:
one-way layering, PyTorch internals in one file, no numpy in the core, small files."""

import ast
import re
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "torchnn"
FILES = sorted(PACKAGE.rglob("*.py"))

# what each part of the package may import from torchnn: functional -> nn -> training -> cli,
# data apart (it stands alone), bench and testing on top of the core
ALLOWED = {
    "functional": {"functional", "_validate"},
    "nn": {"functional", "nn", "_validate"},
    "data": {"data"},
    "training": {"_validate", "data", "functional", "nn", "training"},
    "testing": {"functional", "nn", "testing"},
    "bench": {"bench", "functional", "nn"},
}
INTERNALS = re.compile(r"torch\._C\b|_functorch|forward_ad\._current_level")


def _part(path: Path) -> str:
    rel = path.relative_to(PACKAGE)
    return rel.parts[0] if len(rel.parts) > 1 else rel.stem


def _torchnn_imports(path: Path) -> set[str]:
    """The torchnn subpackages / modules ``path`` imports, at any depth of the file."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
        elif isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        else:
            continue
        found |= {n.split(".")[1] for n in names if n.startswith("torchnn.")}
    return found


def test_the_rules_see_the_package():
    assert len(FILES) > 40 and {_part(f) for f in FILES} >= set(ALLOWED)


@pytest.mark.parametrize("part", sorted(ALLOWED))
def test_layering_is_one_way(part):
    bad = {str(f.relative_to(PACKAGE)): sorted(_torchnn_imports(f) - ALLOWED[part])
           for f in FILES if _part(f) == part}
    assert not {k: v for k, v in bad.items() if v}, f"{part} imports beyond {sorted(ALLOWED[part])}"


def test_pytorch_internals_live_in_one_file():
    users = [str(f.relative_to(PACKAGE)) for f in FILES
             if _part(f) not in ("bench", "testing") and INTERNALS.search(f.read_text())]
    assert users == ["functional/_autograd.py"]


@pytest.mark.parametrize("part", ["functional", "nn"])
def test_no_numpy_in_the_core(part):
    users = [str(f.relative_to(PACKAGE)) for f in FILES if _part(f) == part
             and re.search(r"^\s*(import numpy|from numpy)", f.read_text(), re.M)]
    assert users == []


def test_no_file_over_350_lines():
    long = {str(f.relative_to(PACKAGE)): n for f in FILES
            if (n := len(f.read_text().splitlines())) > 350}
    assert long == {}
