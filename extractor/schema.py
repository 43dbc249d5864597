"""The evidence model: every domain type of vbp-evidence, defined once.

Spans are half-open character intervals ``[start, end)`` over ``Document.text``, the
normalised full text of the document. ``Document.text[span.start:span.end]`` is always the
text the span claims to cover; tests check this for every sentence, passage and claim.
"""

from __future__ import annotations

from datetime import datetime, timezone
from enum import Enum
from itertools import pairwise
from typing import Annotated, NamedTuple

from pydantic import BaseModel, ConfigDict, Field, computed_field, field_validator, model_validator

SCHEMA_VERSION = 1


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=False, use_enum_values=False)


class DocumentKind(str, Enum):
    """What a document is, guessed at parse time and overridable by the user."""

    supplier_submission = "supplier_submission"
    clinical_paper = "clinical_paper"
    other = "other"


class Span(_Model):
    """A half-open character interval ``[start, end)`` over ``Document.text``."""

    start: int = Field(ge=0, description="First character of the span (inclusive).")
    end: int = Field(ge=0, description="One past the last character of the span (exclusive).")

    @model_validator(mode="after")
    def _ordered(self) -> Span:
        if self.end < self.start:
            raise ValueError(f"span end {self.end} is before its start {self.start}")
        return self

    def slice(self, text: str) -> str:
        """Return the part of ``text`` this span covers."""
        return text[self.start : self.end]

    def __len__(self) -> int:
        return self.end - self.start


class Page(_Model):
    """One page of a document with its place in the full text."""

    number: int = Field(ge=1, description="1-based page number in the source file.")
    offset: int = Field(ge=0, description="Offset of the page's first character in Document.text.")
    text: str = Field(description="Normalised text of the page, in reading order, without running headers and footers.")
    has_text_layer: bool = Field(default=True, description="False when the page carries no extractable text (a scan).")
    columns: int = Field(default=1, ge=1, description="Number of text columns detected on the page.")
    ocr_confidence: float | None = Field(
        default=None, ge=0.0, le=1.0,
        description="Mean word confidence (0-1) when the page's text was read by OCR from its image; None for a text layer.",
    )

    @property
    def span(self) -> Span:
        return Span(start=self.offset, end=self.offset + len(self.text))


class Section(_Model):
    """A heading and the stretch of text it governs."""

    title: str = Field(description="Heading text as it appears in the document.")
    label: str = Field(
        description="Canonical section label: abstract, introduction, methods, results, discussion, "
        "conclusion, references, acknowledgements, funding, other; or a slug of the heading for supplier documents."
    )
    level: int = Field(default=1, ge=1, description="Heading depth, 1 for top-level headings.")
    page: int = Field(ge=1, description="Page on which the heading appears.")
    span: Span = Field(description="From the heading to the start of the next heading of the same or higher level.")
    heading_span: Span = Field(description="The heading itself.")


class Sentence(_Model):
    """A sentence (or table row) with its grounding."""

    page: int = Field(ge=1, description="Page the sentence lies on; sentences never cross pages.")
    span: Span = Field(description="Where the sentence lies in Document.text.")
    text: str = Field(description="Verbatim Document.text[span.start:span.end].")
    section: str | None = Field(default=None, description="Label of the section the sentence belongs to.")
    in_table: bool = Field(default=False, description="True for a table row rather than running prose.")


class TableRow(_Model):
    """One row of a table, its cells in left-to-right order."""

    span: Span = Field(description="Where the row lies in Document.text.")
    cells: list[str] = Field(description="Cell texts, left to right.")
    is_header: bool = Field(default=False, description="True for a row taken to hold column labels.")


class Table(_Model):
    """A table kept row by row so that every number stays with its row and column labels."""

    page: int = Field(ge=1, description="Page the table lies on.")
    span: Span = Field(description="From the first row to the last row.")
    caption: str | None = Field(default=None, description="Caption line such as 'Table 2 Outcomes at 6 months', when found.")
    header: list[str] = Field(default_factory=list, description="Column labels (from the header row), when found.")
    rows: list[TableRow] = Field(description="Rows in reading order, header rows included.")


class Location(_Model):
    """Where a stretch of the text sits in a source without fixed pages: a Word paragraph or table cell, a sheet cell."""

    span: Span = Field(description="The stretch of Document.text it covers.")
    page: int = Field(ge=1, description="Page (Word: from the last rendered layout or page breaks; Excel: the sheet's number).")
    label: str = Field(description="For a reader: 'Costs!C7', 'Section 2 Clinical outcomes, paragraph 3', 'Table 1, row 4, cell 2'.")
    formula: str | None = Field(default=None, description="A spreadsheet cell's formula, kept beside its cached value ('=SUM(C3:C6)').")
    context: str | None = Field(default=None, description="A cell's row and column labels, e.g. 'Annual maintenance · Year 2'.")


class TextBox(_Model):
    """Where a line of OCR'd text lies on its page image, to highlight a quote on a scan (a text layer has its own)."""

    page: int = Field(ge=1, description="Page the line is on.")
    span: Span = Field(description="The line's text in Document.text.")
    x0: float = Field(description="Left edge, in PDF points from the page's left.")
    y0: float = Field(description="Bottom edge, in PDF points from the page's bottom (PDF user space: y grows upwards).")
    x1: float = Field(description="Right edge, in PDF points.")
    y1: float = Field(description="Top edge, in PDF points.")
    x_edges: list[float] = Field(default_factory=list, description="Left edge of each character, then the right edge of the last.")


