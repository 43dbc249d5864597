"""Errors of tender scoring: each names the input, the rule or row at fault, and the fix.

They extend :class:`extractor.errors.ConfigError` (a problem the user can fix), as ``retrieval/errors.py`` does for
its own errors, so the service maps them to its one JSON error shape like any other; ``code`` tells them apart.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from extractor.errors import ConfigError

if TYPE_CHECKING:
    from pydantic import ValidationError


class ScoringError(ConfigError):
    """A scoring scheme, score or cost the user can fix (unknown question id, score off the scale, …)."""

    code = "scoring_error"


class InvalidScoreError(ScoringError):
    """An evaluator's or a moderator's score that does not fit the scheme (unknown question, points off the scale)."""

    code = "invalid_score"


class ScoringIncompleteError(ScoringError):
    """Totals were asked for before every (question, supplier) pair was moderated or every cost confirmed."""

    code = "scoring_incomplete"


@dataclass(frozen=True, slots=True)
class ImportProblem:
    """One problem in an imported question list.

    Attributes:
        where: Where it is, e.g. "row 4, column 'weight'" or "sheet 'Questions', cell D5 (column 'weight')".
        problem: What is wrong, with the bad value.
        fix: What to do about it.
    """

    where: str
    problem: str
    fix: str

    def __str__(self) -> str:
        return f"{self.where}: {self.problem} {self.fix}".strip()


class QuestionImportError(ScoringError):
    """A tender's own question list (JSON, CSV or XLSX) cannot be imported; ``problems`` lists every row at fault.

    Attributes:
        filename: The file's name, first in the message.
        problems: Every problem found, in file order (the message shows the first five).
    """

    code = "question_import_error"

    def __init__(self, filename: str, problems: list[ImportProblem]) -> None:
        self.filename = filename
        self.problems = list(problems)
        shown = "; ".join(f"{p.where}: {p.problem.rstrip('.')}" for p in self.problems[:5])
        more = f" (and {len(self.problems) - 5} more)" if len(self.problems) > 5 else ""
        noun = "problem" if len(self.problems) == 1 else "problems"
        fixes = list(dict.fromkeys(p.fix for p in self.problems[:5]))
        hint = " ".join(fixes) if len(fixes) == 1 else " ".join([*fixes, "Fix each place named and import the file again."])
        super().__init__(f"{filename}: {len(self.problems)} {noun} in the question list: {shown}{more}.", hint=hint)


@dataclass(frozen=True, slots=True)
class WeightViolation:
    """One national weighting rule a scheme breaks.

    Attributes:
        rule: Stable name of the rule, e.g. "whole_life_cost_max_40".
        title: The rule in words, e.g. "whole-life cost at most 40%".
        actual: The scheme's figure, in percentage points.
        limit: The rule's limit, in percentage points.
        questions: Ids of the questions whose weights make up ``actual``.
        message: What is wrong, with the numbers.
        fix: What to change.
    """

    rule: str
    title: str
    actual: float
    limit: float
    questions: tuple[str, ...]
    message: str
    fix: str

    def __str__(self) -> str:
        return f"{self.message} {self.fix}"


class WeightRuleError(ScoringError):
    """A scheme's weights break one or more of the national rules; ``violations`` lists each one.

    Attributes:
        violations: Every rule broken, in the order the rules are checked.
    """

    code = "weight_rule_broken"

    def __init__(self, scheme: str, violations: list[WeightViolation]) -> None:
        self.violations = list(violations)
        rules = ", ".join(v.rule for v in self.violations)
        detail = " ".join(v.message for v in self.violations)
        fixes = " ".join(v.fix for v in self.violations)
        super().__init__(f"the weights of scheme {scheme!r} break the national VBP rules ({rules}): {detail}", hint=fixes)


def first_error(e: ValidationError) -> str:
    """A pydantic validation error's first problem in words: "weight: Input should be greater than 0"."""
    err = e.errors()[0]
    where = ".".join(str(p) for p in err.get("loc", ()))
    msg = str(err["msg"]).removeprefix("Value error, ")
    return f"{where}: {msg}" if where else msg
