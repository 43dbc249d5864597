"""Selecting and editing a scheme's questions before scoring opens: pure functions that return a new scheme."""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from extractor.scoring.errors import ScoringError, first_error
from extractor.scoring.models import Question, Scheme

#: The fields of a question a tender may edit (its id keys the scores, so it never changes).
EDITABLE_FIELDS: frozenset[str] = frozenset(set(Question.model_fields) - {"id"})


def _unknown_ids(scheme: Scheme, ids: list[str]) -> ScoringError:
    known = [q.id for q in scheme.questions]
    return ScoringError(f"scheme {scheme.name!r} has no question {', '.join(repr(i) for i in ids)}.", hint=f"Use one of: {', '.join(known)}.")


def _rebuild(scheme: Scheme, questions: list[Question | dict[str, Any]], what: str) -> Scheme:
    data = scheme.model_dump()
    data["questions"] = [q.model_dump() if isinstance(q, Question) else q for q in questions]
    try:
        return Scheme.model_validate(data)
    except ValidationError as e:
        raise ScoringError(f"{what} would make scheme {scheme.name!r} invalid: {first_error(e)}.",
                           hint="Correct the value and try again.", original=e) from e


def select_questions(scheme: Scheme, question_ids: list[str]) -> Scheme:
    """Keep only the questions that apply to this procurement, in the order given.

    Args:
        scheme: The scheme to select from.
        question_ids: Ids of the questions to keep.

    Returns:
        A new scheme; ``scheme`` is unchanged. Weights are kept as they were: set them with :func:`set_weights`.

    Raises:
        ScoringError: an id is not in the scheme (the message lists the ids that are), one is named twice, or none is named.
    """
    if not question_ids:
        raise ScoringError(f"no questions selected for scheme {scheme.name!r}.", hint="Name at least one question id.")
    twice = sorted({i for i in question_ids if question_ids.count(i) > 1})
    if twice:
        raise ScoringError(f"question {', '.join(repr(i) for i in twice)} is selected twice.", hint="Name each question once.")
    by_id = {q.id: q for q in scheme.questions}
    unknown = [i for i in question_ids if i not in by_id]
    if unknown:
        raise _unknown_ids(scheme, unknown)
    return _rebuild(scheme, [by_id[i] for i in question_ids], "selecting these questions")


def edit_question(scheme: Scheme, question_id: str, **changes: Any) -> Scheme:
    """Change one question's wording, guidance, weight, keywords, categories or other fields.

    Args:
        scheme: The scheme to edit.
        question_id: The question to change.
        **changes: Field names of :class:`Question` (all but ``id``) and their new values.

    Returns:
        A new scheme with the question changed; ``scheme`` is unchanged.

    Raises:
        ScoringError: unknown question id or field (the message lists the valid ones), or a value the question refuses.
    """
    question = scheme.question(question_id)
    if question is None:
        raise _unknown_ids(scheme, [question_id])
    bad = sorted(set(changes) - EDITABLE_FIELDS)
    if bad:
        raise ScoringError(f"cannot edit {', '.join(repr(b) for b in bad)} of question {question_id!r}.",
                           hint=f"Editable fields: {', '.join(sorted(EDITABLE_FIELDS))} (a question's id never changes).")
    data = question.model_dump()
    data.update(changes)
    if "domain" in changes and "claim_domains" not in changes:
        data["claim_domains"] = []  # follows the new domain
    questions = [data if q.id == question_id else q for q in scheme.questions]
    return _rebuild(scheme, questions, f"editing question {question_id!r}")


def set_weights(scheme: Scheme, weights: dict[str, float]) -> Scheme:
    """Set several questions' weights at once (percentage points); the others keep theirs.

    Args:
        scheme: The scheme to reweight.
        weights: New weight by question id.

    Returns:
        A new scheme; check it against the national rules with :func:`extractor.scoring.weights.validate_scheme`.

    Raises:
        ScoringError: an id is not in the scheme, or a weight is not above 0 and at most 100.
    """
    unknown = [i for i in weights if scheme.question(i) is None]
    if unknown:
        raise _unknown_ids(scheme, unknown)
    questions = [q.model_dump() | {"weight": weights[q.id]} if q.id in weights else q for q in scheme.questions]
    return _rebuild(scheme, questions, "these weights")


def add_question(scheme: Scheme, question: Question) -> Scheme:
    """Add a question of the tender's own at the end of the scheme.

    Raises:
        ScoringError: the id is already used.
    """
    return _rebuild(scheme, [*scheme.questions, question], f"adding question {question.id!r}")