class TotalMismatch(_Model):
    """A figure of the submission that its own numbers contradict: a total that is not the sum of its parts, a
    percentage that is not its count over its denominator, a saving its own cost table does not give, or an all-in
    unit cost below its listed parts."""

    kind: str = Field(default="total", description="'total' (a sum of parts), 'percent' ('12 of 200 (7%)': 12/200 is 6.0%), "
                      "'saving' (a stated saving that the bid's own cost figures do not give), 'unit_cost' (an all-in unit cost "
                      "below the parts it includes, as the bid prices them) or 'restated' (one statement made twice with "
                      "a different figure).")
    label: str = Field(description="The total's row or column label, e.g. 'Total whole-life cost'.")
    location: str = Field(description="Where the total is, e.g. 'Whole-life cost!G12'.")
    span: Span = Field(description="Where the stated total lies in Document.text.")
    page: int = Field(ge=1, description="Page (sheet) of the total.")
    stated: float = Field(description="The total as written (a cell's cached value).")
    computed: float = Field(description="The sum of the parts.")
    parts: list[str] = Field(default_factory=list, description="Locations of the parts that were summed.")
    note: str = Field(default="", description="The finding in words, with both figures.")


class Reference(_Model):
    """One entry of the document's reference list."""

    key: str = Field(description="The marker that cites it: '12' for numbered lists, 'Smith 2019' for author-year lists.")
    text: str = Field(description="Verbatim text of the entry.")
    page: int = Field(ge=1, description="Page on which the entry starts.")
    span: Span = Field(description="Where the entry lies in Document.text.")
    doi: str | None = Field(default=None, description="DOI found in the entry, lower-cased.")
    year: int | None = Field(default=None, description="Publication year found in the entry.")


class Passage(_Model):
    """The retrieval unit: a run of sentences within one page and section."""

    id: str = Field(description="Stable id: '<doc_id>:<index>'.")
    doc_id: str = Field(description="Id of the document the passage comes from.")
    index: int = Field(ge=0, description="Position of the passage in the document.")
    page: int = Field(ge=1, description="Page the passage lies on.")
    span: Span = Field(description="Where the passage lies in Document.text.")
    section: str | None = Field(default=None, description="Label of the section the passage belongs to.")
    text: str = Field(description="Verbatim Document.text[span.start:span.end].")


class Document(_Model):
    """A parsed document: pages, structure and passages, all grounded in ``text``."""

    id: str = Field(description="SHA-256 of the file's bytes, hex: re-ingesting the same file is a no-op.")
    filename: str = Field(description="Name of the file as given by the user.")
    kind: DocumentKind = Field(description="Detected (or user-set) kind of document.")
    kind_source: str = Field(default="detected", description="'detected' or 'user' (set by the caller).")
    title: str | None = Field(default=None, description="Title from the PDF metadata or the first large heading.")
    media_type: str = Field(default="application/pdf", description="Type of the source: application/pdf, text/plain, text/markdown.")
    page_count: int = Field(ge=0, description="Number of pages in the source.")
    pages: list[Page] = Field(description="Pages in order; their texts joined with '\\n\\n' form Document.text.")
    text: str = Field(description="Normalised full text; every span indexes into it.")
    sections: list[Section] = Field(default_factory=list, description="Headings and their extents.")
    sentences: list[Sentence] = Field(default_factory=list, description="Sentences and table rows with spans.")
    tables: list[Table] = Field(default_factory=list, description="Tables, row by row.")
    references: list[Reference] = Field(default_factory=list, description="Entries of the reference list.")
    passages: list[Passage] = Field(default_factory=list, description="Retrieval units cut from the sentences.")
    locations: list[Location] = Field(
        default_factory=list,
        description="Paragraph and cell locations of sources without fixed pages (Word, Excel); empty for PDFs and text.",
    )
    total_mismatches: list[TotalMismatch] = Field(
        default_factory=list, description="Totals that do not equal the sum of their parts (Excel cost models).",
    )
    text_boxes: list[TextBox] = Field(
        default_factory=list, description="Where the lines of OCR'd pages lie on the page image; empty for text layers.",
    )
    warnings: list[str] = Field(default_factory=list, description="Quality warnings, e.g. 'page 4 has no text layer'.")
    metadata: dict[str, str] = Field(default_factory=dict, description="PDF metadata (author, producer, …) and parser facts.")
    parser: str = Field(default="", description="Name and version of the parser that produced the document.")

    def page_at(self, offset: int) -> int:
        """Return the number of the page holding character ``offset`` of ``text``."""
        for page in reversed(self.pages):
            if offset >= page.offset:
                return page.number
        return 1

    def location_at(self, start: int, end: int | None = None) -> Location | None:
        """Return the narrowest location holding ``start`` (and ``end``, when given), if the source has any."""
        end = start if end is None else end
        found = None
        for loc in self.locations:
            if loc.span.start <= start and end <= max(loc.span.end, loc.span.start + 1):
                if found is None or len(loc.span) < len(found.span):
                    found = loc
        return found

    def boxes_for(self, start: int, end: int) -> list[tuple[int, float, float, float, float]]:
        """The boxes (page, x0, y0, x1, y1 in PDF points) covering ``text[start:end]`` on OCR'd pages, line by line."""
        out = []
        for box in self.text_boxes:
            a, b = max(start, box.span.start), min(end, box.span.end)
            if a >= b:
                continue
            edges = box.x_edges
            i, j = a - box.span.start, b - box.span.start
            x0 = edges[i] if i < len(edges) else box.x0
            x1 = edges[j] if j < len(edges) else box.x1
            out.append((box.page, x0, box.y0, x1, box.y1))
        return out

    def section_at(self, offset: int) -> Section | None:
        """Return the innermost section holding character ``offset``, if any."""
        found = None
        for section in self.sections:
            if section.span.start <= offset < section.span.end:
                if found is None or section.level >= found.level:
                    found = section
        return found


