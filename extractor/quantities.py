"""Rule-based finder of quantities (percentages, changes, ratios with CIs, p-values, money, counts, durations, rates)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from extractor.schema import Quantity, QuantityKind, RatioMeasure, Span

__all__ = ["extract_quantities"]

# Conventions (SPEC "Gold format": quantities are recorded as written, as magnitudes):
# - ``value`` is the absolute value; a written sign ("−44%", "−5.4 days") stays in ``text`` and marks
#   the number as a change. Interval bounds (``low``/``high``) are kept as written, signs included.
# - Nothing is derived: "from 12% to 7%" gives two percents, not a 5-point absolute change (that
#   number has no text of its own; the claim layer may compute it).
# - ``text`` includes a comparator phrase ("up to 40%", "more than 250,000 devices"), a trailing
#   comparative ("24% higher", "6 minutes shorter") and a count's noun ("150 patients"); a ratio's
#   text starts at the measure's name ("OR 0.46"). A confidence interval after a value is read into
#   ``low``/``high`` and is not part of ``text``. "within" is a comparator ('<=') for durations only.
# - "93/103" and "12 of 200 patients" give a ``count`` (``per`` = the denominator as written) and a
#   ``sample_size`` for the denominator.
# - An estimate followed by a labelled or bracketed interval but with no named measure ("preterm
#   birth 0.82 (0.70 to 0.96)") is kind ``ci``: value the point estimate, low/high the interval.
# - A mean difference's value is its magnitude; its unit is the time unit when there is one, '%' for
#   percentages, else '' (SPEC units), so "−0.17 mm" is a mean_difference 0.17 with unit ''.
# - Numbers whose unit is outside the SPEC list (mm, mg/L, kg/m2, seconds, tonnes, rating-scale
#   scores) give nothing, nor do years, citation markers, identifiers and labels ("Table 2",
#   "category 2 to 4", "lot 2209", "ISO 10993"). A bare number with no unit is kept only with
#   context: a "per" label before it ("per 1,000 bed days 2.9"), a run of table cells ("7 2 −5"), or
#   a partner in "from 41 to 22".
# - Currency symbols that are mis-encoded "≤"/"≥" glyphs ("CGI-I £ 2", "pH $7.30", "BMI $28 kg/m2",
#   "HbA1c $6.5%", "$1 week") give nothing at all: a symbol glued to a word, a symbol + space + small
#   number, a number followed by a non-money unit, or a measurement name before it. Participant
#   payments ("£10 vouchers") are money like any other: telling them from costs is the claim's job.
# - "P , 0.001" (a "<" extracted as ",", same PDF font family as the "$" for "≥") is read as p < 0.001.

# --- building blocks -------------------------------------------------------------------------------

_NUM = r"(?:\d{1,3}(?:,\d{3})+|\d+)(?:[.·]\d+)?"
_SNUM = r"[-−–]?(?:(?:\d{1,3}(?:,\d{3})+|\d+)(?:[.·]\d+)?|[.·]\d+)"
_DASH = r"[-–—−‐‑]"
_SP = r"[ \t\u00a0\u2009\u202f]"
_ISO_CODES = "GBP EUR USD AUD CAD NZD CHF JPY CNY INR SEK NOK DKK ZAR SGD HKD KRW BRL".split()


def _nocase(words: str) -> str:
    """Alternation of ``words`` ('|'-separated) matching both cases of every letter.

    Written out as character classes rather than ``(?i:...)`` so that the regex engine can reject a
    branch on its first character; this keeps the master pattern fast.
    """
    out = []
    for word in words.split("|"):
        out.append("".join(f"[{c.lower()}{c.upper()}]" if c.isascii() and c.isalpha() else c for c in word))
    return "(?:" + "|".join(out) + ")"


_RATIO_LONG = (
    r"(?:" + _nocase("adjusted|crude|pooled|summary|unadjusted") + r"\s+)?"
    r"(?:" + _nocase("incidence") + r"\s+" + _nocase("rate") + r"\s+" + _nocase("ratio")
    + r"|" + _nocase("rate|hazards?|sub-?hazards?|odds|risk") + r"\s+" + _nocase("ratio")
    + r"|" + _nocase("relative") + r"\s+" + _nocase("risk|rate") + r")s?"
    r"(?:\s*[(\[](?:a|adj\.?\s?)?(?:IRR|RR|OR|HR|SHR|sHR)[)\]])?"
)
_RATIO_ABBR = r"(?:a|adj\.?\s?)?(?:IRR|RR|OR|HR|SHR|sHR)(?![A-Za-z\d-])"
# between a ratio's name and its value: "odds ratio for physical activity group, adjusted for centre only 1.21"
_GAP = r"[*†‡§¶]*(?:\s*[(\[]9[059]\s?%\s?CI[)\]])?(?:\s*(?:=|:|,|\bwas\b|\bwere\b|\bof\b|\bis\b))?[^\d;()\[\]<>=%.\n]{0,80}?"
# between an abbreviation and its value: "OR 0.46", "HR = 0.72", "aOR: 2.1"
_ABBR_GAP = r"[*†‡§¶]*(?:\s*[(\[]9[059]\s?%\s?CI[)\]])?[ \t]?(?:[=:]|\bof\b|\bwas\b)?[ \t]?"
_NOT_A_UNIT = r"(?!\s?(?:%|per\s?cent|mins?\b|minutes|hours?\b|h\b|days?\b|d\b|weeks?\b|months?\b|years?\b|bpm|mm|kg|mg|ml)|\d)"

_MD_NAME = (
    r"(?P<mdname>(?:" + _nocase("adjusted|standardised|standardized|weighted|between-group|between group|absolute|overall") + r"\s+)?"
    r"(?:" + _nocase("mean|median") + r"\s+" + _nocase("differences?") + r"|" + _nocase("differences?") + r"\s+in\s+means"
    r"|" + _nocase("mean") + r"\s+change|" + _nocase("between-group|between group") + r"\s+differences?)"
    r"|(?:W?MD|SMD)(?=[ \t]?[=:]?[ \t]?[-−–]?\d*\.\d)"
    r"|(?P<adname>" + _nocase("risk") + r"\s+differences?|" + _nocase("absolute") + r"\s+risk\s+(?:reduction|difference|increase)s?"
    r"|(?:ARR|ARI|RD)(?![A-Za-z])))"
)

_NUMWORD = (
    r"(?:" + _nocase("twenty|thirty|forty|fifty|sixty|seventy|eighty|ninety")
    + r"(?:[ -](?:one|two|three|four|five|six|seven|eight|nine))?"
    r"|" + _nocase("one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve") + r")(?![\w-])"
)

_ALTERNATIVES = {
    # ratio with its measure: "OR 0.46", "odds ratio for ... 1.21", "HR = 0.72"
    "ratio": r"(?=[Aa][Dd]|[Cc][Rr]|[Pp][Oo]|[Ss][Uu]|[Uu][Nn]|[Ii][Nn]|[Rr][AaIiEe]|[Hh][Aa]|[Oo][Dd]|a[OHRI]|IR|RR|OR|HR|SH|sH)"
    rf"(?P<ratio>(?P<rname>{_RATIO_LONG}{_GAP}|{_RATIO_ABBR}{_ABBR_GAP})(?P<rval>{_NUM}|[.·]\d+){_NOT_A_UNIT})",
    # mean / risk difference: "mean difference −0.17 mm", "a mean difference of 2.9 log-ins"
    "md": r"(?=[Aa][DdBb]|[Ss][Tt]|[Ww][Ee]|[Bb][Ee]|[Oo][Vv]|[Mm][Ee]|[Dd][Ii]|[Rr][Ii]|WM|MD|SM|AR|RD)"
    rf"(?P<md>{_MD_NAME}[*†‡]*(?:\s*[(\[]9[059]\s?%\s?CI[)\]])?(?:\s*(?:=|:|,|\bwas\b|\bof\b|\bis\b))?\s*"
    rf"(?P<mdval>{_SNUM})(?![\d.,·]|\s?%\s?(?:CI|[Cc]onfidence))(?P<mdunit>\s?%|\s?percentage\s+points?"
    rf"|{_SP}?(?:days?|hours?|h|minutes?|mins?|weeks?|months?|years?)(?![A-Za-z])"
    rf"|{_SP}(?!(?:to|and|or|in|for|with|vs|versus|between|among|at|on|of|the|was|were|per)\b)[a-z][\w-]*)?)",
    # p-values: "p<0.001", "P = .03", "P value <0.025", "p ≤ 0.05"
    "pval": r"(?P<pval>[Pp](?:\s?[-\s]?[Vv]alues?)?(?:\s[Ff]or\s(?:trend|interaction|heterogeneity|difference))?"
    r"\s*(?P<pop><=|>=|=<|=>|≤|≥|⩽|⩾|<|>|=|¼|&lt;|&gt;|(?<=\s),(?=\s+0?[.·]\d))\s*(?P<pnum>\d+(?:[.·]\d+)?|[.·]\d+)"
    r"(?:\s?[×x]\s?10\s?\^?\s?(?P<pexp>[-−–]?\d+))?)",
    # sample size: "n=248", "(N = 1,088)"
    "nsize": rf"(?P<nsize>[nN]\s?=\s?(?P<nval>{_NUM}))",
    # money: "£1,200", "GBP 1.2m", "US$15,000", "Rs. 1,234", "€3.4 million"
    "money": r"(?=[£€$¥₹₩]|US|AU?\$|CA?\$|NZ|HK|S\$|R\$|Rs|[A-Z]{3})"
    r"(?P<money>(?P<cur>US\s?\$|AU?\$|CA?\$|NZ\$|HK\$|S\$|R\$|£|€|\$|¥|₹|₩|Rs\.?(?=\s?\d)"
    r"|(?:" + "|".join(_ISO_CODES) + r")(?=\s?\d))"
    rf"(?P<msp>\s?)(?P<mnum>{_NUM})(?:[ \t]?(?:[-–—]|to)[ \t]?(?P<mnum2>(?:£|€|\$)?{_NUM}))?"
    r"(?P<mscale>\s?(?:million|billion|thousand|bn|mn|lakhs?|crores?)(?![A-Za-z])|(?:m|k|b)(?![A-Za-z\d]))?)",
    # a confidence-interval label with no estimate recognised before it: consumed, not emitted
    "cilabel": r"(?=9)(?P<cilabel>9[059]\s?%\s?(?:CI|CrI|" + _nocase("confidence") + r"\s+(?:intervals?|limits?)|"
    + _nocase("credible|uncertainty") + r"\s+intervals?))",
    # "93/103" (count / denominator)
    "frac": r"(?P<frac>(?<![\w./,·-])(?P<fa>\d{1,3}(?:,\d{3})+|\d+)\s?/\s?(?P<fb>\d{1,3}(?:,\d{3})+|\d+)(?![\w/.·]|,\d))",
    # "12 of 200 patients", "24 of 26 operators"
    "xof": rf"(?P<xof>(?<![\w.,/·-])(?P<xa>{_NUM})\s+(?:of|out\s+of)\s+(?:the\s+)?(?P<xb>{_NUM})(?![\d%.,]|\s?%|\s?per\s?cent))",
    # timepoints written as "day 28", "week 12", "month 6"
    "tp": r"(?=[DdWwMm])(?P<tp>(?P<tpu>[Dd]ay|[Ww]eek|[Mm]onth) (?P<tpn>\d{1,3})(?![\w.,%]))",
    # fractions in words: "a quarter of", "two thirds of", "half of"
    "fracw": r"(?=[AaOoTtHh])(?P<fracw>(?:[Aa]|[Oo]ne)\s+(?:quarter|third|fifth|tenth)"
    r"|(?:[Tt]wo|[Tt]hree)\s+(?:thirds|quarters|fifths)|[Hh]alf)(?=\s+of\b)",
    # a number (with an optional sign and a range "2–4", "41 to 22"); its unit is read afterwards
    "gen": r"(?=[\d±−+\-–])"
    rf"(?P<gen>(?P<sign>(?<![\w.,)\]%/])[-−+±–](?=\d))?(?<![\w.,/·^])(?<![A-Za-z]-)(?P<num>{_NUM})"
    rf"(?:(?P<rpct>\s?%)?(?:[ \t][Tt]o[ \t]|{_DASH}|[ \t]{_DASH}[ \t])(?P<num2>{_NUM})(?![.,]\d))?)",
    # a number word: "two UK sites", "four weeks", "Seventy two per cent"
    "genw": rf"(?=[TtFfSsEeNnOo])(?P<genw>{_NUMWORD})",
}
_A = _ALTERNATIVES
# Grouped by first character so that the engine tries only the alternatives that can start there;
# each alternative's lookahead guard lets it fail on its first characters. Order matters only among
# alternatives that can start at the same character: the first that matches wins.
_BODY = (
    rf"(?=[A-Za-z])(?:{_A['ratio']}|{_A['md']}|{_A['pval']}|{_A['nsize']}|{_A['tp']}|{_A['fracw']}|{_A['genw']})"
    rf"|(?=\d)(?:{_A['cilabel']}|{_A['frac']}|{_A['xof']})"
    rf"|{_A['money']}|{_A['gen']}"
)
# Every match is preceded by a non-letter, which the engine can find fast; the quantity starts after it.
_MASTER = re.compile(r"[^A-Za-z](?:" + _BODY + ")")
_MASTER_AT = re.compile(_BODY)  # for a quantity at the very start of the scanned range

_UNIT = re.compile(
    r"(?P<gscale>\s(?:million|billion|thousand)(?![A-Za-z]))?"
    r"(?:"
    r"(?P<pp>\s?(?:" + _nocase("percentage") + r"[\s-]points?|%[\s-]points?|pp)(?![A-Za-z]))"
    r"|(?P<pct>\s?%|\s?(?:per\s?cent|percent)(?![A-Za-z]))"
    r"|(?P<tu>(?:\s?|-)(?:(?P<tcmp>" + _nocase("fewer|more|less|extra|additional") + r")\s)?(?:(?:working|calendar)[\s-])?"
    r"(?P<tuw>" + _nocase("days?|hours?|hrs?|minutes?|mins?|weeks?|wks?|months?|mos?|years?|yrs?") + r")(?![A-Za-z])"
    r"|\s?(?P<tua>[dhy])(?![\w/.]))"
    r"|(?P<times>\s?(?:times|-fold|fold)(?![A-Za-z])|-times)"
    r"|(?P<pts>\s(?:points?)(?![A-Za-z]))"
    r"|(?P<cursuf>\s?(?:" + "|".join(_ISO_CODES) + r")(?![A-Za-z])|\s(?:euros?|dollars?|pounds\s+sterling|rupees)(?![A-Za-z]))"
    r"|(?P<skipu>\s?(?:mm|cm|km|m|kg|g|mg|µg|μg|mcg|ug|ng|pg|ml|mL|dL|dl|L|l|mmol|µmol|μmol|nmol|mol|mEq|IU|U|kcal|cal|kJ|kWh|Wh|"
    r"W|kW|V|mV|Hz|kHz|MHz|bpm|mmHg|Pa|kPa|ppm|ppb|t|lb|lbs|ft|mph|s|sec|secs|°C|°F|°|µm|μm|nm|x|×|GB|MB|"
    + _nocase("tonnes?|tons?|miles?|metres?|meters?|kilometres?|kilometers?|litres?|liters?|grams?|kilograms?|seconds?|inches|feet|"
              "units?|degrees?|beats|breaths|steps|calories|kilocalories|pixels?|bits?|bytes?|cells|copies")
    + r")(?![A-Za-z]))"
    r")?"
)

_CI_AFTER = re.compile(
    rf"""
    (?:
        \s*[,;]?\s*[(\[]?\s*
        (?:9[059]\s?%\s?(?:CI|CrI|[Cc]onfidence\s+intervals?|[Cc]redible\s+intervals?|[Cc]onfidence\s+limits?)|CI\s?9[059]\s?%|CI)
        \s*[:,=]?\s*(?:(?:was|of|from)\s+)?[(\[]?\s*
        (?P<lo>{_SNUM})\s?%?\s*(?:to|{_DASH}|,|;|and)\s*(?P<hi>{_SNUM})\s?%?
    |
        \s*[(\[]\s*(?P<lo2>{_SNUM})\s?%?\s*(?:to|{_DASH}|,|;)\s*(?P<hi2>{_SNUM})\s?%?\s*[)\]]
    |
        \s*[,;]\s*(?P<lo3>{_SNUM})\s?%?\s*(?:to|{_DASH})\s*(?P<hi3>{_SNUM})\s?%?(?!\d|[.·]\d)
    )
    [)\]]?
    """,
    re.VERBOSE,
)

_PER_STOP = (
    r"(?:and|or|for|with|in|at|compared|than|of|the|from|to|was|were|is|are|on|by|vs|versus|over|during|after|before|among|"
    r"which|who|that|fell|rose|increased|decreased|a|an|per|overall|respectively|only|alone|each|both|all)\b"
)
_PER_AFTER = re.compile(
    r"(?:(?:\s+of\s+(?:[a-z][\w-]*\s+){1,3}?)?\s*per\s"
    r"(?P<per>(?:\d{1,3}(?:,\d{3})+|\d+)?\s?(?!(?:cent|annum)\b)[A-Za-z][\w-]*"
    r"(?:[ \t](?!" + _PER_STOP + r")[a-z][\w-]*){0,2}(?:[ \t]per[ \t][a-z]+)?)"
    r"|[ \t]?/[ \t]?(?P<per3>(?:\d{1,3}(?:,\d{3})+|\d+)?[ \t]?[A-Za-z]+(?:-[A-Za-z]+)?)(?![\w/-]|\.\w)"
    r"|\s+(?:a|an|each|every)\s+(?P<per2>year|month|week|day|night|patient|procedure)\b"
    r"|\s+(?P<annual>annually|per\s+annum|p\.a\.|pa\b))"
)
_PER_LEADS_WITH_PER = re.compile(r"\s*(?:of\s+[\w\s-]+?\s+)?per\b")
_PER_LABEL_BEFORE = re.compile(
    r"\bper[ \t]+(?P<per>(?:\d{1,3}(?:,\d{3})+[ \t]|\d+[ \t])?[a-z][\w-]*(?:[ \t][a-z][\w-]*){0,2}?(?:[ \t]per[ \t][a-z]+)?)"
    r"[ \t]+(?:(?:fell|rose|increased|decreased|dropped|went|changed|was|were|is|are|reduced|improved)[ \t]+(?:from[ \t]+)?)?$"
)
_TIMES_PER = re.compile(r"\s+(?:a|an|per|each|every)\s+(?P<p>[a-z]+)|\s+(?P<d>daily|weekly|monthly|yearly|annually)")
_TIME_DENOMINATOR = re.compile(r"\d.*(?:days?|weeks?|months?|years?|hours?)$", re.IGNORECASE)

_PRICE_YEAR = re.compile(
    r"(?<!\d)(?P<y>(?:19|20)\d{2}(?:\s?[/–-]\s?(?:(?:19|20)\d{2}|\d{2}))?)(?!\d)\s+"
    r"(?:prices?|price\s+(?:year|base)|costs?|values?|pounds|GBP|£|€|US\$|USD|EUR|euros?)(?![A-Za-z])"
    r"|(?:[Pp]rice\s+(?:year|base)|[Pp]rices?\s+(?:of|in|at))\s*(?:of|:|was|is|=)?\s*"
    r"(?P<y2>(?:19|20)\d{2}(?:\s?[/–-]\s?(?:(?:19|20)\d{2}|\d{2}))?)(?!\d)"
)
_SENTENCE_END = re.compile(r"[.!?][)\]\"'’”]?(?=\s+[A-Z(\[\"'“‘£$€]|\s*$)|\n[ \t]*\n")
_YEAR_SPLIT = re.compile(r"\s?[/–-]\s?")

_CMP_BEFORE = re.compile(
    r"(?:\b(?P<w>" + _nocase("up to|at least|at most|no more than|not more than|no less than|more than|less than|fewer than|"
                              "greater than|over|under|below|above|almost|nearly|within|exceeding|as many as|as much as|"
                              "as few as|as little as").replace(" ", r"\s+")
    + r")\s+(?:(?:an?\s+)?(?:estimated|average|approximately|about|around)\s+)?"
    r"|(?P<s>[<>≤≥⩽⩾]=?)[ \t]?)$"
)
_CMP_LAST_WORDS = frozenset(
    "to least most than over under below above almost nearly within exceeding as estimated average approximately about around".split()
)
_CMP_OPS = {
    "up to": "<=", "at most": "<=", "no more than": "<=", "not more than": "<=", "within": "<=",
    "as many as": "<=", "as much as": "<=", "at least": ">=", "no less than": ">=", "as few as": ">=",
    "as little as": ">=", "more than": ">", "greater than": ">", "over": ">", "above": ">", "exceeding": ">",
    "less than": "<", "fewer than": "<", "under": "<", "below": "<", "almost": "<", "nearly": "<",
    "<": "<", ">": ">", "<=": "<=", ">=": ">=", "≤": "<=", "≥": ">=", "⩽": "<=", "⩾": ">=",
    "=<": "<=", "=>": ">=", "=": "=", "¼": "=", ",": "<", "&lt;": "<", "&gt;": ">",
}

_STOP = frozenset(
    """a an the and or of to in on at for with by from as than vs versus v was were is are be been being had has have
    did do does who which that this these those it its per out into after before during among between each their
    they we our your his her respectively whom whose while when where if but not no nor so also only both either
    p n ci sd se iqr mean median range total all any more less fewer about around approximately overall""".split()
)
_PLURAL_HEADS = frozenset("staff people children women men personnel data police clergy offspring feet teeth mice".split())
_NOT_COUNT_NOUNS = frozenset("scale scales score scores point points ratio ratios times version versions".split())
_YEAR_NOUNS = frozenset("patients participants people children women men subjects cases procedures".split())
_TOKEN = re.compile(r"[ \t\u00a0]+([A-Za-z][\w'’-]*)")

_SAMPLE_BEFORE = re.compile(
    r"(?:\b(?:[Ss]urvey|[Ss]ample|[Cc]ohort|[Tt]otal|[Ss]tudy|[Tt]rial|[Pp]anel|[Ss]eries|[Aa]udit|[Ee]valuation)\s+of"
    r"|\b[Aa]mong\s+(?:the\s+|all\s+)?"
    r"|\b(?:enrolled|recruited|randomi[sz]ed|included|involving|comprising|surveyed|interviewed|analy[sz]ed)"
    r"|\d\s?%\s+of\s+(?:the\s+)?|\d\s+of\s+(?:the\s+)?)\s*$"
)
_CHANGE_BEFORE = re.compile(
    r"(?:\b[Bb]y"
    r"|\b(?:reduction|decrease|increase|rise|fall|drop|decline|improvement|saving|cut|gain|loss)s?\s+(?:in\s+[\w-]+(?:\s+[\w-]+)?\s+)?of"
    r"|\b" + _nocase("reduce|reduces|reduced|reducing|cut|cuts|cutting|lower|lowers|lowered|lowering|prevent|prevents|prevented|preventing|"
                     "avoid|avoids|avoided|avoiding|remove|removes|removed|removing|save|saves|saved|saving|increase|increases|increased|"
                     "increasing|improve|improves|improved|improving|decrease|decreases|decreased|decreasing|raise|raises|raised|raising|"
                     "boost|boosts|boosted|halve|halves|halved|slash|slashes|slashed|shorten|shortens|shortened") + r")"
    r"\s+(?:(?:an?|the)\s+)?(?:(?:estimated|average|approximately|approx\.?|about|around|roughly|further|additional|mean|median|overall|"
    r"relative|absolute|typical|potential)\s+)*$"
)
_BY_BEFORE = re.compile(
    r"\b[Bb]y\s+(?:(?:an?|the)\s+)?(?:(?:estimated|average|approximately|about|around|further|additional|mean|median|overall)\s+)*$"
)
_PASSIVE_BY = re.compile(
    r"\b(?:followed|preceded|accompanied|caused|measured|assessed|defined|reported|given|determined|completed|administered|"
    r"conducted|performed|led|supported|funded|used|experienced|endorsed|rated|chosen|preferred|attended|received|taken|achieved|"
    r"observed|seen|recorded|classified|stratified|adjusted|weighted|divided|multiplied|replaced|represented|explained|indicated|"
    r"shown|confirmed|verified|validated|calculated|estimated|identified|noted|obtained|provided|met|filled|answered)"
    r"\s+[Bb]y\s+\S*\s*\S*\s*$"
)
_RELATIVE_BEFORE = re.compile(r"(?:[Rr]elative\s+(?:risk\s+)?(?:reduction|increase)|(?<![A-Za-z])RRR)[\s:,=]*(?:(?:of|was|is)\s+)?$")
_ABSOLUTE_BEFORE = re.compile(
    r"(?:[Aa]bsolute\s+(?:risk\s+)?(?:reduction|increase|difference)|[Rr]isk\s+difference|(?<![A-Za-z])(?:ARR|ARI|RD))"
    r"[\s:,=]*(?:(?:of|was|is)\s+)?$"
)
_COMPARATIVE_AFTER = re.compile(
    r"[ \t](?P<w>higher|lower|less|more|fewer|greater|smaller|larger|shorter|longer|faster|slower|quicker|cheaper|"
    r"reduction|decrease|increase|improvement|rise|fall|drop|decline|saving|cut)(?![\w-])"
)
_ADJ_COMPARATIVES = frozenset("higher lower less more fewer greater smaller larger shorter longer faster slower quicker cheaper".split())
_OF_AFTER = re.compile(r"\s+of\b")
_OF_IN_AFTER = re.compile(r"\s+(?:of|in)\b")
_LABEL_BEFORE = re.compile(
    r"(?:\b(?:[Tt]ables?|[Ff]igures?|[Ff]igs?\.?|[Ss]upplementary|[Aa]ppendix|[Cc]ategory|[Cc]ategories|[Tt]iers?|[Gg]rades?|[Ss]tages?|"
    r"[Tt]ypes?|[Pp]hases?|[Cc]lass|[Ll]ot|[Bb]atch|[Vv]ersion|[Ss]tep|[Ss]ections?|[Cc]hapter|[Pp]ages?|[Ii]tems?|[Qq]uestions?|"
    r"[Ww]aves?|[Cc]ycles?|[Rr]efs?\.?|[Rr]eferences?|[Mm]odel|[Ll]ines?|[Rr]ows?|[Cc]olumns?|[Nn]os?\.|[Vv]ol\.?|[Vv]olume|[Ii]ssue|"
    r"[Gg]rant|[Ss]core|[Ss]cale|[Ll]evel|ISO|EN|IEC|BS|TA|NG|CG|DG|MTG|CTCAE|NYHA|GOLD|ASA|[Dd]oi|DOI))"
    r"[ \t]?[:#]?[ \t]?(?:\d+[ \t]*(?:to|and|or|[-–,])[ \t]*(?:[A-Za-z]+[ \t]+)?)?$"
)
_WORDS = re.compile(r"[A-Za-z]+")
_LABEL_WORDS = frozenset(
    """table tables figure figures fig figs supplementary appendix category categories tier tiers grade grades stage stages
    type types phase phases class lot batch version step section sections chapter page pages item items question questions
    wave waves cycle cycles ref refs reference references model line lines row rows column columns no nos vol volume issue
    grant score scale level iso en iec bs ta ng cg dg mtg ctcae nyha gold asa doi""".split()
)
_MEASUREMENT_BEFORE = re.compile(
    r"\b(?:pH|BMI|[Aa]ge[ds]?|[Ss]core[sd]?|HbA1c|A1C|CGI(?:-[IS])?|[Gg]rade|[Gg]lucose|[Bb]icarbonate|[Ww]eight|[Hh]eight|"
    r"[Tt]emperature|FEV1|eGFR|[Cc]reatinine|[Cc]holesterol|[Pp]ressure|[Ss]aturation|SpO2|MADRS|HAM-?D|CDRS(?:-R)?|PHQ-?9|GAF|"
    r"[Ll]evel|[Cc]oncentration|[Cc]ount|[Ii]ndex|[Rr]ate|[Dd]uration|[Ll]ength|[Dd]ose|BP|SBP|DBP|Hb|[Hh]a?emoglobin|[Ii]nsulin|"
    r"[Vv]alues?|[Tt]hreshold|[Cc]ut-?off|[Tt]itre|[Tt]iter)[\s:=]*(?:(?:of|was|were|is|at|total)\s+)*$"
)
_SCALE_BEFORE = re.compile(r"\b(?:[Ss]core[sd]?|[Ss]cale|[Rr]ated|[Rr]ating)\W*$")
_NONMONEY_AFTER = re.compile(
    r"(?:[ \t]?(?:[-–—−]|to)[ \t]?[£$€]?\d+(?:[.,]\d+)?)?"
    r"\s?(?:%|(?:kg|mg|g|µg|mcg|ng|mmol|µmol|mol|mEq|ml|mL|dL|L|mm|cm|m2|m²|IU|U|"
    r"bpm|mmHg|°|kPa|ppm|units?|points?|" + _nocase("years?|yrs?|months?|weeks?|days?|hours?|hrs?|minutes?|mins?|seconds?")
    + r"|y|d|h)(?![A-Za-z]))"
)
_ONE_EXCLUDED_BEFORE = re.compile(r"\b(?:[Ee]ach|[Aa]ny|[Nn]o|[Ee]very|[Tt]his|[Tt]hat|[Tt]he|[Ww]hich|[Oo]nly|[Aa]t|[Oo]ne|[Aa])\s+$")
_THE_BEFORE = re.compile(r"\b[Tt]he\s+$")
_TP_EXCLUDED_BEFORE = re.compile(r"\b(?:[Aa]|[Aa]n|[Pp]er|[Ee]ach|[Ee]very|[Oo]nce|[Tt]wice|[Tt]he)\s$")
_BRIDGE = re.compile(r"[ \t]+(?:(?:to|and|vs\.?|versus|v\.?)[ \t]+)")
_RUN_GAP = re.compile(r"[ \t]+")
_GAP_BEFORE_CI = re.compile(r"[\s,;(\[]*")
_DECIMAL = re.compile(r"[.·]")
_DIGIT_START = re.compile(r"\d")

_TIME_UNITS = {
    "day": "days", "days": "days", "d": "days",
    "hour": "hours", "hours": "hours", "h": "hours", "hr": "hours", "hrs": "hours",
    "minute": "minutes", "minutes": "minutes", "min": "minutes", "mins": "minutes",
    "week": "weeks", "weeks": "weeks", "wk": "weeks", "wks": "weeks",
    "month": "months", "months": "months", "mo": "months", "mos": "months",
    "year": "years", "years": "years", "yr": "years", "yrs": "years", "y": "years",
}
_CURRENCY_SYMBOLS = {
    "£": "GBP", "€": "EUR", "$": "USD", "¥": "JPY", "₹": "INR", "₩": "KRW", "US$": "USD",
    "A$": "AUD", "AU$": "AUD", "C$": "CAD", "CA$": "CAD", "NZ$": "NZD", "HK$": "HKD", "S$": "SGD", "R$": "BRL",
    "Rs": "INR", "Rs.": "INR",
}
_CURRENCY_WORDS = {"euro": "EUR", "euros": "EUR", "dollar": "USD", "dollars": "USD", "pounds sterling": "GBP", "rupees": "INR"}
_SCALES = {
    "k": 1e3, "thousand": 1e3, "m": 1e6, "mn": 1e6, "million": 1e6, "b": 1e9, "bn": 1e9, "billion": 1e9,
    "lakh": 1e5, "lakhs": 1e5, "crore": 1e7, "crores": 1e7,
}
_WORD_VALUES = {w: float(i) for i, w in enumerate("zero one two three four five six seven eight nine ten eleven twelve".split())}
_WORD_VALUES.update({w: float(10 * (i + 2)) for i, w in enumerate("twenty thirty forty fifty sixty seventy eighty ninety".split())})
_FRACTIONS = {
    "quarter": 25.0, "third": 100 / 3, "fifth": 20.0, "tenth": 10.0, "half": 50.0, "thirds": 100 / 3, "quarters": 25.0, "fifths": 20.0,
}
_MEASURES = {"IRR": RatioMeasure.IRR, "RR": RatioMeasure.RR, "OR": RatioMeasure.OR, "HR": RatioMeasure.HR, "SHR": RatioMeasure.HR}
_MEASURE_ABBR = re.compile(r"(?:a|adj\.?\s?)?(IRR|RR|OR|HR|SHR|sHR)(?![A-Za-z])")
_MEASURE_WORD = re.compile(r"incidence|rate|hazard|odds|risk")
_MEASURE_WORDS = {"incidence": RatioMeasure.IRR, "rate": RatioMeasure.IRR, "hazard": RatioMeasure.HR, "odds": RatioMeasure.OR}
_SIGNS = "−-–+"


@dataclass
class _Found:
    """A quantity under construction; ``i``/``j`` index the scanned text."""

    kind: QuantityKind
    value: float
    i: int
    j: int
    unit: str = ""
    low: float | None = None
    high: float | None = None
    measure: RatioMeasure | None = None
    op: str | None = None
    per: str | None = None
    price_year: str | None = None
    bare: bool = False  # a number with no unit: kept only with context (see _resolve_bare)
    signed: bool = False
    decimal: bool = False


def _num(s: str) -> float:
    """Turn a matched number ("1,088", "0·05", "−0.26", ".03") into a float."""
    return float(s.replace(",", "").replace("·", ".").replace("−", "-").replace("–", "-"))


def _word_value(word: str) -> float:
    return sum(_WORD_VALUES[p] for p in word.lower().replace("-", " ").split())


def _measure(name: str) -> RatioMeasure:
    """The measure named at the start of a ratio's text ("aOR", "incidence rate ratio", ...)."""
    abbr = _MEASURE_ABBR.match(name)
    if abbr:
        return _MEASURES[abbr.group(1).upper()]
    word = _MEASURE_WORD.search(name.lower())
    return _MEASURE_WORDS.get(word.group(0), RatioMeasure.RR) if word else RatioMeasure.RR


def _ci(text: str, pos: int, end: int, *, shaped: bool = True) -> tuple[float | None, float | None, int]:
    """Read a confidence interval starting at ``pos``; return (low, high, end of the interval).

    With ``shaped``, only a labelled ("95% CI ...") or bracketed interval counts, not a bare
    ", 0.53 to 1.18" (which only follows a named ratio).
    """
    m = _CI_AFTER.match(text, pos, end)
    if not m or (shaped and m.group("lo3") is not None):
        return None, None, pos
    low = _num(m.group("lo") or m.group("lo2") or m.group("lo3"))
    high = _num(m.group("hi") or m.group("hi2") or m.group("hi3"))
    if low > high:
        return None, None, pos
    return low, high, m.end()


def _per_after(text: str, pos: int, end: int) -> str | None:
    """The denominator written after a money amount: "per patient", "a year", "/year"."""
    m = _PER_AFTER.match(text, pos, end)
    if not m:
        return None
    if m.group("per"):
        return m.group("per").strip()
    return m.group("per3") or m.group("per2") or "year"


def _noun_end(text: str, pos: int, end: int) -> int | None:
    """End of the noun phrase after a count ("150 patients", "14 new manufacturing jobs"), if any.

    Up to four words are read; the phrase ends at the first plural noun, else at the first word.
    A stop word, a capitalised (non-acronym) first word or a verb-like first word means no noun.
    """
    if pos >= end or text[pos] not in " \t\u00a0":
        return None
    window = text[pos : min(end, pos + 80)]
    at = 0
    first: int | None = None
    participle = False
    for k, m in enumerate(_TOKEN.finditer(window)):
        if m.start() != at or k == 4:
            break
        at = m.end()
        tok = m.group(1)
        low = tok.lower()
        if low in _STOP or low in _SCALES:
            break
        is_acronym = len(tok) > 1 and tok[0].isupper() and any(c.isupper() for c in tok[1:])
        if tok[0].isupper() and not is_acronym:
            if k == 0:
                return None
            break
        if is_acronym:
            continue
        if k == 0 and low.endswith("ly"):
            return None  # "two similarly designed": an adverb
        if low.endswith("ed") and "-" not in low:
            participle = True  # "48 trained staff" (kept: a plural follows) or "two assigned to" (dropped)
            continue
        if low in _PLURAL_HEADS or (low.endswith("s") and not low.endswith("ss") and len(low) > 2):
            return pos + m.end()
        if first is None:
            first = pos + m.end()
    return None if participle else first


def _change_word(before: str) -> str | None:
    """The word that makes the following number a change ("by", "reduction", "cut", ...), if any."""
    m = _CHANGE_BEFORE.search(before[-48:])
    if not m:
        return None
    before = before[-48:]
    word = m.group(0).split()[0].lower()
    if word == "by" and _PASSIVE_BY.search(before[: m.start() + 3] + " "):
        return None
    return word


def _is_by(before: str) -> bool:
    """True for "... by <number>" where "by" gives the size of a change, not an agent."""
    if "by" not in before and "By" not in before:
        return False
    m = _BY_BEFORE.search(before)
    return bool(m) and not _PASSIVE_BY.search(before[: m.start() + 3] + " ")


def _is_label(before: str) -> bool:
    """True when a label ("Table", "category 2 to", "ISO") comes just before a number."""
    b = before.rstrip()
    if not b or not (b[-1].isalpha() or b[-1] in ".:#,-–"):
        return False
    if not any(w.lower() in _LABEL_WORDS for w in _WORDS.findall(b[-32:])[-4:]):
        return False
    return _LABEL_BEFORE.search(before[-32:]) is not None


def _per_before(before: str) -> bool:
    """True when "per" comes just before a number ("per 1,000 bed days")."""
    b = before.rstrip(" \t")
    return len(b) < len(before) and b.endswith("per") and (len(b) == 3 or not b[-4].isalpha())


def stated_price_years(text: str) -> set[str]:
    """Every price year a text states ("Prices at 2025/26 levels", "price year: 2024/25"), normalised ("2025/26")."""
    return {_norm_year(m.group("y") or m.group("y2")) for m in _PRICE_YEAR.finditer(text)}


def _norm_year(y: str) -> str:
    parts = _YEAR_SPLIT.split(y)
    return f"{parts[0]}/{parts[1][-2:]}" if len(parts) == 2 else parts[0]


class _Scanner:
    """One pass over ``text[start:end]``: the master pattern finds candidates, handlers judge them."""

    def __init__(self, text: str, start: int, end: int) -> None:
        self.text = text
        self.start = start
        self.end = end
        self.found: list[_Found] = []

    def before(self, i: int, width: int = 60) -> str:
        return self.text[max(self.start, i - width) : i]

    def comparator(self, i: int) -> tuple[str | None, int]:
        """A comparator phrase ending just before ``i`` ("up to ", "≥"): its operator and start."""
        text, k = self.text, i - 1
        while k >= self.start and text[k] in " \t\n\u00a0":
            k -= 1
        if k < self.start or not (text[k].isalpha() or text[k] in "<>≤≥⩽⩾="):
            return None, i
        window = text[max(self.start, i - 40) : i]
        stripped = window.rstrip()
        if stripped[-1] not in "<>≤≥⩽⩾=":
            words = stripped.rsplit(None, 1)
            if words[-1].lstrip("([{\"'“‘").lower() not in _CMP_LAST_WORDS:
                return None, i
        m = _CMP_BEFORE.search(window)
        if not m:
            return None, i
        phrase = (m.group("w") or m.group("s")).lower()
        return _CMP_OPS.get(" ".join(phrase.split())), i - len(window) + m.start()

    def run(self) -> list[_Found]:
        text, end = self.text, self.end
        pos = self.start
        m = _MASTER_AT.match(text, pos, end)
        if m is not None:
            pos = self.dispatch(m)
        # finditer runs in C; it is restarted only when a handler moved the position somewhere other
        # than the end of the match (an interval or a noun read past it, a range rescanned from inside)
        matches = _MASTER.finditer(text, max(self.start, pos - 1), end)
        m = next(matches, None)
        while m is not None:
            if m.start() < pos - 1:  # inside text a handler has already read: rescan from there
                matches = _MASTER.finditer(text, pos - 1, end)
            else:
                match_end = m.end()
                pos = self.dispatch(m)
                if pos < match_end:  # the handler wants the rest of the match rescanned ("41 to 22")
                    matches = _MASTER.finditer(text, pos - 1, end)
            m = next(matches, None)
        return self.found

    def dispatch(self, m: re.Match) -> int:
        kind = m.lastgroup
        nxt = getattr(self, "_" + kind)(m)
        return max(nxt, m.start(kind) + 1)

    def add(self, kind: QuantityKind, value: float, i: int, j: int, **kw: object) -> _Found:
        f = _Found(kind, value, i, j, **kw)  # type: ignore[arg-type]
        self.found.append(f)
        return f

    # --- handlers: each returns the position to continue scanning from ---------------------------

    def _ratio(self, m: re.Match) -> int:
        low, high, stop = _ci(self.text, m.end(), self.end, shaped=False)
        measure = _measure(m.group("rname"))
        self.add(QuantityKind.ratio, _num(m.group("rval")), m.start("ratio"), m.end("rval"), low=low, high=high, measure=measure)
        return max(stop, m.end())

    def _md(self, m: re.Match) -> int:
        unit_txt = (m.group("mdunit") or "").strip()
        kind = QuantityKind.absolute_change if m.group("adname") else QuantityKind.mean_difference
        unit = ""
        j = m.end("mdval")
        if unit_txt:
            low = unit_txt.lower()
            if unit_txt == "%" or low.startswith("percentage"):
                unit = "%"
            elif low in _TIME_UNITS:
                unit = _TIME_UNITS[low]
            j = m.end("mdunit")
        low_, high_, stop = _ci(self.text, j, self.end)
        self.add(kind, abs(_num(m.group("mdval"))), m.start("mdval"), j, unit=unit, low=low_, high=high_)
        return max(stop, m.end())

    def _pval(self, m: re.Match) -> int:
        value = _num(m.group("pnum"))
        if m.group("pexp"):
            value *= 10 ** int(m.group("pexp").replace("−", "-").replace("–", "-"))
        if value <= 1:
            self.add(QuantityKind.p_value, value, m.start("pval"), m.end(), op=_CMP_OPS.get(m.group("pop"), "="))
        return m.end()

    def _nsize(self, m: re.Match) -> int:
        self.add(QuantityKind.sample_size, _num(m.group("nval")), m.start("nsize"), m.end())
        return m.end()

    def _money(self, m: re.Match) -> int:
        text = self.text
        cur = m.group("cur")
        i_cur = m.start("cur")
        raw = m.group("mnum")
        value = _num(raw)
        scale = (m.group("mscale") or "").strip().lower()
        is_symbol = not cur[0].isalpha() or "$" in cur
        # traps: a "≤"/"≥" glyph extracted as a currency symbol
        if cur in "£$€¥₹₩" and i_cur > 0 and text[i_cur - 1].isalnum():
            return m.end()  # "pH$7.30"
        if m.group("msp") and is_symbol and not scale and "," not in raw and value < 100:
            return m.end()  # "CGI-I £ 2"
        if _NONMONEY_AFTER.match(text, m.end(), self.end):
            return m.end()  # "$28 kg/m2", "$18 years", "$6.5%"
        op, i = self.comparator(i_cur)
        if op is None and _MEASUREMENT_BEFORE.search(self.before(i_cur, 40)):
            return m.end()  # "CGI-I score £2"
        code = _CURRENCY_SYMBOLS.get(cur.replace(" ", "")) or cur.upper()
        factor = _SCALES[scale] if scale else 1.0
        per = _per_after(text, m.end(), self.end)
        if m.group("mnum2"):  # "£20,000–£30,000 per QALY", "£2–3 million": two amounts sharing scale and denominator
            self.add(QuantityKind.currency, value * factor, i, m.end("mnum"), unit=code, op=op, per=per)
            second = _num(m.group("mnum2").lstrip("£€$"))
            self.add(QuantityKind.currency, second * factor, m.start("mnum2"), m.end(), unit=code, per=per)
            return m.end()
        self.add(QuantityKind.currency, value * factor, i, m.end(), unit=code, op=op, per=per)
        return m.end()

    def _cilabel(self, m: re.Match) -> int:
        # "... 0.82 95% CI 0.71 to 0.94": attach the interval to a bare estimate just before it, else drop
        i = m.start("cilabel")
        low, high, stop = _ci(self.text, i, self.end)
        if low is not None and self.found:
            last = self.found[-1]
            if last.low is None and last.bare and _GAP_BEFORE_CI.fullmatch(self.text, last.j, i):
                last.low, last.high, last.kind, last.bare = low, high, QuantityKind.ci, False
        return max(stop, m.end())

    def _frac(self, m: re.Match) -> int:
        a, b = _num(m.group("fa")), _num(m.group("fb"))
        if a <= b and b > 0 and not _is_label(self.before(m.start("frac"), 32)):  # not "phase 1/2"
            self.add(QuantityKind.count, a, m.start("fa"), m.end("fa"), per=m.group("fb"))
            self.add(QuantityKind.sample_size, b, m.start("fb"), m.end("fb"))
        return m.end()

    def _xof(self, m: re.Match) -> int:
        xa, xb = m.group("xa"), m.group("xb")
        a, b = _num(xa), _num(xb)
        i = m.start("xa")
        if _DECIMAL.search(xa) or a > b:
            return m.end()
        before = self.before(i, 30)
        if _MEASUREMENT_BEFORE.search(before) or _SCALE_BEFORE.search(before):
            return m.end()  # "a score of 9 out of 10"
        self.add(QuantityKind.count, a, i, m.end("xa"), per=xb)
        j = _noun_end(self.text, m.end("xb"), self.end) or m.end("xb")
        self.add(QuantityKind.sample_size, b, m.start("xb"), j)
        return j

    def _tp(self, m: re.Match) -> int:
        i = m.start("tp")
        if _TP_EXCLUDED_BEFORE.search(self.before(i, 12)):
            return m.end("tpu")  # "twice a week 6 (2)": the number is not a timepoint
        self.add(QuantityKind.duration, float(m.group("tpn")), i, m.end(), unit=_TIME_UNITS[m.group("tpu").lower()])
        return m.end()

    def _fracw(self, m: re.Match) -> int:
        words = m.group("fracw").lower().split()
        value = _FRACTIONS[words[-1]] * (_WORD_VALUES[words[0]] if words[0] in ("two", "three") else 1.0)
        i = m.start("fracw")
        op, i_start = self.comparator(i)
        kind = QuantityKind.relative_change if _change_word(self.before(i_start)) else QuantityKind.percent
        self.add(kind, round(value, 1), i_start, m.end(), unit="%", op=op)
        return m.end()

    def _genw(self, m: re.Match) -> int:
        return self._number(m, word=m.group("genw"), i_num=m.start("genw"), j=m.end("genw"))

    def _gen(self, m: re.Match) -> int:
        return self._number(m, word=None, i_num=m.start("num"), j=m.end("gen"))

    def _number(self, m: re.Match, *, word: str | None, i_num: int, j: int) -> int:  # noqa: C901 - the many unit cases
        """A number or number word, its unit read after it and its context before it."""
        text, end = self.text, self.end
        raw = m.group("num") if word is None else None
        value = _num(raw) if raw else _word_value(word or "")
        is_int = raw is None or not _DECIMAL.search(raw)
        sign = m.group("sign") if raw else None
        num2 = m.group("num2") if raw else None
        i_val = m.start("sign") if sign else i_num
        j_num = m.end("num") if raw else j  # end of the first number of a range
        u = _UNIT.match(text, j, end)
        if u.group("gscale"):
            if num2:
                return u.end("gscale")
            value *= _SCALES[u.group("gscale").strip().lower()]
            j = u.end("gscale")
        jj = u.end()
        unit_group = u.lastgroup if u.lastgroup != "gscale" else None
        if unit_group in ("tuw", "tua"):
            unit_group = "tu"
        if unit_group == "skipu":
            return jj
        op, i_start = self.comparator(i_val) if unit_group or not num2 else (None, i_val)
        if op is None:
            i_start = i_val
        elif op == "<=" and text[i_start : i_start + 6].lower() == "within" and unit_group != "tu":
            op, i_start = None, i_val  # "within" bounds durations only ("within ±10%" is a tolerance)
        before = self.before(i_start)

        if unit_group == "cursuf":
            if num2:
                return jj
            cur = u.group("cursuf").strip()
            code = _CURRENCY_WORDS.get(cur.lower(), cur.upper())
            self.add(QuantityKind.currency, value, i_start, jj, unit=code, op=op, per=_per_after(text, jj, end))
            return jj

        if unit_group in ("pp", "pct"):
            if unit_group == "pp":
                kind = QuantityKind.absolute_change
            elif sign and sign in _SIGNS:
                kind = QuantityKind.relative_change
            elif ("bsolute" in before or "ifference" in before or "AR" in before or "RD" in before) and _ABSOLUTE_BEFORE.search(before):
                kind = QuantityKind.absolute_change
            elif ("elative" in before or "RRR" in before) and _RELATIVE_BEFORE.search(before):
                kind = QuantityKind.relative_change
            else:
                change = _change_word(before)
                is_share = change == "by" and _OF_AFTER.match(text, jj, end)  # "reported by 31.9% of patients"
                kind = QuantityKind.relative_change if change and not is_share else QuantityKind.percent
            comp = _COMPARATIVE_AFTER.match(text, jj, end)
            if comp:
                jj = comp.end()
                if kind is QuantityKind.percent:
                    kind = QuantityKind.relative_change
            if num2:  # a range "13% to 73%", "2–4%": two quantities, each as written
                self.add(kind, abs(value), i_start, m.end("rpct") if m.group("rpct") else m.end("num"), unit="%", op=op)
                self.add(kind, _num(num2), m.start("num2"), jj, unit="%")
                return jj
            f = self.add(kind, abs(value), i_start, jj, unit="%", op=op)
            low, high, stop = _ci(text, jj, end)
            if low is not None:
                f.low, f.high = low, high
                return stop
            return jj

        if unit_group == "tu":
            if u.group("tua") and not raw:
                return j  # "one h..." is not a duration
            unit = _TIME_UNITS[(u.group("tuw") or u.group("tua")).lower()]
            if op == ">" and text[i_start : i_start + 4].lower() == "over":
                op, i_start = None, i_val  # "over 7 years" is a period
            kind = QuantityKind.duration
            per = None
            comp = _COMPARATIVE_AFTER.match(text, jj, end)
            if comp:  # "6 minutes shorter", "a 2-day reduction"
                kind, jj = QuantityKind.absolute_change, comp.end()
            elif u.group("tcmp"):  # "1.4 fewer days", "20 more minutes"
                kind = QuantityKind.absolute_change
            elif (sign and sign in _SIGNS) or _is_by(before):
                kind = QuantityKind.absolute_change
            per_m = _PER_AFTER.match(text, jj, end)
            if per_m and (per_m.group("per") or per_m.group("per3")):
                per_g = "per" if per_m.group("per") else "per3"
                per = per_m.group(per_g).strip()
                if _TIME_DENOMINATOR.match(per):
                    # "0.6 days per 2 weeks": a frequency, not a duration
                    unit = ""
                    if kind is QuantityKind.duration:
                        kind = QuantityKind.rate
                    jj = per_m.end(per_g)
            if num2:
                self.add(kind, abs(value), i_start, m.end("num"), unit=unit, op=op, per=per)
                self.add(kind, _num(num2), m.start("num2"), jj, unit=unit, per=per)
                return jj
            f = self.add(kind, abs(value), i_start, jj, unit=unit, op=op, per=per, signed=bool(sign))
            if kind is not QuantityKind.duration:
                low, high, stop = _ci(text, jj, end)
                if low is not None:
                    f.low, f.high = low, high
                    return stop
            return jj

        if unit_group == "times":
            if num2:
                return jj
            per_m = _TIMES_PER.match(text, jj, min(end, jj + 30))
            if per_m:  # "three times a week" is a frequency
                per = per_m.group("p") or {"daily": "day", "weekly": "week", "monthly": "month"}.get(per_m.group("d") or "", "year")
                self.add(QuantityKind.rate, value, i_start, jj, op=op, per=per)
            else:
                self.add(QuantityKind.ratio, value, i_start, jj, op=op)
            return jj

        if unit_group == "pts":  # only differences in points: "1.7 points lower", "by 3 points"
            comp = _COMPARATIVE_AFTER.match(text, jj, end)
            if comp and comp.group("w") in _ADJ_COMPARATIVES:
                self.add(QuantityKind.mean_difference, abs(value), i_start, jj, op=op)
                return comp.end()
            if _is_by(before) or (sign and sign in _SIGNS):
                self.add(QuantityKind.mean_difference, abs(value), i_start, jj, op=op)
            return jj

        # --- no unit: years, labels, counts, rates, bare numbers ------------------------------------
        if raw and is_int and not sign and 1900 <= value <= 2099 and "," not in raw:
            nj = _noun_end(text, j, end)
            if not nj or text[j:nj].split()[-1].lower() not in _YEAR_NOUNS:
                return j  # a year (or a year range)
        if _per_before(before):
            # the denominator of a rate label ("per 1,000 bed days"): part of a "per", not a count
            return _noun_end(text, j_num, end) or j_num
        if num2:
            # a range with no unit ("from 41 to 22", "898-906"): the first number is kept bare (it may
            # take its unit from context later); scanning resumes at the second one
            if not _is_label(before):
                self.add(QuantityKind.count, abs(value), i_start, j_num, op=op, bare=True, decimal=not is_int)
                return m.start("num2")
            return j
        if word and (_THE_BEFORE.search(before) or (word.lower() == "one" and _ONE_EXCLUDED_BEFORE.search(before))):
            return j
        if _is_label(before):
            return _noun_end(text, j, end) or j
        # rate: "3.1 per 1,000 catheter days", "2 per bed per year", "0.18 follow-up appointments per patient tested"
        noun_j = _noun_end(text, j, end)
        look = noun_j or j
        per_m = _PER_AFTER.match(text, look, end)
        per_g = None
        if per_m:
            if per_m.group("per") and _PER_LEADS_WITH_PER.match(text, look, per_m.start("per")):
                per_g = "per"
            elif per_m.group("per3"):
                per_g = "per3"
        if per_g:
            per = per_m.group(per_g).strip()
            if noun_j and is_int and not _DIGIT_START.match(per):
                kind, jj = QuantityKind.count, noun_j  # "180 stents per catheter laboratory"
            else:
                kind, jj = QuantityKind.rate, per_m.end(per_g)
            if _is_by(before):
                kind = QuantityKind.absolute_change
            self.add(kind, abs(value), i_start, jj, op=op, per=per)
            return jj
        if noun_j:
            phrase = text[j:noun_j]
            if phrase.split()[-1].lower() in _NOT_COUNT_NOUNS:
                return noun_j
            if not is_int and not u.group("gscale") and not _is_by(before):
                return noun_j  # "7.4 tonnes"-like decimals with an unknown unit
            if word and _OF_IN_AFTER.match(phrase):
                return j
            if _is_by(before) or sign:
                kind = QuantityKind.absolute_change
            elif _SAMPLE_BEFORE.search(before[-40:]):
                kind = QuantityKind.sample_size
            else:
                kind = QuantityKind.count
            per_m = _PER_AFTER.match(text, noun_j, end)
            per = (per_m.group("per2") or "year") if per_m and (per_m.group("per2") or per_m.group("annual")) else None
            self.add(kind, abs(value), i_start, noun_j, op=op, per=per)
            return noun_j
        if word:
            return j
        # a bare number: kept later only with context (a "per" label before it, a run of cells, a range)
        low, high, stop = _ci(text, j, end)
        if low is not None and not is_int:
            self.add(QuantityKind.ci, abs(value), i_start, j, op=op, low=low, high=high)
            return stop
        self.add(QuantityKind.count, abs(value), i_start, j, op=op, bare=True, signed=bool(sign), decimal=not is_int)
        return j


def _resolve_bare(scanner: _Scanner) -> list[_Found]:
    """Keep the bare numbers that have context, give them their kind, and drop the rest."""
    text, found = scanner.text, scanner.found
    found.sort(key=lambda f: f.i)
    keep: list[_Found] = []
    n = len(found)
    for k, f in enumerate(found):
        if not f.bare:
            keep.append(f)
            continue
        # 1. "Falls from bed per 1,000 bed days 2.9 ..." / "Re-sites per 100 patients fell from 41 to 22"
        window = scanner.before(f.i, 80)
        pm = _PER_LABEL_BEFORE.search(window) if "per" in window else None
        if pm:
            f.kind, f.per, f.bare = QuantityKind.rate, pm.group("per").strip(), False
        # 2. "from 0.9 to 0.3 per 1,000 catheter days": the unit of the quantity it is paired with
        nxt = found[k + 1] if k + 1 < n else None
        if f.bare and nxt is not None and not nxt.bare and _BRIDGE.fullmatch(text, f.j, nxt.i):
            if nxt.kind not in (QuantityKind.p_value, QuantityKind.sample_size, QuantityKind.ratio, QuantityKind.ci):
                f.kind, f.unit, f.per, f.bare = nxt.kind, nxt.unit, nxt.per, False
        # 3. "from 41 to 22": the second number takes the kind of the first once that one is known
        if f.bare and keep:
            prev = keep[-1]
            if prev.kind in (QuantityKind.rate, QuantityKind.count) and _BRIDGE.fullmatch(text, prev.j, f.i):
                f.kind, f.unit, f.per, f.bare = prev.kind, prev.unit, prev.per, False
        # 4. a run of table cells: "Manual handling injuries to staff 7 2 −5"
        if f.bare:
            prv = found[k - 1] if k else None
            after_prev = prv is not None and _RUN_GAP.fullmatch(text, prv.j, f.i) is not None
            before_next = nxt is not None and _RUN_GAP.fullmatch(text, f.j, nxt.i) is not None
            if after_prev or before_next:
                if after_prev and prv is not None and not prv.bare and prv.kind is QuantityKind.rate:
                    f.kind, f.per = QuantityKind.rate, prv.per
                elif f.signed:
                    f.kind = QuantityKind.absolute_change
                elif f.decimal:
                    continue  # a decimal cell with no unit and no label: unknown
                f.bare = False
        if not f.bare:
            keep.append(f)
    return keep


def _price_years(scanner: _Scanner, found: list[_Found]) -> None:
    """Give each amount of money the price year stated in its sentence ("2023/24 prices")."""
    text, start, end = scanner.text, scanner.start, scanner.end
    cache: dict[tuple[int, int], str | None] = {}
    for f in found:
        if f.kind is not QuantityKind.currency:
            continue
        lo = max(start, f.i - 600)
        s_start = lo
        for m in _SENTENCE_END.finditer(text, lo, f.i):
            s_start = m.end()
        m = _SENTENCE_END.search(text, f.j, min(end, f.j + 600))
        s_end = m.end() if m else min(end, f.j + 600)
        key = (s_start, s_end)
        if key not in cache:
            y = _PRICE_YEAR.search(text, s_start, s_end)
            cache[key] = _norm_year(y.group("y") or y.group("y2")) if y else None
        f.price_year = cache[key]


def extract_quantities(text: str, *, start: int = 0, end: int | None = None, offset: int = 0) -> list[Quantity]:
    """Find and normalise every quantity in ``text[start:end]``.

    Recognises percentages, relative and absolute changes, ratios (RR/OR/HR/IRR) with their
    confidence intervals, mean differences, p-values, money (currency, price year, denominator),
    counts and sample sizes, durations and rates. Values are magnitudes: the direction of an effect
    belongs to the claim. See the module comments for the conventions.

    Args:
        text: The text to scan, typically ``Document.text``.
        start: Index in ``text`` where scanning starts.
        end: Index in ``text`` where scanning stops (exclusive); the end of ``text`` by default.
        offset: Added to every span, for when ``text`` is itself a slice of a larger text.

    Returns:
        The quantities in reading order; each has ``text[i:j] == quantity.text`` with
        ``quantity.span == Span(start=offset + i, end=offset + j)``.
    """
    end = len(text) if end is None else min(end, len(text))
    start = max(0, start)
    if start >= end:
        return []
    scanner = _Scanner(text, start, end)
    scanner.run()
    found = _resolve_bare(scanner)
    _price_years(scanner, found)
    return [
        Quantity(
            kind=f.kind,
            value=f.value,
            low=f.low,
            high=f.high,
            unit=f.unit,
            measure=f.measure,
            comparator_op=f.op,
            price_year=f.price_year,
            per=f.per,
            text=text[f.i : f.j],
            span=Span(start=offset + f.i, end=offset + f.j),
        )
        for f in found
    ]
