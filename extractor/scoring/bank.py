"""Question banks shipped as versioned data, loaded by name, and the scheme a tender draws from one."""

from __future__ import annotations

import json
from functools import lru_cache
from importlib import resources

from pydantic import ValidationError

from extractor.scoring.errors import ScoringError, first_error
from extractor.scoring.models import QuestionBank, Scheme, ScoreScale
from extractor.scoring.scheme import select_questions

#: The bank a new tender starts from.
DEFAULT_BANK = "vbp-questions.v1"


def list_banks() -> list[str]:
    """Names of the question banks shipped with the package (``extractor/scoring/banks/*.json``), sorted."""
    folder = resources.files("extractor.scoring").joinpath("banks")
    return sorted(p.name[: -len(".json")] for p in folder.iterdir() if p.name.endswith(".json"))


@lru_cache(maxsize=8)
def _load(name: str) -> QuestionBank:
    names = list_banks()
    if name not in names:
        raise ScoringError(f"no question bank named {name!r}.", hint=f"Use one of: {', '.join(names)}.")
    text = resources.files("extractor.scoring").joinpath("banks", f"{name}.json").read_text(encoding="utf-8")
    try:
        bank = QuestionBank.model_validate(json.loads(text))
    except (ValueError, ValidationError) as e:  # json.JSONDecodeError is a ValueError
        raise ScoringError(f"the question bank {name!r} cannot be read: {e}", hint="Restore the file from the repository.", original=e) from e
    if bank.name != name:
        raise ScoringError(f"the question bank file {name}.json names itself {bank.name!r}.", hint="Make the two agree.")
    return bank


def load_bank(name: str = DEFAULT_BANK) -> QuestionBank:
    """Load a shipped question bank by name.

    Args:
        name: The bank's name and version, e.g. "vbp-questions.v1" (its file name without ``.json``).

    Returns:
        The bank (a fresh copy: callers may change it).

    Raises:
        ScoringError: no bank has that name (the message lists the names), or its file is not a valid bank.
    """
    return _load(name).model_copy(deep=True)


def scheme_from_bank(
    bank: QuestionBank | str = DEFAULT_BANK, *, name: str | None = None, question_ids: list[str] | None = None,
    scale: ScoreScale | None = None, cost_formula: str = "lowest_over_own",
) -> Scheme:
    """A tender's scheme drawn from a bank: all its questions with their default weights, or the ones named.

    The scheme is not checked against the national weighting rules here: a tender selects and edits first and
    checks when it saves (:func:`extractor.scoring.weights.validate_scheme`). The bank's default weights meet them.

    Args:
        bank: The bank, or its name.
        name: The scheme's name (default: the bank's name).
        question_ids: The questions that apply, in the order given (default: all of them).
        scale: The score scale (default: outstanding 4 to no response 0).
        cost_formula: The whole-life cost formula's name.

    Returns:
        The new scheme; its ``source`` is "bank:<bank name>".

    Raises:
        ScoringError: unknown bank or question id, or an unknown cost formula.
    """
    if isinstance(bank, str):
        bank = load_bank(bank)
    try:
        scheme = Scheme(name=name or bank.name, source=f"bank:{bank.name}", questions=[q.model_copy(deep=True) for q in bank.questions],
                        scale=scale or ScoreScale(), cost_formula=cost_formula)
    except ValidationError as e:
        raise ScoringError(f"cannot draw a scheme from the bank {bank.name!r}: {first_error(e)}.",
                           hint="Check the cost formula and the scale.", original=e) from e
    return select_questions(scheme, question_ids) if question_ids is not None else scheme