# --- claims and quantities -------------------------------------------------------------------


class QuantityKind(str, Enum):
    percent = "percent"
    relative_change = "relative_change"
    absolute_change = "absolute_change"
    ratio = "ratio"
    mean_difference = "mean_difference"
    ci = "ci"
    p_value = "p_value"
    currency = "currency"
    count = "count"
    sample_size = "sample_size"
    duration = "duration"
    rate = "rate"


class RatioMeasure(str, Enum):
    RR = "RR"
    OR = "OR"
    HR = "HR"
    IRR = "IRR"


class Quantity(_Model):
    """A number found in a claim, normalised, with the exact text it came from."""

    kind: QuantityKind = Field(description="What the number measures.")
    value: float = Field(description="The number as a magnitude; the direction of an effect lives in the claim.")
    low: float | None = Field(default=None, description="Lower bound of its interval, when one is given.")
    high: float | None = Field(default=None, description="Upper bound of its interval, when one is given.")
    unit: str = Field(default="", description="'%', an ISO 4217 code, a time unit (days, hours, …) or '' for pure numbers.")
    measure: RatioMeasure | None = Field(default=None, description="For ratios: RR, OR, HR or IRR.")
    comparator_op: str | None = Field(default=None, description="For p-values and bounds: '<', '<=', '=', '>', '>='.")
    price_year: str | None = Field(default=None, description="For money: the price year when stated, e.g. '2023/24'.")
    per: str | None = Field(default=None, description="Denominator of a rate or unit cost, e.g. 'patient', '1,000 bed days'.")
    text: str = Field(description="The exact text of the quantity in the document.")
    span: Span | None = Field(default=None, description="Where the quantity lies in Document.text.")


class ClaimCategory(str, Enum):
    outcome = "outcome"
    cost = "cost"
    safety = "safety"
    resource_use = "resource_use"
    experience = "experience"
    environmental = "environmental"
    social = "social"
    supply = "supply"


class VBPDomain(str, Enum):
    efficiency = "efficiency"
    patient_and_staff = "patient_and_staff"
    supply_chain = "supply_chain"
    social_value = "social_value"
    purpose = "purpose"
    whole_life_cost = "whole_life_cost"


class Direction(str, Enum):
    increase = "increase"
    decrease = "decrease"
    no_difference = "no_difference"
    unspecified = "unspecified"


class EvidenceLevel(str, Enum):
    """Study design behind a claim, strongest first."""

    systematic_review = "systematic_review"
    rct = "rct"
    cohort = "cohort"
    case_series = "case_series"
    economic_evaluation = "economic_evaluation"
    audit = "audit"
    bench = "bench"
    expert_opinion = "expert_opinion"
    none = "none"


class SourceType(str, Enum):
    """Who stands behind the source a claim rests on, most independent first (beside its study design)."""

    peer_reviewed = "peer_reviewed"  # a paper in a journal (volume, pages or DOI)
    regulatory_or_statistic = "regulatory_or_statistic"  # a regulator's, NICE's, NHS England's or a national statistic
    supplier_commissioned = "supplier_commissioned"  # an evaluation the supplier paid for
    own_survey = "own_survey"  # the supplier's survey of its users
    data_on_file = "data_on_file"  # the supplier's unpublished analysis
    expert_opinion = "expert_opinion"
    unknown = "unknown"  # cited, but who is behind it cannot be told
    none = "none"  # nothing cited


class Citation(_Model):
    """A citation marker in a claim and the reference it resolves to."""

    marker: str = Field(description="The marker as written, e.g. '[3]', '3,4' or '(Smith 2019)'.")
    keys: list[str] = Field(default_factory=list, description="Reference keys the marker resolves to.")
    span: Span | None = Field(default=None, description="Where the marker lies in Document.text.")


