"""The report ``check_function`` returns: one row per check, with status and reason."""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["PASS", "FAIL", "NA", "CheckResult", "CheckReport", "CheckFailed"]

PASS, FAIL, NA = "pass", "fail", "n/a"


@dataclass(frozen=True)
class CheckResult:
    """One check: its ``name``, ``status`` (pass / fail / n/a) and a one-line ``reason``.

    ``detail`` holds the full error message when the check raised, for debugging.
    """

    name: str
    status: str
    reason: str = ""
    detail: str = ""

    @property
    def passed(self) -> bool:
        return self.status == PASS


@dataclass
class CheckReport:
    """All the checks run on one Function: a table when printed.

    Attributes:
        name: what was checked (the Function's or callable's name).
        rows: one ``CheckResult`` per check, in the order they ran.
    """

    name: str
    rows: list[CheckResult] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        """True when no check failed (n/a rows do not count against it)."""
        return not self.failures

    @property
    def failures(self) -> list[CheckResult]:
        return [r for r in self.rows if r.status == FAIL]

    def __getitem__(self, name: str) -> CheckResult:
        for row in self.rows:
            if row.name == name:
                return row
        raise KeyError(f"no check named {name!r}; the report has {[r.name for r in self.rows]}")

    def status(self) -> dict[str, str]:
        """``{check name: status}``, handy for tables and assertions."""
        return {r.name: r.status for r in self.rows}

    def summary(self) -> str:
        counts = {s: sum(r.status == s for r in self.rows) for s in (PASS, FAIL, NA)}
        return (
            f"check_function({self.name}): {counts[PASS]} passed, {counts[FAIL]} failed, "
            f"{counts[NA]} n/a"
        )

    def __str__(self) -> str:
        width = max([len("check")] + [len(r.name) for r in self.rows])
        lines = [self.summary(), f"  {'check':<{width}}  status  reason"]
        lines.append(f"  {'-' * width}  ------  {'-' * 40}")
        for r in self.rows:
            mark = {PASS: "pass", FAIL: "FAIL", NA: "n/a"}[r.status]
            lines.append(f"  {r.name:<{width}}  {mark:<6}  {r.reason}")
        return "\n".join(lines)

    def __repr__(self) -> str:
        return f"<CheckReport {self.summary()}>"


class CheckFailed(AssertionError):
    """Raised by ``check_function(..., strict=True)`` when a check fails; carries the report."""

    def __init__(self, report: CheckReport) -> None:
        super().__init__(str(report))
        self.report = report
