"""``python -m torchnn.testing --table``: run check_function on every torchnn Function and
print the results as a markdown table (checks x Functions)."""

from __future__ import annotations

import argparse
import sys

import torch

from torchnn.testing import CHECKS, FAIL, PASS, check_function
from torchnn.testing._catalog import all_cases

_MARK = {PASS: "✓", FAIL: "✗ FAIL", "n/a": "n/a"}


def markdown_table(reports: dict) -> str:
    """Rows: checks; columns: Functions; cells ✓ / ✗ FAIL / n/a."""
    names = list(reports)
    lines = ["| check | " + " | ".join(f"`{n}`" for n in names) + " |",
             "|---|" + "---|" * len(names)]
    for check in CHECKS:
        cells = [_MARK[reports[n][check].status] for n in names]
        lines.append(f"| {check} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m torchnn.testing", description=__doc__)
    parser.add_argument("--table", action="store_true", help="print the markdown table")
    parser.add_argument("--verbose", action="store_true", help="print every report in full")
    args = parser.parse_args(argv)
    torch.manual_seed(0)
    reports = {c.name: check_function(c.fn, *c.inputs, reference=c.reference, name=c.name)
               for c in all_cases()}
    if args.verbose or not args.table:
        for r in reports.values():
            print(r, end="\n\n")
    if args.table:
        print(markdown_table(reports))
    return 0 if all(r.passed for r in reports.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