class Claim(_Model):
    """A grounded statement about the effect, cost, safety or other value of an intervention."""

    id: str = Field(default="", description="Stable id: '<doc_id>:c<index>' once stored.")
    doc_id: str = Field(description="Id of the document the claim comes from.")
    page: int = Field(ge=1, description="Page holding the quote.")
    span: Span = Field(description="Where the quote lies in Document.text.")
    quote: str = Field(min_length=1, description="Verbatim Document.text[span.start:span.end]; a claim that cannot be grounded is never stored.")
    passage_id: str | None = Field(default=None, description="Passage holding the quote.")
    section: str | None = Field(default=None, description="Label of the section holding the quote.")
    location: str | None = Field(
        default=None, description="Paragraph or cell of a Word or Excel source ('Costs!B7'); None where the page says it all (PDF).",
    )
    category: ClaimCategory = Field(description="What kind of value the claim is about.")
    domain: VBPDomain = Field(description="VBP value domain the claim counts towards.")
    direction: Direction = Field(default=Direction.unspecified, description="Direction of the outcome measure.")
    outcome: str = Field(default="", description="The outcome measured, e.g. 'surgical site infection'.")
    intervention: str = Field(default="", description="The product, service or treatment the claim is about.")
    comparator: str = Field(default="", description="What it is compared with, if anything.")
    population: str = Field(default="", description="Who the claim is about.")
    timepoint: str = Field(default="", description="When the outcome was measured, e.g. '12 months'.")
    quantities: list[Quantity] = Field(default_factory=list, description="Numbers in the quote.")
    hedged: bool = Field(default=False, description="True when the claim is hedged ('may', 'up to', 'potential').")
    total_mismatches: list[TotalMismatch] = Field(
        default_factory=list, description="Totals in the quote (a cost-model row) that differ from the sum of their parts.",
    )
    offer_fact: bool = Field(
        default=False,
        description="A price, pack size or charge of the offer itself ('Test cartridge £3.20'): a fact for the whole-life cost, "
                    "not a claim about value, so it is never reported as unsourced.",
    )
    label_confidence: dict[str, float] = Field(
        default_factory=dict,
        description="Confidence of each learned label ('category': the category head's probability of the category given).",
    )
    citations: list[Citation] = Field(default_factory=list, description="Citation markers and the references they resolve to.")
    evidence_level: EvidenceLevel = Field(default=EvidenceLevel.none, description="Study design behind the claim.")
    source_type: SourceType = Field(
        default=SourceType.none,
        description="Who stands behind the best source the claim cites: peer-reviewed, regulatory or national statistic, "
                    "supplier-commissioned, the supplier's own survey or data on file, expert opinion, unknown, or none cited.",
    )
    extractor: str = Field(description="Registry name of the extractor, e.g. 'claims.rules.v1'.")
    extractor_version: str = Field(default="", description="Version of the extractor's code or weights.")
    prompt_version: str | None = Field(default=None, description="Prompt name and version for LLM extractors.")
    confidence: float = Field(default=0.5, ge=0.0, le=1.0, description="Extractor's confidence that this is a claim.")


class Stance(str, Enum):
    supports = "supports"
    contradicts = "contradicts"
    not_enough_info = "not_enough_info"


class NumericVerdict(str, Enum):
    match = "match"
    mismatch = "mismatch"
    not_comparable = "not_comparable"


class SupportStatus(str, Enum):
    """How far a claim's sources bear it out, from its support links (``retrieval.checking.verdicts.support_status``)."""

    supported = "supported"
    supported_other_source = "supported_other_source"
    contradicted = "contradicted"
    unsupported = "unsupported"
    not_checked = "not_checked"


class NumericStatus(str, Enum):
    """A claim's numbers against its sources, from its links' numeric checks (``retrieval.checking.verdicts.numeric_status``)."""

    match = "match"
    mismatch = "mismatch"
    not_comparable = "not_comparable"
    not_checked = "not_checked"


class ClaimVerdict(str, Enum):
    """The one verdict a claim gets from its links (``retrieval.checking.verdicts.claim_verdict``): its support and
    numeric statuses read together, precision first."""

    supported = "supported"
    contradicted = "contradicted"
    numbers_differ = "numbers_differ"
    not_enough_info = "not_enough_info"
    not_checked = "not_checked"
    pending = "pending"  # not checked yet: its document, or a paper of the same party, is still being processed


class NumericCheck(_Model):
    """A claim's numbers checked against a passage's."""

    verdict: NumericVerdict = Field(description="match, mismatch or not_comparable.")
    claimed: Quantity | None = Field(default=None, description="The claim's quantity that was compared.")
    found: Quantity | None = Field(default=None, description="The source's quantity (given or recomputed).")
    recomputed_from: str | None = Field(default=None, description="How the source value was derived, e.g. '12/200 vs 22/200'.")
    note: str = Field(default="", description="Human-readable explanation.")


ARM_FIELDS = {
    "binary": ("intervention_events", "intervention_group_size", "comparator_events", "comparator_group_size"),
    "continuous": (
        "intervention_mean", "intervention_standard_deviation", "intervention_group_size",
        "comparator_mean", "comparator_standard_deviation", "comparator_group_size",
    ),
}
"""The fields that describe a comparison of each outcome type."""


class NumberSource(_Model):
    """Where one arm number was read: the number as written, its sentence or table row, and the page."""

    text: str = Field(description="The number as written ('12' of '12/200 (6.0%)'), or the percentage an event count was derived from.")
    span: Span = Field(description="Where that text lies in Document.text (half-open).")
    context: str = Field(description="The sentence or table row the number was read from, verbatim.")
    context_span: Span = Field(description="Where the sentence or table row lies in Document.text (half-open).")
    page: int = Field(ge=1, description="Page holding the number.")
    derived: str | None = Field(default=None, description="How the value was computed when it is not written as such, e.g. '78.2% of 101'.")
    where: str = Field(default="", description="Kind of place, for a reviewer: 'table row', 'table rows', 'sentence', 'group size statement'.")


