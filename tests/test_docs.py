"""The README and docs/*.md tell the truth: every ```python block runs, every link resolves.

Each block runs as a script of its own, in a fresh process and an empty working folder (so a
block that trains leaves its run folder there and nothing it sets leaks into other tests), with
the repository on the import path. A block is skipped only when the line before its fence is
``<!-- no-run: REASON -->`` (a GPU, several processes, an output listing), or when a marker
names it as a block another test runs (``RUN_ELSEWHERE``).
"""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
FENCE = re.compile(r"^```python\n(.*?)^```", re.M | re.S)
NO_RUN = re.compile(r"<!-- no-run: \S.* -->")
RUN_ELSEWHERE = {  # marker before the fence -> the test that runs that block
    "<!-- api-example -->": "tests/test_readme.py",
    "<!-- checker-example -->": "tests/transforms/test_readme_section.py",
}
MAX_NO_RUN = 3  # "sparingly": a block that cannot run on a CPU in seconds is the exception


def _blocks():
    """(file, line, preceding line, code) of every ```python block."""
    for path in DOCS:
        text = path.read_text(encoding="utf-8")
        for found in FENCE.finditer(text):
            before = text[:found.start()].rstrip("\n").rsplit("\n", 1)[-1].strip()
            line = text.count("\n", 0, found.start()) + 1
            yield path.relative_to(ROOT).as_posix(), line, before, found.group(1)


BLOCKS = list(_blocks())


@pytest.mark.parametrize("where,line,before,code", BLOCKS,
                         ids=[f"{w}:{n}" for w, n, _, _ in BLOCKS])
def test_python_block_runs(where, line, before, code, tmp_path):
    if NO_RUN.fullmatch(before):
        pytest.skip(f"{where}:{line} is marked {before}")
    if before in RUN_ELSEWHERE:
        pytest.skip(f"{where}:{line} is run by {RUN_ELSEWHERE[before]}")
    script = tmp_path / f"block_{line}.py"
    script.write_text(code, encoding="utf-8")
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(
        [str(ROOT), *filter(None, [os.environ.get("PYTHONPATH")])]))
    done = subprocess.run([sys.executable, script.name], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, f"{where}:{line} failed:\n{done.stderr[-4000:]}"


def test_blocks_run_elsewhere_are_run_there():
    for marker, test in RUN_ELSEWHERE.items():
        assert marker.split()[1] in (ROOT / test).read_text(encoding="utf-8"), (marker, test)
        assert any(before == marker for _, _, before, _ in BLOCKS), f"no block after {marker}"


def test_no_run_is_used_sparingly():
    marked = [f"{w}:{n}" for w, n, before, _ in BLOCKS if NO_RUN.fullmatch(before)]
    assert len(marked) <= MAX_NO_RUN, marked


@pytest.mark.parametrize("path", DOCS, ids=[p.name for p in DOCS])
def test_relative_links_resolve(path):
    text = path.read_text(encoding="utf-8")
    for target in re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", text):
        if re.match(r"[a-z]+://", target):
            continue
        assert (path.parent / target).exists(), f"{path.name} links to missing {target}"


@pytest.mark.parametrize("path", DOCS, ids=[p.name for p in DOCS])
def test_docs_state_current_facts_not_history(path):
    text = path.read_text(encoding="utf-8")
    assert not re.search(r"\bround \d", text, re.I), f"{path.name}: development rounds"
    assert "performance-history" not in text


def test_readme_is_a_short_entry():
    lines = (ROOT / "README.md").read_text(encoding="utf-8").count("\n")
    assert lines <= 300, f"README.md has {lines} lines; details belong in docs/"
