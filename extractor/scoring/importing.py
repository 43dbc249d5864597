"""A tender's own questions and weights, imported from JSON, CSV or XLSX, every row checked.

Columns (CSV and XLSX headers, JSON keys; case, spaces and a "(%)" suffix do not matter):

- required: ``id``, ``domain`` (social value, efficiency, patient and staff, supply chain, purpose, whole-life cost),
  ``wording``, ``weight`` (percentage points: ``12.5``, ``"12.5%"``, or an Excel cell formatted as a percentage);
- optional: ``theme``, ``guidance``, ``categories`` and ``claim_domains`` (lists: a JSON list, or names separated by
  ``;``, ``,`` or ``|``; ``none`` for none), ``keywords`` (likewise), ``method`` (``quality`` or ``cost``), ``rwe_required`` (yes/no),
  ``cost_components`` (purchase, implementation, operation, disposal).

Blank optional cells take defaults: the claim categories whose VBP domain is the question's
(``extractor.domains.CATEGORY_DOMAIN``), the question's own domain as its claim domain, and the method ``cost`` for a
whole-life cost question (scored by the formula from stated costs), ``quality`` for the rest. An unknown column is
refused rather than ignored, so a misspelt header cannot silently drop a field. Weights are not checked against the
national rules here: a tender selects and edits first, and the rules apply when the scheme is saved
(:func:`extractor.scoring.weights.validate_scheme`). Macros in an ``.xlsm`` file are never run.
"""

from __future__ import annotations

import csv
import io
import json
import math
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from extractor.domains import CATEGORY_DOMAIN
from extractor.schema import ClaimCategory, VBPDomain
from extractor.scoring.errors import ImportProblem, QuestionImportError, first_error
from extractor.scoring.models import COST_COMPONENTS, Question, Scheme, ScoringMethod

REQUIRED_COLUMNS: tuple[str, ...] = ("id", "domain", "wording", "weight")
OPTIONAL_COLUMNS: tuple[str, ...] = (
    "theme", "guidance", "categories", "claim_domains", "keywords", "method", "rwe_required", "cost_components",
)
#: At most this many questions in one file (the national bank has 21).
MAX_QUESTIONS = 500
_MAX_COLUMNS = 60
_ALIASES = {
    "question_id": "id", "ref": "id", "reference": "id", "question": "wording", "question_text": "wording", "text": "wording",
    "weighting": "weight", "value_domain": "domain", "claim_categories": "categories", "category": "categories",
    "real_world_evidence_required": "rwe_required", "rwe": "rwe_required",
}
_DOMAIN_ALIASES = {
    "wlc": VBPDomain.whole_life_cost, "whole_life_costs": VBPDomain.whole_life_cost, "cost": VBPDomain.whole_life_cost,
    "patients_and_staff": VBPDomain.patient_and_staff, "patient_staff": VBPDomain.patient_and_staff,
    "patient_and_staff_experience": VBPDomain.patient_and_staff, "social": VBPDomain.social_value,
    "supply": VBPDomain.supply_chain,
}
_CATEGORY_ALIASES = {"resource": ClaimCategory.resource_use, "environment": ClaimCategory.environmental, "outcomes": ClaimCategory.outcome}
_METHOD_ALIASES = {"scale": ScoringMethod.quality, "score": ScoringMethod.quality, "formula": ScoringMethod.cost}
_TRUE = {"yes", "y", "true", "1", "x"}
_FALSE = {"no", "n", "false", "0", ""}
_NONE = {"none", "-"}
_JSON_TOP_KEYS = {"name", "questions", "title", "version", "template", "notice", "sources"}


@dataclass(frozen=True, slots=True)
class _Cell:
    value: Any
    where: str  # "row 4, column 'weight'"
    percent: bool = False  # an Excel cell formatted as a percentage (0.12 shows as 12%)


@dataclass(frozen=True, slots=True)
class _Row:
    where: str  # "row 4"
    cells: dict[str, _Cell]


