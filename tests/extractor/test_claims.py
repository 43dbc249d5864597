"""Claim extraction on small hand-written documents: what is a claim, its labels and its grounding."""

from __future__ import annotations


import pytest

from extractor.claims import claim_id, direction_of, extract_claims, find_citations, is_offer_fact
from extractor.quantities import extract_quantities
from extractor.pipeline import parse_file
from extractor.schema import ClaimCategory, Direction, EvidenceLevel, Span, VBPDomain

SUBMISSION = """# Kelvo wound dressing: value proposition

Fictional document written as test material. Kelvo Medical Ltd designs and manufactures dressings in Leeds.

## Clinical outcomes

Chronic wounds cost the NHS £8.3bn a year. Participants received a £10 voucher for each visit.
Kelvo may reduce wound infection by up to 40% compared with standard foam dressings [1].
Median time to healing was 9.1 weeks with Kelvo compared with 13.0 weeks with standard dressings [2].
Wound infection fell from 12% to 7% after the switch to Kelvo [2].
Kelvo is the most comfortable dressing on the market.

## Safety

No serious adverse events related to Kelvo were reported in 1,200 patients (p=0.41) [2].

## Whole-life cost

| Cost element (2024/25 prices) | Kelvo | Current dressing |
|---|---|---|
| Unit price per dressing | £3.85 | £3.10 |
| Cost per patient episode | £914 | £2,143 |

## Supply chain resilience

Our standard lead time is 5 working days, and we hold 16 weeks of UK buffer stock.

## Social value

We will create 14 new manufacturing jobs in Leeds over the contract.

## References

1. Data on file. Kelvo laboratory test report, 2024.
2. Smith J, Jones K. A randomised controlled trial of Kelvo. J Wound Care 2023;32:1-9.
"""


@pytest.fixture(scope="module")
def claims(tmp_path_factory):
    path = tmp_path_factory.mktemp("sub") / "kelvo.md"
    path.write_text(SUBMISSION, encoding="utf-8")
    doc = parse_file(path)
    result = extract_claims(doc)
    return doc, {c.quote: c for c in result.claims}, result


def _find(by_quote: dict, start: str):
    matches = [c for q, c in by_quote.items() if q.startswith(start)]
    assert len(matches) == 1, f"no single claim starting {start!r}: {list(by_quote)}"
    return matches[0]


def test_claims_are_grounded(claims) -> None:
    doc, by_quote, result = claims
    assert result.dropped_ungrounded == 0
    for c in by_quote.values():
        assert doc.text[c.span.start : c.span.end] == c.quote
        page = doc.pages[c.page - 1]
        assert page.offset <= c.span.start < page.offset + len(page.text)
        for q in c.quantities:
            assert q.span is not None and doc.text[q.span.start : q.span.end] == q.text
        assert c.id == claim_id(doc.id, c.span)


@pytest.mark.parametrize(
    "not_a_claim",
    [
        "Fictional document written as test material.",
        "Kelvo Medical Ltd designs and manufactures dressings in Leeds.",
        "Chronic wounds cost the NHS £8.3bn a year.",  # background
        "Participants received a £10 voucher for each visit.",  # methods: a payment, not a cost of care
    ],
)
def test_claims_skip_background_methods_and_boilerplate(claims, not_a_claim: str) -> None:
    _, by_quote, _ = claims
    assert not [q for q in by_quote if not_a_claim in q]


@pytest.mark.parametrize(
    ("start", "category", "direction", "hedged"),
    [
        ("Kelvo may reduce wound infection", ClaimCategory.outcome, Direction.decrease, True),
        ("Median time to healing was 9.1 weeks", ClaimCategory.outcome, Direction.decrease, False),
        ("Wound infection fell from 12% to 7%", ClaimCategory.outcome, Direction.decrease, False),
        ("Kelvo is the most comfortable dressing", ClaimCategory.experience, Direction.unspecified, False),  # a boast: SPEC
        ("No serious adverse events", ClaimCategory.safety, Direction.no_difference, False),
        ("Unit price per dressing", ClaimCategory.cost, Direction.increase, False),
        ("Cost per patient episode", ClaimCategory.cost, Direction.decrease, False),
        ("Our standard lead time is 5 working days", ClaimCategory.supply, Direction.unspecified, False),
        ("We will create 14 new manufacturing jobs", ClaimCategory.social, Direction.increase, False),
    ],
)
def test_claims_labels(claims, start: str, category, direction, hedged: bool) -> None:
    _, by_quote, _ = claims
    c = _find(by_quote, start)
    assert (c.category, c.direction, c.hedged) == (category, direction, hedged)


def test_claims_domains_follow_categories(claims) -> None:
    _, by_quote, _ = claims
    assert _find(by_quote, "Cost per patient episode").domain is VBPDomain.whole_life_cost
    assert _find(by_quote, "Our standard lead time").domain is VBPDomain.supply_chain
    assert _find(by_quote, "We will create 14").domain is VBPDomain.social_value
    assert _find(by_quote, "Wound infection fell").domain is VBPDomain.patient_and_staff


