"""torchnn's own Functions and DeepNetwork pass every check of torchnn.testing.check_function
against their native PyTorch references (the table in the README comes from the same run:
``python -m torchnn.testing --table``)."""

import pytest

from tests.transforms.helpers import cases, ids
from torchnn.testing import CHECKS, PASS, check_function
from torchnn.testing.__main__ import markdown_table


@pytest.fixture(scope="module")
def reports():
    return {c.name: check_function(c.fn, *c.inputs, reference=c.reference, name=c.name)
            for c in cases()}


@pytest.mark.parametrize("name", ids())
def test_function_passes_every_check(reports, name):
    report = reports[name]
    assert report.passed, report
    assert [r.name for r in report.rows] == list(CHECKS)
    assert all(r.status == PASS for r in report.rows), report  # nothing n/a: all apply


def test_markdown_table_lists_every_check_and_function(reports):
    table = markdown_table(reports)
    lines = table.splitlines()
    assert len(lines) == 2 + len(CHECKS)
    assert all(f"`{n}`" in lines[0] for n in reports)
    assert "FAIL" not in table


def test_readme_checker_table_is_current(reports):
    from tests.transforms.test_readme_section import between

    assert between("checker-table") == markdown_table(reports)