def _norm_header(raw: Any) -> str:
    text = str(raw if raw is not None else "").lower().replace("(%)", "").replace("%", "")
    key = re.sub(r"[^a-z0-9]+", "_", text).strip("_")
    return _ALIASES.get(key, key)


def _norm_value(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_")


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


class _Problems:
    def __init__(self) -> None:
        self.items: list[ImportProblem] = []

    def add(self, where: str, problem: str, fix: str) -> None:
        self.items.append(ImportProblem(where, problem, fix))


# ---- readers: bytes -> header problems or rows --------------------------------------------------------------


def _check_header(headers: list[tuple[str, str]], problems: _Problems, what: str) -> dict[str, str]:
    """``headers`` are (normalised name, where); returns the known columns by name. Adds a problem per bad header."""
    known = set(REQUIRED_COLUMNS) | set(OPTIONAL_COLUMNS)
    seen: dict[str, str] = {}
    for name, where in headers:
        if not name:
            continue
        if name not in known:
            problems.add(where, f"unknown {what} {name!r}.",
                         f"Rename it to one of: {', '.join((*REQUIRED_COLUMNS, *OPTIONAL_COLUMNS))}, or delete it.")
        elif name in seen:
            problems.add(where, f"the {what} {name!r} appears twice (first at {seen[name]}).", "Keep one of them.")
        else:
            seen[name] = where
    missing = [c for c in REQUIRED_COLUMNS if c not in seen]
    if missing:
        problems.add("header", f"missing required {what}{'s' if len(missing) > 1 else ''}: {', '.join(missing)}.",
                     f"Add {'them' if len(missing) > 1 else 'it'}: every question needs {', '.join(REQUIRED_COLUMNS)}.")
    return seen


def _csv_rows(data: bytes, problems: _Problems) -> Iterator[_Row]:
    text = None
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            text = data.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    if text is None:
        problems.add("file", "the file is not text in UTF-8 or Windows-1252.", "Save it as CSV UTF-8 from the spreadsheet.")
        return
    first = text.split("\n", 1)[0]
    delimiter = max((",", ";", "\t"), key=first.count) if first.strip() else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    header = next(reader, None)
    if header is None or not any(h.strip() for h in header):
        problems.add("row 1", "the header row is empty.", f"Put the column names in row 1: {', '.join(REQUIRED_COLUMNS)}, ….")
        return
    names = [_norm_header(h) for h in header]
    _check_header([(n, f"row 1, column {i + 1} ({h.strip()!r})") for i, (n, h) in enumerate(zip(names, header))], problems, "column")
    if problems.items:
        return
    for number, values in enumerate(reader, start=2):
        cells = {n: _Cell(v, f"row {number}, column {n!r}") for n, v in zip(names, values) if n}
        extra = values[len(names):]
        if any(v.strip() for v in extra):
            problems.add(f"row {number}", f"the row has {len(values)} cells, the header {len(names)}.",
                         "Remove the extra cells or quote a value that contains the separator.")
        yield _Row(f"row {number}", cells)


def _xlsx_rows(data: bytes, problems: _Problems) -> Iterator[_Row]:
    import zipfile

    from openpyxl import load_workbook
    from openpyxl.utils import get_column_letter
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        wb = load_workbook(io.BytesIO(data), read_only=True, data_only=True, keep_vba=False)
    except (zipfile.BadZipFile, InvalidFileException, KeyError, OSError, ValueError) as e:
        problems.add("file", f"the workbook cannot be opened ({e}).", "Save it again from Excel as .xlsx, or export it as CSV.")
        return
    try:
        sheet = next((ws for ws in wb.worksheets if ws.title.strip().casefold() == "questions"), wb.worksheets[0])
        rows = sheet.iter_rows(min_row=1, max_col=_MAX_COLUMNS)
        header_cells = next(rows, None)
        tag = f"sheet {sheet.title!r}"
        if header_cells is None or all(_blank(c.value) for c in header_cells):
            problems.add(f"{tag}, row 1", "the header row is empty.", f"Put the column names in row 1: {', '.join(REQUIRED_COLUMNS)}, ….")
            return
        names = [_norm_header(c.value) for c in header_cells]
        letters = [get_column_letter(i + 1) for i in range(len(names))]
        _check_header([(n, f"{tag}, cell {letters[i]}1 ({_text(c.value)!r})") for i, (n, c) in enumerate(zip(names, header_cells))],
                      problems, "column")
        if problems.items:
            return
        for number, row in enumerate(rows, start=2):
            cells = {}
            for i, (n, c) in enumerate(zip(names, row)):
                if n:
                    fmt = getattr(c, "number_format", "") or ""
                    cells[n] = _Cell(c.value, f"{tag}, cell {letters[i]}{number} (column {n!r})", percent="%" in fmt)
            yield _Row(f"{tag}, row {number}", cells)
    finally:
        wb.close()


def _json_rows(data: bytes, problems: _Problems) -> tuple[Iterator[_Row], str | None]:
    try:
        doc = json.loads(data.decode("utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        problems.add("file", f"the file is not valid JSON ({e}).", "Check it with a JSON validator and save it as UTF-8.")
        return iter(()), None
    name = None
    if isinstance(doc, dict):
        extra = sorted(set(doc) - _JSON_TOP_KEYS)
        if extra or "questions" not in doc:
            problems.add("top level", f"expected a list of questions or an object with \"questions\"; found keys {sorted(doc)}.",
                         "Put the questions in a list under \"questions\" (a \"name\" beside it is allowed).")
            return iter(()), None
        name = doc.get("name") if isinstance(doc.get("name"), str) else None
        doc = doc["questions"]
    if not isinstance(doc, list):
        problems.add("top level", f"expected a list of questions; found {type(doc).__name__}.", "Write the questions as a JSON list of objects.")
        return iter(()), None

    def rows() -> Iterator[_Row]:
        for number, item in enumerate(doc, start=1):
            where = f"question {number}"
            if not isinstance(item, dict):
                problems.add(where, f"expected an object; found {type(item).__name__}.", "Write each question as {\"id\": …, \"domain\": …}.")
                continue
            keyed = [(_norm_header(k), f"{where}, key {k!r}") for k in item]
            before = len(problems.items)
            _check_header(keyed, problems, "key")
            if len(problems.items) > before:
                continue
            yield _Row(where, {_norm_header(k): _Cell(v, f"{where}, field {_norm_header(k)!r}") for k, v in item.items()})

    return rows(), name


# ---- one row -> one Question ----------------------------------------------------------------------------------


def _list(cell: _Cell) -> list[str]:
    if isinstance(cell.value, list):
        return [_text(v) for v in cell.value if not _blank(v)]
    if _text(cell.value).lower() in _NONE:
        return []
    return [p.strip() for p in re.split(r"[;,|\n]", _text(cell.value)) if p.strip()]


def _given(cell: _Cell | None) -> bool:
    """A list the file states (a JSON list, even empty, or "none"), as opposed to a blank cell that takes the default."""
    return cell is not None and (isinstance(cell.value, list) or not _blank(cell.value))


def _enum_list(cell: _Cell, problems: _Problems, parse, valid: list[str], what: str) -> list | None:
    out, bad = [], []
    for item in _list(cell):
        value = parse(item)
        (bad.append(item) if value is None else out.append(value))
    if bad:
        problems.add(cell.where, f"unknown {what} {', '.join(repr(b) for b in bad)}.", f"Use some of: {', '.join(valid)}.")
        return None
    return out


def _domain(text: str) -> VBPDomain | None:
    key = _norm_value(text)
    return VBPDomain.__members__.get(key) or _DOMAIN_ALIASES.get(key)


def _category(text: str) -> ClaimCategory | None:
    key = _norm_value(text)
    return ClaimCategory.__members__.get(key) or _CATEGORY_ALIASES.get(key)


def _weight(cell: _Cell, problems: _Problems) -> float | None:
    value = cell.value
    fix = "Write the weight in percentage points of the whole evaluation, above 0 and at most 100, e.g. 12.5 or 12.5%."
    if isinstance(value, bool) or _blank(value):
        problems.add(cell.where, "the weight is blank." if _blank(value) else f"{value!r} is not a weight.", fix)
        return None
    if isinstance(value, (int, float)):
        number = float(value) * (100 if cell.percent else 1)
    else:
        text = str(value).strip()
        try:
            number = float(text.removesuffix("%").strip().replace(",", "."))
        except ValueError:
            problems.add(cell.where, f"{text!r} is not a number.", fix)
            return None
    if not math.isfinite(number) or number <= 0 or number > 100:
        problems.add(cell.where, f"the weight {number:g} is not above 0 and at most 100.", fix)
        return None
    return round(number, 6)


def _bool(cell: _Cell, problems: _Problems) -> bool | None:
    if isinstance(cell.value, bool):
        return cell.value
    text = _text(cell.value).lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    problems.add(cell.where, f"{_text(cell.value)!r} is not yes or no.", "Write yes or no (or leave it blank for no).")
    return None


def _question(row: _Row, problems: _Problems) -> Question | None:
    before = len(problems.items)
    cells = row.cells
    fields: dict[str, Any] = {}
    for col in ("id", "wording"):
        cell = cells.get(col)
        if cell is None or _blank(cell.value):
            problems.add(cell.where if cell else f"{row.where}, column {col!r}", f"the {col} is blank.",
                         "Every question needs an id (e.g. EF1) and its wording.")
        else:
            fields[col] = _text(cell.value)
    domain_cell = cells.get("domain")
    domain = _domain(_text(domain_cell.value)) if domain_cell else None
    if domain is None:
        shown = _text(domain_cell.value) if domain_cell else ""
        problems.add(domain_cell.where if domain_cell else f"{row.where}, column 'domain'",
                     f"unknown domain {shown!r}." if shown else "the domain is blank.",
                     "Use one of: social value, efficiency, patient and staff, supply chain, purpose, whole-life cost.")
    else:
        fields["domain"] = domain
    weight = _weight(cells["weight"], problems) if "weight" in cells else None
    if "weight" not in cells:
        problems.add(f"{row.where}, column 'weight'", "the weight is blank.", "Give every question a weight in percentage points.")
    if weight is not None:
        fields["weight"] = weight
    for col in ("theme", "guidance"):
        if col in cells:
            fields[col] = _text(cells[col].value)
    if "keywords" in cells:
        fields["keywords"] = _list(cells["keywords"])
    if _given(cells.get("categories")):
        cats = _enum_list(cells["categories"], problems, _category, list(ClaimCategory.__members__), "claim category")
        if cats is not None:
            fields["categories"] = cats
    elif domain is not None:
        fields["categories"] = [c for c, d in CATEGORY_DOMAIN.items() if d is domain]
    if _given(cells.get("claim_domains")):
        doms = _enum_list(cells["claim_domains"], problems, _domain, list(VBPDomain.__members__), "claim domain")
        if doms is not None:
            fields["claim_domains"] = doms
    method_text = _text(cells["method"].value) if "method" in cells else ""
    if method_text:
        key = _norm_value(method_text)
        method = ScoringMethod.__members__.get(key) or _METHOD_ALIASES.get(key)
        if method is None:
            problems.add(cells["method"].where, f"unknown method {method_text!r}.",
                         "Use quality (scored on the scale) or cost (whole-life cost formula), or leave it blank.")
        else:
            fields["method"] = method
    elif domain is not None:
        fields["method"] = ScoringMethod.cost if domain is VBPDomain.whole_life_cost else ScoringMethod.quality
    if "rwe_required" in cells:
        flag = _bool(cells["rwe_required"], problems)
        if flag is not None:
            fields["rwe_required"] = flag
    if "cost_components" in cells and _list(cells["cost_components"]):
        comps = [_norm_value(c) for c in _list(cells["cost_components"])]
        bad = [c for c in comps if c not in COST_COMPONENTS]
        if bad:
            problems.add(cells["cost_components"].where, f"unknown cost component {', '.join(repr(b) for b in bad)}.",
                         f"Use some of: {', '.join(COST_COMPONENTS)}.")
        else:
            fields["cost_components"] = comps
    if len(problems.items) > before:
        return None
    try:
        return Question(**fields)
    except ValidationError as e:
        loc = str(e.errors()[0].get("loc", ("",))[0]) if e.errors()[0].get("loc") else ""
        where = cells[loc].where if loc in cells else row.where
        problems.add(where, f"{first_error(e)}.", "Correct the value and import the file again.")
        return None


# ---- entry points ---------------------------------------------------------------------------------------------


def read_questions(data: bytes, filename: str, *, name: str | None = None) -> Scheme:
    """A scheme from a tender's own question list, given as the bytes of a JSON, CSV or XLSX file.

    Args:
        data: The file's bytes.
        filename: Its name: the suffix picks the reader (.json, .csv, .xlsx or .xlsm) and it is named in every error.
        name: The scheme's name (default: a JSON file's "name", else the file name without its suffix).

    Returns:
        The scheme, its ``source`` "import:<filename>", its questions in file order. Not yet checked against the
        national weighting rules (see :func:`extractor.scoring.weights.validate_scheme`).

    Raises:
        QuestionImportError: the file cannot be read, or one or more rows are invalid; ``problems`` names each place
            (row and column, or sheet and cell), the problem with its value, and what to do.
    """
    problems = _Problems()
    suffix = Path(filename).suffix.lower()
    json_name = None
    if suffix == ".json":
        rows, json_name = _json_rows(data, problems)
    elif suffix == ".csv":
        rows = _csv_rows(data, problems)
    elif suffix in (".xlsx", ".xlsm"):
        rows = _xlsx_rows(data, problems)
    else:
        fix = "Save it as .xlsx (Excel 2007 or later)." if suffix == ".xls" else "Give the questions as JSON, CSV or XLSX."
        raise QuestionImportError(filename, [ImportProblem("file", f"unsupported file type {suffix or '(none)'!r}.", fix)])
    questions: list[Question] = []
    first_row: dict[str, str] = {}
    count = 0
    for row in rows:
        if all(_blank(c.value) for c in row.cells.values()):
            continue
        count += 1
        if count > MAX_QUESTIONS:
            problems.add(row.where, f"more than {MAX_QUESTIONS} questions.", "Split the list, or keep only the questions that apply.")
            break
        question = _question(row, problems)
        if question is None:
            continue
        key = question.id.casefold()
        if key in first_row:
            problems.add(row.cells["id"].where, f"the id {question.id!r} is already used in {first_row[key]}.", "Give each question its own id.")
            continue
        first_row[key] = row.where
        questions.append(question)
    if not problems.items and not questions:
        problems.add("file", "no questions found.", f"Give one question per row under a header row: {', '.join(REQUIRED_COLUMNS)}, ….")
    if problems.items:
        raise QuestionImportError(filename, problems.items)
    return Scheme(name=name or json_name or Path(filename).stem, source=f"import:{Path(filename).name}", questions=questions)


def import_questions(path: str | Path, *, name: str | None = None) -> Scheme:
    """A scheme from a tender's own question list in a JSON, CSV or XLSX file (see :func:`read_questions`).

    Raises:
        QuestionImportError: the file cannot be read, or a row is invalid (every problem is named).
    """
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as e:
        raise QuestionImportError(path.name, [ImportProblem("file", f"cannot be read ({e.strerror or e}).", "Check the path.")]) from e
    return read_questions(data, path.name, name=name)