def test_claims_citations_resolve_and_set_evidence_level(claims) -> None:
    _, by_quote, _ = claims
    rct = _find(by_quote, "Median time to healing")
    assert [c.keys for c in rct.citations] == [["2"]]
    assert rct.evidence_level is EvidenceLevel.rct
    bench = _find(by_quote, "Kelvo may reduce wound infection")
    assert bench.evidence_level is EvidenceLevel.bench
    assert _find(by_quote, "Kelvo is the most comfortable").evidence_level is EvidenceLevel.none  # marketing, no source


def test_claims_fields(claims) -> None:
    _, by_quote, _ = claims
    c = _find(by_quote, "Kelvo may reduce wound infection")
    assert c.comparator == "standard foam dressings"
    assert c.intervention.startswith("Kelvo")
    assert "wound infection" in c.outcome


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Re-consultation within 28 days was unchanged (11.2% vs 11.6%, p=0.71).", Direction.no_difference),
        ("Late lumen loss was 0.11 mm with the stent and 0.16 mm with the comparator (p=0.567).", Direction.no_difference),
        ("Adherence improved by 29.8 points, with no significant change in the control group.", Direction.increase),
        ("Binary restenosis was 2.6% with the new stent compared with 7.7% with the old one.", Direction.decrease),
        ("Dwell time increased from 52 hours to 71 hours.", Direction.increase),
        ("Despite a higher unit price, the device could deliver savings of £500 a year.", Direction.decrease),
        ("No increase in admissions for pneumonia was seen at 30 days (0.4% vs 0.5%).", Direction.no_difference),
        ("The analyser raises an alert within 5 minutes.", Direction.unspecified),
        ("Compared with oxytocin, carbetocin significantly raised the time to first rescue dose.", Direction.increase),
        ("The update was issued to raise the alarm volume at every site.", Direction.unspecified),
        ("Fewer infections were seen in women with a raised body mass index.", Direction.decrease),
        ("Frovatriptan has prolonged the time to recurrence compared with zolmitriptan.", Direction.increase),
    ],
)
def test_claims_direction_rules(text: str, expected: Direction) -> None:
    assert direction_of(text, []) is expected


@pytest.mark.parametrize(
    ("row", "header", "expected"),
    [
        ("Unit price\t£1.92\t£0.88", ["Item", "Offer", "Current"], Direction.increase),
        ("Stents per procedure\t1.3\t1.3", ["Item", "Offer", "Current"], Direction.no_difference),
        ("Falls per 1,000 bed days\t2.9\t2.0\t−31%", ["Outcome", "Before", "After", "Change"], Direction.decrease),
        ("Length of stay\t19.6 days\t14.2 days", ["Outcome", "Before", "After"], Direction.decrease),
    ],
)
def test_claims_table_row_direction(row: str, header: list[str], expected: Direction) -> None:
    assert direction_of(row, [], in_table=True, header=header) is expected


@pytest.mark.parametrize(
    ("text", "keys", "markers"),
    [
        ("as shown [1].", ["1"], ["[1]"]),
        ("in two trials [2, 4].", ["2", "4"], ["[2, 4]"]),
        ("in trials [1–3] and [9].", ["1", "2", "3"], ["[1–3]", "[9]"]),  # 9 is not in the list: unresolved
        ("as reported (Smith et al., 2019).", ["Smith 2019"], ["(Smith et al., 2019)"]),
    ],
)
def test_claims_citation_markers(text: str, keys: list[str], markers: list[str]) -> None:
    found = find_citations(text, 100, {"1", "2", "3", "4", "Smith 2019"})
    assert [c.marker for c in found] == markers
    assert [k for c in found for k in c.keys] == keys
    for c in found:
        assert text[c.span.start - 100 : c.span.end - 100] == c.marker


def test_claims_span_ids_are_stable() -> None:
    assert claim_id("a" * 64, Span(start=3, end=9)) == claim_id("a" * 64, Span(start=3, end=9)) == "aaaaaaaaaaaaaaaa:3-9"


@pytest.mark.parametrize(("quote", "direction"), [
    ("Occlusion alarms were more frequent with Sentinel, at 2.3 per 100 infusion-hours against 1.6.", Direction.increase),
    ("Patients had their CT scan a median of 9 days sooner than before.", Direction.decrease),
    ("Remote sessions detected impedance problems 6 weeks earlier than clinic reviews.", Direction.decrease),
    ("Sentinel is the safest infusion pump available to the NHS.", Direction.unspecified),  # a boast with no measure
    ("Sentinel is the safest pump and reduces harmful errors.", Direction.decrease),  # the verb beside it says which way
])
def test_claims_direction_of_frequency_time_and_boasts(quote: str, direction: Direction) -> None:
    assert direction_of(quote, extract_quantities(quote)) is direction


def test_claims_a_price_list_row_is_a_fact_of_the_offer() -> None:
    row = "Test cartridge | £3.20"
    assert is_offer_fact(row, ClaimCategory.cost, extract_quantities(row), in_table=True)
    saving = "Annual saving | £184,000"
    assert not is_offer_fact(saving, ClaimCategory.cost, extract_quantities(saving), in_table=True)
    two = "Unit cost | £3.20 | £4.10"  # two amounts side by side compare: a claim
    assert not is_offer_fact(two, ClaimCategory.cost, extract_quantities(two), in_table=True)