class ArmNumbers(_Model):
    """Arm-level numbers of one (intervention, comparator, outcome) comparison, each with its confidence.

    A field is filled only when its reading is confident (``confidence[field]`` at or above the field's
    calibrated threshold); a reading below it is left out of the field and kept in ``withheld`` with its
    confidence and source, for a reviewer to look at. Effects are recomputed only from filled fields.
    """

    outcome_type: str = Field(description="'binary' (events / group size) or 'continuous' (mean, SD, group size).")
    intervention_events: int | None = Field(default=None, description="Participants with the event in the intervention arm.")
    intervention_group_size: int | None = Field(default=None, description="Participants analysed in the intervention arm.")
    comparator_events: int | None = Field(default=None, description="Participants with the event in the comparator arm.")
    comparator_group_size: int | None = Field(default=None, description="Participants analysed in the comparator arm.")
    intervention_mean: float | None = Field(default=None, description="Mean of the outcome in the intervention arm.")
    intervention_standard_deviation: float | None = Field(default=None, description="SD of the outcome in the intervention arm.")
    comparator_mean: float | None = Field(default=None, description="Mean of the outcome in the comparator arm.")
    comparator_standard_deviation: float | None = Field(default=None, description="SD of the outcome in the comparator arm.")
    sources: dict[str, NumberSource] = Field(default_factory=dict, description="Grounding of each field read (filled or withheld), by field name.")
    confidence: dict[str, float] = Field(default_factory=dict, description="Probability that each field read is right (0-1), by field name.")
    withheld: dict[str, float] = Field(default_factory=dict, description="Fields read with too little confidence to be used: the value read, by field name.")
    score: float = Field(default=0.0, description="Confidence of the match between the outcome and the text the numbers came from (0-1).")
    extractor: str = Field(default="arms.scored.v2", description="Name and version of the extractor.")

    def values(self) -> dict[str, float | int | None]:
        """The fields of this outcome type and their values (None where not read or withheld)."""
        return {name: getattr(self, name) for name in ARM_FIELDS.get(self.outcome_type, ())}

    def confident(self, fields: tuple[str, ...] | None = None) -> bool:
        """True when every one of ``fields`` (default: all of this outcome type's) is filled."""
        names = fields if fields is not None else ARM_FIELDS.get(self.outcome_type, ())
        return bool(names) and all(getattr(self, name) is not None for name in names)


class SupportLink(_Model):
    """A passage judged against a claim."""

    claim_id: str = Field(description="Id of the claim.")
    passage_id: str = Field(description="Id of the passage.")
    stance: Stance = Field(description="Whether the passage supports or contradicts the claim.")
    score: float = Field(ge=0.0, le=1.0, description="Confidence in the stance.")
    retrieval_score: float = Field(default=0.0, description="Score of the passage in retrieval.")
    numeric: NumericCheck | None = Field(default=None, description="Numbers of the claim against the passage.")
    cited: bool = Field(default=False, description="True when the passage comes from a document the claim cites.")
    method: str = Field(default="stance.classifier", description="What judged the stance: 'stance.classifier' (the pair "
                        "classifier over the passage), 'structure.logistic.v1' (the claim's direction against the trial's finding) "
                        "or 'retrieval' (a passage found for a claim the structure judge decided, not judged itself: "
                        "stance not_enough_info, score 0).")
    evidence: str | None = Field(default=None, description="The sentence the stance rests on, verbatim from the passage's document.")
    evidence_span: Span | None = Field(default=None, description="Where that sentence lies in the passage's document text.")


class Decision(str, Enum):
    accepted = "accepted"
    rejected = "rejected"
    corrected = "corrected"


def _utcnow() -> datetime:
    return datetime.now(timezone.utc)


class ReviewDecision(_Model):
    """A reviewer's decision on a claim. Decisions are appended, never edited."""

    claim_id: str = Field(description="Id of the claim.")
    reviewer: str = Field(min_length=1, description="Who decided.")
    decision: Decision = Field(description="accepted, rejected or corrected.")
    corrections: dict[str, object] = Field(
        default_factory=dict, description="For 'corrected': the claim fields changed and their new values."
    )
    reason: str = Field(default="", description="Why the reviewer decided so.")
    at: Annotated[datetime, Field(default_factory=_utcnow, description="When the decision was made (UTC).")]


class IngestStatus(str, Enum):
    """Outcome of ingesting one file."""

    stored = "stored"
    unchanged = "unchanged"
    failed = "failed"


# --- scoring a tender (issue 13): questions, schemes, the scale, scores, costs and results ------------------------------
# Plain models with no storage behind them: the service stores and versions them, ``extractor.scoring`` computes with
# them. Weights are percentage points of the whole evaluation (a scheme's weights sum to 100).

#: The five value domains of the national standard (../shared/VBP.md, "The five value domains"); the sixth
#: ``VBPDomain``, whole-life cost, is weighted apart from them.
VALUE_DOMAINS: tuple[VBPDomain, ...] = (
    VBPDomain.social_value, VBPDomain.efficiency, VBPDomain.patient_and_staff, VBPDomain.supply_chain, VBPDomain.purpose,
)

#: Each domain as people write it, for messages and exports.
DOMAIN_LABELS: dict[VBPDomain, str] = {
    VBPDomain.social_value: "social value",
    VBPDomain.efficiency: "efficiency",
    VBPDomain.patient_and_staff: "patient and staff",
    VBPDomain.supply_chain: "supply chain",
    VBPDomain.purpose: "purpose",
    VBPDomain.whole_life_cost: "whole-life cost",
}

#: The parts of a whole-life cost (../shared/VBP.md, "Weights": purchase, implementation, operation, disposal).
COST_COMPONENTS: tuple[str, ...] = ("purchase", "implementation", "operation", "disposal")

