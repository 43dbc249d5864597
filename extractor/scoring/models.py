"""The data of tender scoring, defined with the rest of the evidence model in ``extractor.schema`` (one schema module)
and named here for the scoring package's own modules and callers."""

from extractor.schema import (  # noqa: F401
    ScoringMethod,
    Question,
    ScaleLevel,
    ScoreScale,
    Scheme,
    QuestionBank,
    ScoreKey,
    PairKey,
    EvaluatorScore,
    ModeratedScore,
    ScoreSpread,
    ModerationRow,
    ScoringProgress,
    SupplierCosts,
    QuestionResult,
    SupplierTotal,
    RankRow,
    EvidenceMatch,
    EvidenceFlag,
    QuestionEvidence,
    VALUE_DOMAINS,
    DOMAIN_LABELS,
    COST_COMPONENTS,
    COST_FORMULA_NAMES,
)

__all__ = ["ScoringMethod", "Question", "ScaleLevel", "ScoreScale", "Scheme", "QuestionBank", "ScoreKey", "PairKey", "EvaluatorScore", "ModeratedScore", "ScoreSpread", "ModerationRow", "ScoringProgress", "SupplierCosts", "QuestionResult", "SupplierTotal", "RankRow", "EvidenceMatch", "EvidenceFlag", "QuestionEvidence", "VALUE_DOMAINS", "DOMAIN_LABELS", "COST_COMPONENTS", "COST_FORMULA_NAMES"]
