"""PICO tagger and claim-sentence fields on hand-written cases, with the rule-only (blank spaCy) pipeline."""

from __future__ import annotations

import pytest

from extractor.pico import FIELDS, LABELS, PicoSpan, load_pipeline, pico_fields, pico_fields_batch, tag_pico

BLANK = "blank"  # no statistical model: the fallback every install has

ABSTRACT = (
    "Effect of chlorhexidine dressings on catheter-related infection in critically ill adults: a randomised trial. "
    "METHODS 1636 patients with a central venous catheter were randomised to chlorhexidine dressings or standard "
    "dressings. The primary outcome was the incidence of catheter-related bloodstream infection. "
    "RESULTS Chlorhexidine dressings reduced catheter-related infection compared with standard dressings (HR 0.4, "
    "95% CI 0.2-0.9). Skin reactions were more frequent with chlorhexidine."
)


@pytest.mark.parametrize(
    ("sentence", "comparator"),
    [
        ("The XYZ dressing reduced surgical site infection by 45% compared with standard gauze.", "standard gauze"),
        ("Compared with usual care, telemonitoring reduced readmissions by 30%.", "usual care"),
        ("Length of stay was 2.1 days shorter with the device compared to conventional care.", "conventional care"),
        ("Negative pressure wound therapy reduced wound dehiscence versus standard dressings.", "standard dressings"),
        ("Procedure time was 12 minutes lower than with open surgery.", "open surgery"),
        ("The sealant cut caries incidence by half relative to fluoride varnish.", "fluoride varnish"),
        ("Mean operative time was 45 minutes with the robotic system vs 62 minutes with laparoscopy.", "laparoscopy"),
        ("There was no difference in 30-day mortality between drug-eluting stents and bare-metal stents.", "bare-metal stents"),
    ],
)
def test_pico_fields_comparator_after_comparison_words(sentence: str, comparator: str) -> None:
    assert pico_fields(sentence, model=BLANK)["comparator"] == comparator


@pytest.mark.parametrize(
    ("sentence", "outcome"),
    [
        ("The XYZ dressing reduced surgical site infection by 45% compared with standard gauze.", "surgical site infection"),
        ("Negative pressure wound therapy reduced the rate of wound dehiscence.", "wound dehiscence"),
        ("Our antimicrobial catheter reduces CAUTI rates by 50%.", "CAUTI rates"),
        ("Remote monitoring decreased emergency admissions among patients with COPD.", "emergency admissions"),
        ("Hospital length of stay fell from 6.2 to 4.1 days.", "Hospital length of stay"),
        ("Use of the closed suction system resulted in a 38% reduction in ventilator-associated pneumonia.",
         "ventilator-associated pneumonia"),
        ("Patients treated with Device X had 25% fewer readmissions than those treated with standard care.", "readmissions"),
        ("The primary outcome was the incidence of catheter-related bloodstream infection.", "catheter-related bloodstream infection"),
    ],
)
def test_pico_fields_outcome_is_the_measure_that_changes(sentence: str, outcome: str) -> None:
    assert pico_fields(sentence, model=BLANK)["outcome"] == outcome


@pytest.mark.parametrize(
    ("sentence", "population"),
    [
        ("The dressing reduced surgical site infection by 45% in 248 adults with type 2 diabetes.", "248 adults with type 2 diabetes"),
        ("In 120 children aged 2-5 years, the sealant cut caries incidence by half.", "120 children aged 2-5 years"),
        ("Telemonitoring reduced readmissions by 30% in patients with heart failure.", "patients with heart failure"),
        ("A trial of 312 patients undergoing hip replacement showed fewer infections.", "312 patients undergoing hip replacement"),
    ],
)
def test_pico_fields_population(sentence: str, population: str) -> None:
    assert pico_fields(sentence, model=BLANK)["population"] == population


@pytest.mark.parametrize(
    ("sentence", "intervention"),
    [
        ("The XYZ dressing reduced surgical site infection by 45% compared with standard gauze.", "XYZ dressing"),
        ("Compared with usual care, telemonitoring reduced readmissions by 30%.", "telemonitoring"),
        ("Patients randomised to early mobilisation had a shorter hospital stay than those receiving standard care.",
         "early mobilisation"),
        ("There was no difference in 30-day mortality between drug-eluting stents and bare-metal stents.", "drug-eluting stents"),
        ("Patients treated with Device X had 25% fewer readmissions than those treated with standard care.", "Device X"),
    ],
)
def test_pico_fields_intervention(sentence: str, intervention: str) -> None:
    assert pico_fields(sentence, model=BLANK)["intervention"] == intervention


@pytest.mark.parametrize(
    "sentence",
    [
        "The XYZ dressing reduced surgical site infection by 45% compared with standard gauze in 248 adults with type 2 diabetes.",
        "Up to 30% reduction in procedure time vs. conventional staplers.",
        "Le pansement réduit les infections de 45 % par rapport à la gaze.",
        "Our product is the best on the market.",
        "   ",
        "",
    ],
)
def test_pico_fields_values_are_verbatim_substrings(sentence: str) -> None:
    fields = pico_fields(sentence, model=BLANK)
    assert set(fields) == set(FIELDS)
    for key, value in fields.items():
        assert value in sentence, f"{key} {value!r} is not in the sentence"
        assert value == value.strip()


@pytest.mark.parametrize("text", [ABSTRACT, "Aspirin reduced mortality in patients with asthma.", "", "\n\n", "No PICO here at all."])
def test_tag_pico_spans_are_grounded(text: str) -> None:
    spans = tag_pico(text, model=BLANK)
    previous_end = 0
    for span in spans:
        assert isinstance(span, PicoSpan)
        assert span.label in LABELS
        assert text[span.start : span.end] == span.text
        assert span.text and span.text == span.text.strip()
        assert span.start >= previous_end, "spans overlap or are out of order"
        previous_end = span.end


@pytest.mark.parametrize(
    ("label", "text"),
    [
        ("population", "1636 patients with a central venous catheter"),
        ("intervention", "chlorhexidine dressings"),
        ("outcome", "incidence of catheter-related bloodstream infection"),
    ],
)
def test_tag_pico_finds_each_label_in_an_abstract(label: str, text: str) -> None:
    assert (label, text) in {(s.label, s.text) for s in tag_pico(ABSTRACT, model=BLANK)}


@pytest.mark.parametrize("model", [BLANK])
def test_pico_fields_batch_matches_single(model: str) -> None:
    sentences = [
        "Compared with usual care, telemonitoring reduced readmissions by 30% in patients with heart failure.",
        "",
        "Procedure time was 12 minutes lower than with open surgery.",
    ]
    assert pico_fields_batch(sentences, model=model) == [pico_fields(s, model=model) for s in sentences]


@pytest.mark.parametrize("model", [BLANK])
def test_load_pipeline_blank_is_cached_and_has_no_tagger(model: str) -> None:
    nlp = load_pipeline(model)
    assert load_pipeline(model) is nlp
    assert "tagger" not in nlp.pipe_names