#: Names of the built-in whole-life cost formulas (``extractor.scoring.totals.COST_FORMULAS`` implements them).
COST_FORMULA_NAMES: tuple[str, ...] = ("lowest_over_own", "linear_from_lowest")


def _not_blank(value: str, what: str) -> str:
    if not value.strip():
        raise ValueError(f"{what} must not be blank")
    return value


class ScoringMethod(str, Enum):
    """How a question is scored."""

    quality = "quality"  # on the score scale by evaluators, then moderated
    cost = "cost"  # by the whole-life cost formula, from each supplier's stated (and confirmed) costs


class Question(_Model):
    """One evaluation question, with the evidence it expects and the claims that bear on it."""

    id: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,39}$", description="Stable id within its scheme, e.g. 'EF1'.")
    domain: VBPDomain = Field(description="The value domain (or whole-life cost) the question's weight counts towards.")
    theme: str = Field(default="", description="The standard's theme it covers, e.g. 'productivity'.")
    wording: str = Field(min_length=1, description="The question as put to suppliers.")
    guidance: str = Field(default="", description="The evidence an evaluator expects in a good answer.")
    categories: list[ClaimCategory] = Field(default_factory=list, description="Claim categories that bear on the question.")
    claim_domains: list[VBPDomain] = Field(default_factory=list, description="Claim VBP domains that bear on the question.")
    keywords: list[str] = Field(default_factory=list, description="Words and phrases whose presence in a claim bears on it.")
    weight: float = Field(gt=0, le=100, description="Weight in percentage points of the whole evaluation.")
    method: ScoringMethod = Field(default=ScoringMethod.quality, description="Scored on the scale, or by the cost formula.")
    rwe_required: bool = Field(
        default=False,
        description="Real-world evidence on length of stay, procedure time or readmissions is required (productivity questions).",
    )
    cost_components: list[str] = Field(
        default_factory=lambda: list(COST_COMPONENTS),
        description="For a cost question: the parts of each supplier's whole-life cost it scores (all four by default).",
    )

    @field_validator("wording")
    @classmethod
    def _wording(cls, value: str) -> str:
        return _not_blank(value, "the wording")

    @field_validator("keywords")
    @classmethod
    def _keywords(cls, value: list[str]) -> list[str]:
        return [k.strip() for k in value if k.strip()]

    @field_validator("cost_components")
    @classmethod
    def _components(cls, value: list[str]) -> list[str]:
        unknown = [c for c in value if c not in COST_COMPONENTS]
        if unknown or not value:
            raise ValueError(f"cost components must be some of {', '.join(COST_COMPONENTS)}; got {value}")
        return value

    @model_validator(mode="after")
    def _method_fits_domain(self) -> Question:
        if self.method is ScoringMethod.cost and self.domain is not VBPDomain.whole_life_cost:
            raise ValueError(f"question {self.id}: only a whole-life cost question can be scored by the cost formula")
        if not self.claim_domains:
            self.claim_domains = [self.domain]
        return self


class ScaleLevel(_Model):
    """One step of the score scale."""

    points: int = Field(ge=0, description="Points the step earns.")
    label: str = Field(min_length=1, description="Its label, e.g. 'good'.")
    descriptor: str = Field(default="", description="What an answer must show to earn it.")


def _default_levels() -> list[ScaleLevel]:
    # The labels are the common UK public-sector ladder named in ../shared/VBP.md ("Scoring"); the standard publishes
    # only the top and bottom ones. "No response" earns 0 so that an unanswered question adds nothing to the total.
    return [
        ScaleLevel(points=4, label="outstanding", descriptor="Answers the question in full with specific, substantiated evidence "
                   "(cited, checkable, real-world where the question asks for it) and gives confidence of benefit beyond the requirement."),
        ScaleLevel(points=3, label="good", descriptor="Answers the question in full with relevant, substantiated evidence; "
                   "minor gaps or weaknesses only."),
        ScaleLevel(points=2, label="acceptable", descriptor="Answers the question with some evidence; gaps or unsupported "
                   "statements leave moderate doubt."),
        ScaleLevel(points=1, label="poor", descriptor="Answers only in part; evidence missing, weak or not relevant, "
                   "leaving serious doubt."),
        ScaleLevel(points=0, label="no response", descriptor="No answer, or an answer that does not address the question."),
    ]


class ScoreScale(_Model):
    """The score scale, top step first: five steps from "outstanding" (4) to "no response" (0) unless a tender sets its own."""

    levels: list[ScaleLevel] = Field(default_factory=_default_levels, description="The steps, highest points first.")

    @model_validator(mode="after")
    def _check(self) -> ScoreScale:
        points = [level.points for level in self.levels]
        if len(points) < 2:
            raise ValueError("a score scale needs at least two steps")
        if any(a <= b for a, b in pairwise(points)):
            raise ValueError(f"the steps must be listed highest points first, each lower than the one before; got {points}")
        if points[-1] != 0:
            raise ValueError(f"the lowest step must earn 0 points (no response adds nothing); got {points[-1]}")
        labels = [level.label.strip().casefold() for level in self.levels]
        if len(set(labels)) != len(labels):
            raise ValueError(f"each step needs its own label; got {[level.label for level in self.levels]}")
        return self

    @property
    def max_points(self) -> int:
        """Points of the top step."""
        return self.levels[0].points

    def label_for(self, points: int) -> str | None:
        """The label of the step earning ``points``, or None when no step does."""
        return next((level.label for level in self.levels if level.points == points), None)

    def fraction(self, points: int) -> float:
        """Share of a question's weight that ``points`` earn (points over the top step's points)."""
        return points / self.max_points


