"""Text normalisation shared by every reader: ligatures, control characters, spaces, hyphens.

Every function here maps text to text; offsets are assigned only after normalisation, so
normalising never breaks grounding.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter

LIGATURES = {
    "\ufb00": "ff",
    "\ufb01": "fi",
    "\ufb02": "fl",
    "\ufb03": "ffi",
    "\ufb04": "ffl",
    "\ufb05": "st",
    "\ufb06": "st",
}

# A ligature glyph followed by a stray space before the rest of the word: pypdf gives
# "eﬀ ective" for the Lancet papers. A ligature always sits inside a word, so a space
# followed by a lower-case letter is an artefact.
_LIGATURE_GAP = re.compile("([\ufb00-\ufb06]) (?=[a-z])")
_LIGATURE = re.compile("[\ufb00-\ufb06]")

_SPACES = {
    "\u00a0": " ",  # no-break space
    "\u2000": " ", "\u2001": " ", "\u2002": " ", "\u2003": " ", "\u2004": " ", "\u2005": " ",
    "\u2006": " ", "\u2007": " ", "\u2008": " ", "\u2009": " ", "\u200a": " ", "\u202f": " ",
    "\u205f": " ", "\u3000": " ",
}
_DROP = {"\u00ad", "\u200b", "\u200c", "\u200d", "\u2060", "\ufeff", "\ufffe", "\uffff"}

_TRANSLATE = {ord(k): v for k, v in {**LIGATURES, **_SPACES}.items()}
_TRANSLATE.update({ord(c): None for c in _DROP})
# C0 and C1 control characters except tab and newline (the ifm manual's dot leaders are
# runs of U+0008 BACKSPACE); each becomes nothing.
for _cp in list(range(0x00, 0x20)) + list(range(0x7F, 0xA0)):
    if _cp not in (0x09, 0x0A):
        _TRANSLATE[_cp] = None
_TRANSLATE[0x0D] = "\n"  # a lone carriage return is a line break

_MULTI_SPACE = re.compile(r"[ \t]{2,}")
_SPACE_BEFORE_NEWLINE = re.compile(r"[ \t]+\n")


def repair_ligatures(text: str) -> str:
    """Replace ligature glyphs by their letters and drop the stray space some PDFs put after them.

    >>> repair_ligatures("eﬀ ective ﬁnding")
    'effective finding'
    """
    text = _LIGATURE_GAP.sub(r"\1", text)
    return _LIGATURE.sub(lambda m: LIGATURES[m.group(0)], text)


def normalise_chars(text: str) -> str:
    """Repair ligatures, drop control and invisible characters, unify exotic spaces.

    Letters, digits, symbols and dashes are kept as they are (no NFKC): a quote must read
    like the document, and "m²" or "≥" carry meaning.
    """
    text = repair_ligatures(text.replace("\r\n", "\n"))
    return text.translate(_TRANSLATE)


def collapse_spaces(text: str) -> str:
    """Collapse runs of spaces and tabs inside lines and strip spaces before line breaks."""
    text = _MULTI_SPACE.sub(" ", text)
    return _SPACE_BEFORE_NEWLINE.sub("\n", text).strip(" \t")


def normalise_text(text: str) -> str:
    """Full normalisation for plain-text sources: characters, then spacing."""
    text = normalise_chars(unicodedata.normalize("NFC", text))
    return "\n".join(collapse_spaces(line) for line in text.split("\n")).strip("\n")


_HYPHENS = "-\u2010\u2011"
_WORD_TAIL = re.compile(r"([A-Za-z\u00c0-\u024f]+)[" + _HYPHENS + r"]$")
_WORD_HEAD = re.compile(r"^([a-z\u00df-\u024f][A-Za-z\u00c0-\u024f]*)([-\u2010\u2011]?)")


def join_hyphenated(left: str, right: str, vocabulary: Counter[str] | None = None) -> tuple[str, str] | None:
    """Decide how a word hyphenated across a line end is rejoined.

    Args:
        left: The line that ends with a hyphen.
        right: The next line.
        vocabulary: Lower-cased word counts of the whole document, used to tell a broken
            word ("treat-/ment") from a compound that keeps its hyphen ("face-/to-face").

    Returns:
        ``(left_without_break, glue)`` where the caller writes ``left_without_break + glue + right``,
        or ``None`` when the line does not end in a hyphenated word.
    """
    tail = _WORD_TAIL.search(left)
    head = _WORD_HEAD.match(right)
    if not tail or not head:
        return None
    a, b = tail.group(1), head.group(1)
    joined, hyphened = (a + b).lower(), f"{a}-{b}".lower()
    keep_hyphen = bool(head.group(2))  # "face-/to-face": the right part is itself hyphenated
    if vocabulary is not None and not keep_hyphen:
        keep_hyphen = vocabulary.get(hyphened, 0) > vocabulary.get(joined, 0)
    if keep_hyphen:
        return left, ""
    return left[:-1], ""


_TOKEN = re.compile(r"\S+")
_CLEAN_TOKEN = re.compile(
    r"""^[("'\[“‘]*                    # opening punctuation
    (?:[A-Za-z\u00c0-\u024f][a-z\u00df-\u024f'’-]*   # a word, capitalised or not
      |[A-Z\u00c0-\u00de]{2,}[s]?                      # an acronym
      |[A-Za-z]{1,3}\d+[A-Za-z]?                        # codes such as PN3006, A1c
      |[<>≤≥=±+–−-]?[\d.,/:%–-]+[%a-zA-Z]{0,5}            # numbers with units
      |[%&=<>≤≥±+·•–—-]                                 # lone symbols
    )[)"'\]”’.,;:!?*]*$""",
    re.VERBOSE,
)


def text_quality(text: str) -> float | None:
    """Return the share of tokens that look like real words or numbers, or None for short texts.

    Real prose in any Latin-script language scores above 0.85; a garbage OCR layer
    ("s*r;tiiR»", "3s«»teership") scores far lower. No dictionary is needed, so Italian or
    German manuals are not mistaken for garbage.
    """
    tokens = _TOKEN.findall(text)
    if len(tokens) < 30:
        return None
    clean = sum(1 for t in tokens if _CLEAN_TOKEN.match(t))
    return clean / len(tokens)
