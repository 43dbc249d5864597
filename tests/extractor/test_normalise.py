"""Text normalisation on small hand-written cases."""

from collections import Counter

import pytest

from extractor.parsing.normalise import join_hyphenated, normalise_chars, normalise_text, repair_ligatures, text_quality


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("eﬀ ective", "effective"),  # the Lancet papers: a space after the ligature glyph
        ("veriﬁ ed and ﬁ nding", "verified and finding"),
        ("ﬁrst ﬂow oﬃce baﬄe", "first flow office baffle"),
        ("staﬀ Are", "staff Are"),  # an upper-case word after it: a real space, kept
    ],
)
def test_normalise_repairs_ligatures(raw: str, expected: str) -> None:
    assert repair_ligatures(raw) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Premessa\x08\x08\x08\x08 3", "Premessa 3"),  # the ifm manual's dot leaders are backspaces
        ("a\x00b\x1bc\x7fd", "abcd"),
        ("soft\u00adhyphen", "softhyphen"),
        ("zero\u200bwidth\ufeff", "zerowidth"),
        ("no\u00a0break\u2009thin", "no break thin"),
        ("keep\ttabs\nand lines", "keep\ttabs\nand lines"),
        ("≥ 18 years, 5 m², £10", "≥ 18 years, 5 m², £10"),  # symbols carry meaning: no NFKC
    ],
)
def test_normalise_drops_controls_and_unifies_spaces(raw: str, expected: str) -> None:
    assert normalise_chars(raw) == expected


def test_normalise_text_collapses_spacing_per_line() -> None:
    assert normalise_text("  a   b  \r\nc\t\t d \n\n") == "a b\nc d"


@pytest.mark.parametrize(
    ("left", "right", "vocab", "expected"),
    [
        ("the treat-", "ment group", None, ("the treat", "")),
        ("face-", "to-face support", None, ("face-", "")),  # the right part is itself hyphenated
        ("a well-", "known effect", {"well-known": 3, "wellknown": 0}, ("a well-", "")),
        ("random-", "ised trial", {"randomised": 5}, ("random", "")),
        ("see Table", "2 below", None, None),  # no hyphen: nothing to join
        ("COVID-", "19 cases", None, None),  # a number after the hyphen is not a broken word
        ("the UK-", "Based group", None, None),  # an upper-case continuation is not a broken word
    ],
)
def test_normalise_joins_hyphenated_words(left, right, vocab, expected) -> None:
    assert join_hyphenated(left, right, Counter(vocab) if vocab else None) == expected


@pytest.mark.parametrize(
    ("text", "low"),
    [
        ("The intervention reduced the rate of surgical site infection from 12% to 7% at 30 days in 248 patients. " * 3, False),
        ("Il sensore deve essere installato da un elettricista qualificato secondo le norme nazionali vigenti. " * 3, False),
        ("«POAH «3E*»CM tanntxim. inc. /^ . ^ toi n»Bfl. s*r;tiiR» 3s«»teership A&s-oeiete© JMBWeil *»^« ^»* ©©» " * 3, True),
    ],
)
def test_normalise_text_quality_tells_garbage_from_prose(text: str, low: bool) -> None:
    q = text_quality(text)
    assert q is not None
    assert (q < 0.5) is low


def test_normalise_text_quality_needs_enough_words() -> None:
    assert text_quality("too short") is None