class Scheme(_Model):
    """A tender's evaluation scheme: its questions and weights, the score scale and the whole-life cost formula."""

    name: str = Field(min_length=1, description="The scheme's name, e.g. the tender's reference.")
    source: str = Field(default="", description="Where the questions came from: 'bank:vbp-questions.v1' or 'import:questions.csv'.")
    questions: list[Question] = Field(min_length=1, description="The questions that apply, in the order they are put.")
    scale: ScoreScale = Field(default_factory=ScoreScale, description="The score scale for questions scored on it.")
    cost_formula: str = Field(default="lowest_over_own", description=f"Whole-life cost formula: one of {', '.join(COST_FORMULA_NAMES)}.")

    @field_validator("cost_formula")
    @classmethod
    def _formula(cls, value: str) -> str:
        if value not in COST_FORMULA_NAMES:
            raise ValueError(f"unknown cost formula {value!r}; use one of {', '.join(COST_FORMULA_NAMES)}")
        return value

    @model_validator(mode="after")
    def _unique_ids(self) -> Scheme:
        seen: set[str] = set()
        for q in self.questions:
            if q.id.casefold() in seen:
                raise ValueError(f"question id {q.id!r} is used twice")
            seen.add(q.id.casefold())
        return self

    def question(self, question_id: str) -> Question | None:
        """The question with this id, or None."""
        return next((q for q in self.questions if q.id == question_id), None)


class QuestionBank(_Model):
    """A versioned bank of questions a scheme is drawn from (``extractor/scoring/banks/<name>.json``)."""

    name: str = Field(description="The bank's name and version, e.g. 'vbp-questions.v1' (its file name).")
    version: int = Field(ge=1, description="The bank's version; a changed question means a new version.")
    title: str = Field(description="What the bank is.")
    template: bool = Field(description="True: the project's own template, not the published standard's questions.")
    notice: str = Field(description="The label shown wherever the bank is offered.")
    sources: list[str] = Field(default_factory=list, description="What the bank follows.")
    questions: list[Question] = Field(min_length=1, description="The questions, with default weights that meet the national rules.")


# ---- scores ---------------------------------------------------------------------------------------------------


class ScoreKey(NamedTuple):
    """Who scored which question for which supplier: the unit of submission and of blind scoring."""

    evaluator: str
    question_id: str
    supplier: str


class PairKey(NamedTuple):
    """One (question, supplier) pair: the unit of moderation."""

    question_id: str
    supplier: str


class EvaluatorScore(_Model):
    """One evaluator's independent score of one question for one supplier."""

    question_id: str = Field(description="The question scored.")
    supplier: str = Field(min_length=1, description="The supplier whose answer is scored.")
    evaluator: str = Field(min_length=1, description="Who scored it.")
    points: int = Field(ge=0, description="Points on the scheme's scale.")
    rationale: str = Field(description="The reasons for the score: strengths and weaknesses, written at the time.")
    claim_ids: list[str] = Field(default_factory=list, description="The claims the score rests on.")

    @field_validator("rationale")
    @classmethod
    def _rationale(cls, value: str) -> str:
        return _not_blank(value, "the rationale")

    @property
    def key(self) -> ScoreKey:
        return ScoreKey(self.evaluator, self.question_id, self.supplier)

    @property
    def pair(self) -> PairKey:
        return PairKey(self.question_id, self.supplier)


class ModeratedScore(_Model):
    """The consensus score of one question for one supplier, agreed at moderation."""

    question_id: str = Field(description="The question.")
    supplier: str = Field(min_length=1, description="The supplier.")
    moderator: str = Field(min_length=1, description="Who recorded the consensus.")
    points: int = Field(ge=0, description="Points on the scheme's scale.")
    rationale: str = Field(description="Why the panel agreed this score, including any move from the individual scores.")
    claim_ids: list[str] = Field(default_factory=list, description="The claims the consensus rests on.")

    @field_validator("rationale")
    @classmethod
    def _rationale(cls, value: str) -> str:
        return _not_blank(value, "the rationale")

    @property
    def pair(self) -> PairKey:
        return PairKey(self.question_id, self.supplier)


class ScoreSpread(_Model):
    """How far the evaluators' scores of one question for one supplier lie apart."""

    question_id: str = Field(description="The question.")
    supplier: str = Field(description="The supplier.")
    points: dict[str, int] = Field(description="Each evaluator's points.")
    low: int = Field(description="The lowest score.")
    high: int = Field(description="The highest score.")
    spread: int = Field(description="High minus low: 0 when the evaluators agree.")


class ModerationRow(_Model):
    """What a moderator sees for one (question, supplier): the scores side by side, their spread and the consensus."""

    question_id: str = Field(description="The question.")
    supplier: str = Field(description="The supplier.")
    scores: list[EvaluatorScore] = Field(description="The evaluators' scores, by evaluator.")
    spread: ScoreSpread | None = Field(description="Their spread; None before any score.")
    moderated: ModeratedScore | None = Field(description="The consensus, once recorded.")


