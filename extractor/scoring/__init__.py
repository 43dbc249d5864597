"""Scoring a tender the way the national VBP standard does (issue 13): the domain rules, with no storage behind them.

- ``bank``: question banks shipped as versioned data (``banks/vbp-questions.v1.json``), loaded by name;
- ``importing``: a tender's own questions and weights from JSON, CSV or XLSX, every row checked;
- ``scheme``: selecting and editing questions (pure functions returning a new scheme);
- ``weights``: the national weighting rules (WLC at most 40%, value domains at least 60%, social value at least 10%);
- ``evidence``: a supplier's claims that bear on each question, ranked, with reasons and flags;
- ``scores``: checking scores, the blind rule, spreads, moderation and completeness;
- ``totals``: quality, whole-life cost and total scores by domain, and the ranking table;
- ``models`` and ``errors``: their data and errors.

Names are re-exported lazily (PEP 562): importing the package imports nothing heavy (no numpy, no openpyxl).
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "bank": ("DEFAULT_BANK", "list_banks", "load_bank", "scheme_from_bank"),
    "importing": ("import_questions", "read_questions"),
    "scheme": ("add_question", "edit_question", "select_questions", "set_weights"),
    "weights": ("NATIONAL_RULES", "WeightRules", "check_weights", "domain_weights", "validate_scheme"),
    "evidence": ("EvidenceSettings", "claim_key", "map_evidence"),
    "scores": ("check_score", "moderation_rows", "score_spread", "scoring_progress", "visible_scores"),
    "totals": ("COST_FORMULAS", "cost_fractions", "rank_suppliers", "supplier_totals"),
    "models": (
        "EvaluatorScore", "EvidenceMatch", "ModeratedScore", "Question", "QuestionBank", "RankRow", "ScaleLevel", "Scheme",
        "ScoreKey", "ScoreScale", "ScoringMethod", "SupplierCosts", "SupplierTotal",
    ),
    "errors": ("InvalidScoreError", "QuestionImportError", "ScoringError", "ScoringIncompleteError", "WeightRuleError"),
}
_WHERE = {name: module for module, names in _EXPORTS.items() for name in names}

__all__ = [
    "COST_FORMULAS", "DEFAULT_BANK", "EvaluatorScore", "EvidenceMatch", "EvidenceSettings", "InvalidScoreError",
    "ModeratedScore", "NATIONAL_RULES", "Question", "QuestionBank", "QuestionImportError", "RankRow", "ScaleLevel",
    "Scheme", "ScoreKey", "ScoreScale", "ScoringError", "ScoringIncompleteError", "ScoringMethod", "SupplierCosts",
    "SupplierTotal", "WeightRuleError", "WeightRules", "add_question", "check_score", "check_weights", "claim_key",
    "cost_fractions", "domain_weights", "edit_question", "import_questions", "list_banks", "load_bank",
    "map_evidence", "moderation_rows", "rank_suppliers", "read_questions", "scheme_from_bank", "score_spread",
    "scoring_progress", "select_questions", "set_weights", "supplier_totals", "validate_scheme", "visible_scores",
]


def __getattr__(name: str) -> Any:
    if name not in _WHERE:
        raise AttributeError(f"module 'extractor.scoring' has no attribute {name!r}")
    return getattr(importlib.import_module(f"extractor.scoring.{_WHERE[name]}"), name)


def __dir__() -> list[str]:
    return list(__all__)
