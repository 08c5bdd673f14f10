"""docs/transforms.md tells the truth: its check_function example prints the report shown below
it, and its checker table is what ``python -m torchnn.testing --table`` prints (see
test_check_every_function.py)."""

import re
import subprocess
import sys
from pathlib import Path

DOC = Path(__file__).resolve().parents[2] / "docs" / "transforms.md"
TEXT = DOC.read_text(encoding="utf-8")


def between(marker: str) -> str:
    found = re.search(rf"<!-- {marker} -->\n(.*?)<!-- /{marker} -->", TEXT, re.S)
    assert found, f"docs/transforms.md has no <!-- {marker} --> block"
    return "\n".join(ln for ln in found.group(1).splitlines() if not ln.startswith("```")).strip()


def _numbers_blurred(text: str) -> str:
    # NOTE: the op count of the compiled graph is Dynamo's to choose: 2 on torch 2.13, 1 on 2.8
    return re.sub(r"\d+ ops;", "# ops;", re.sub(r"\d+\.\d+(e[+-]\d+)?", "#", text))


def test_checker_example_prints_the_report_shown(tmp_path):
    # NOTE: run as a script, as a reader would: Dynamo imports the module a traced class was
    # defined in, which exec() in a made-up namespace does not provide
    script = tmp_path / "checker_example.py"
    script.write_text(between("checker-example"), encoding="utf-8")
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                          timeout=300, check=False)
    assert done.returncode == 0, done.stderr
    printed = done.stdout.strip()
    assert "FAIL" in printed and "gradcheck (backward)" in printed
    assert _numbers_blurred(printed) == _numbers_blurred(between("checker-output"))


def test_transforms_table_has_no_failure():
    table = between("transforms-table")
    assert table.count("\n") >= 10 and "✗" not in table