class ScoringProgress(_Model):
    """Whether scoring can close: every quality (question, supplier) moderated and, for cost questions, every cost confirmed."""

    complete: bool = Field(description="True when nothing is left to moderate or confirm.")
    moderated: int = Field(description="Pairs moderated.")
    required: int = Field(description="Pairs that need a moderated score.")
    missing: list[PairKey] = Field(description="Pairs still without a moderated score.")
    costs_missing: list[str] = Field(description="Suppliers whose whole-life costs are not stated and confirmed.")


# ---- costs and totals -----------------------------------------------------------------------------------------


class SupplierCosts(_Model):
    """A supplier's whole-life cost as it states it, confirmed by an evaluator against the quotes."""

    supplier: str = Field(min_length=1, description="The supplier.")
    purchase: float = Field(ge=0, description="Purchase cost over the contract.")
    implementation: float = Field(default=0.0, ge=0, description="Implementation cost (installation, training, set-up).")
    operation: float = Field(default=0.0, ge=0, description="Operating cost over the contract (consumables, maintenance, staff).")
    disposal: float = Field(default=0.0, ge=0, description="Disposal or decommissioning cost.")
    currency: str = Field(default="GBP", description="ISO 4217 code of every figure.")
    claim_ids: dict[str, list[str]] = Field(default_factory=dict, description="Each component's quotes, by component name.")
    confirmed_by: str | None = Field(default=None, description="The evaluator who checked the figures against their quotes.")

    @field_validator("claim_ids")
    @classmethod
    def _components(cls, value: dict[str, list[str]]) -> dict[str, list[str]]:
        unknown = sorted(set(value) - set(COST_COMPONENTS))
        if unknown:
            raise ValueError(f"unknown cost components {unknown}; use {', '.join(COST_COMPONENTS)}")
        return value

    def cost_of(self, components: list[str] | tuple[str, ...] = COST_COMPONENTS) -> float:
        """The sum of the named components."""
        return sum(getattr(self, c) for c in components)

    @computed_field(description="Purchase + implementation + operation + disposal.")  # type: ignore[prop-decorator]
    @property
    def whole_life_cost(self) -> float:
        return self.cost_of(COST_COMPONENTS)


class QuestionResult(_Model):
    """One question's part of a supplier's total."""

    question_id: str = Field(description="The question.")
    domain: VBPDomain = Field(description="Its domain.")
    method: ScoringMethod = Field(description="Scored on the scale or by the cost formula.")
    weight: float = Field(description="Its weight, percentage points.")
    points: int | None = Field(description="Moderated points (quality questions).")
    cost: float | None = Field(description="The supplier's cost it scores (cost questions).")
    fraction: float = Field(description="Share of the weight earned, 0 to 1.")
    contribution: float = Field(description="Weight x fraction: percentage points added to the total.")


class SupplierTotal(_Model):
    """A supplier's result: each question's contribution, each domain's, the quality and cost scores and the total."""

    supplier: str = Field(description="The supplier.")
    questions: list[QuestionResult] = Field(description="Each question's contribution, in scheme order.")
    by_domain: dict[VBPDomain, float] = Field(description="Percentage points earned in each domain the scheme weights.")
    quality_score: float = Field(description="Points earned on questions scored on the scale (out of their weights).")
    cost_score: float = Field(description="Points earned on whole-life cost questions scored by the formula.")
    total: float = Field(description="Quality score + cost score, out of 100.")
    whole_life_cost: float | None = Field(description="The supplier's whole-life cost, when stated.")


class RankRow(_Model):
    """One line of the ranking table."""

    rank: int = Field(ge=1, description="1 for the highest total; tied suppliers share a rank and the next rank is skipped.")
    supplier: str = Field(description="The supplier.")
    total: float = Field(description="Its total.")
    quality_score: float = Field(description="Its quality score.")
    cost_score: float = Field(description="Its whole-life cost score.")
    by_domain: dict[VBPDomain, float] = Field(description="Each domain's contribution.")
    tied_with: list[str] = Field(default_factory=list, description="Suppliers sharing this rank.")
    note: str = Field(default="", description="How a tie was found or broken.")


# ---- evidence -------------------------------------------------------------------------------------------------


class EvidenceMatch(_Model):
    """One claim that bears on a question, with why."""

    claim_id: str = Field(description="The claim's id (or '<doc_id>:<start>-<end>' for a claim not yet stored).")
    score: float = Field(ge=0, le=1, description="How strongly it bears on the question, 0 to 1; the list is ranked by it.")
    category_match: bool = Field(description="Its category is one the question names.")
    domain_match: bool = Field(description="Its VBP domain is one the question names.")
    keywords: list[str] = Field(description="The question's keywords found in it.")
    similarity: float = Field(description="Text similarity between the question and the claim, 0 to 1.")
    reasons: list[str] = Field(description="The above in words, strongest first.")


class EvidenceFlag(_Model):
    """Something an evaluator must know about a question's evidence."""

    code: str = Field(description="'no_evidence' or 'no_real_world_evidence'.")
    message: str = Field(description="The finding in words.")


class QuestionEvidence(_Model):
    """The claims that bear on one question, ranked, and what is missing."""

    question_id: str = Field(description="The question.")
    matches: list[EvidenceMatch] = Field(description="Claims that bear on it, best first.")
    flags: list[EvidenceFlag] = Field(description="Missing evidence, if any.")

    @property
    def no_evidence(self) -> bool:
        return not self.matches
