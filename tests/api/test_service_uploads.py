"""Uploads: every kind of bad upload gets a 4xx that says what to do, and leaves nothing behind; failures inside a
background job mark the job failed with its reason and keep what was already stored."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from api.store.models import DocumentRow, JobRow
from tests.api.service_kit import PAPER, SUBMISSION, World


def _pdf(*, text: str | None = None, password: str | None = None) -> bytes:
    """A one-page PDF: with a line of text, or blank (no text layer, like a scan); encrypted when a password is given."""
    from pypdf import PdfWriter

    writer = PdfWriter()
    if text is None:
        writer.add_blank_page(width=595, height=842)
    else:
        from reportlab.pdfgen import canvas

        buf = io.BytesIO()
        c = canvas.Canvas(buf)
        c.drawString(72, 720, text)
        c.save()
        from pypdf import PdfReader

        writer.append(PdfReader(io.BytesIO(buf.getvalue())))
    if password:
        writer.encrypt(password, algorithm="AES-256")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


BAD = [
    ("image.pdf", b"\x89PNG\r\n\x1a\n" + b"\x00" * 200, 415, "unsupported_type", "PNG image"),
    ("page.pdf", b"<!DOCTYPE html><html><body>Please sign in</body></html>", 415, "unsupported_type", "HTML page"),
    ("bid.docx", b"PK\x03\x04" + b"\x00" * 300, 422, "damaged_file", "ZIP container is damaged"),
    ("bid.doc", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + "WordDocument".encode("utf-16-le") + b"\x00" * 300, 415, "unsupported_type",
     "Word 97-2003"),
    ("locked.xlsx", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + "EncryptionInfo".encode("utf-16-le") + b"\x00" * 300, 422,
     "password_required", "password-protected"),
    ("paper.pdf", b"version https://git-lfs.github.com/spec/v1\noid sha256:abc\nsize 123\n", 415, "unsupported_type", "Git LFS pointer"),
    ("notes.txt", b"\x00\x01\x02binary\xff\xfe", 415, "unsupported_type", "not a PDF"),
    ("bid.rtf", b"{\\rtf1 hello}", 415, "unsupported_type", "RTF"),
    ("empty.pdf", b"", 422, "empty_file", "empty (0 bytes)"),
    ("cut.pdf", b"%PDF-1.7\n1 0 obj\n<< /Type /Catalog", 422, "damaged_pdf", "damaged"),
]


@pytest.mark.parametrize(("name", "data", "status", "code", "says"), BAD, ids=[b[0] for b in BAD])
def test_service_uploads_bad_files_are_refused(service: World, name: str, data: bytes, status: int, code: str, says: str) -> None:
    service.standard_tender()
    r = service.upload("eva", name, data, role="submission", supplier="acme")
    assert r.status_code == status, r.text
    error = r.json()["error"]
    assert error["code"] == code and says in error["message"] and error["hint"]
    _assert_nothing_left(service)


@pytest.mark.parametrize(("make", "password", "code", "says", "hint"), [
    (lambda: _pdf(text="Costs fell by 20%.", password="s3cret"), None, "password_required", "needs a password", "password"),
    (lambda: _pdf(text="Costs fell by 20%.", password="s3cret"), "wrong", "wrong_password", "does not open", "password"),
    (lambda: _pdf(), None, "empty_file", "nothing drawn (no image to OCR)", "right file"),
], ids=["encrypted", "wrong-password", "blank"])
def test_service_uploads_encrypted_and_scanned_pdfs_are_refused(service: World, make, password, code: str, says: str, hint: str) -> None:
    service.standard_tender()
    r = service.upload("eva", "bid.pdf", make(), role="submission", supplier="acme", password=password)
    assert r.status_code == 422, r.text
    error = r.json()["error"]
    assert error["code"] == code and says in error["message"] and hint in error["hint"]
    assert error["message"].startswith("bid.pdf: ")  # the upload's name, never the server's temp file
    _assert_nothing_left(service)


def test_service_uploads_an_encrypted_pdf_with_its_password_is_ingested(service: World) -> None:
    service.standard_tender()
    r = service.upload("eva", "locked.pdf", _pdf(text="The dressing cut infection by 20%.", password="s3cret"), role="submission",
                       supplier="acme", password="s3cret")
    assert r.status_code == 202, r.text
    with service.services.store.session() as s:
        assert b"s3cret" not in repr(s.get(JobRow, r.json()["id"]).__dict__).encode()
    raw = b"".join(p.read_bytes() for p in service.data_dir.glob("vbp.sqlite3*"))
    assert b"s3cret" not in raw  # the password is never written down
    service.drain()
    job = service.get("eva", f"/jobs/{r.json()['id']}").json()
    assert job["status"] == "done", job


def test_service_uploads_too_large_is_stopped_while_streaming(tmp_path: Path) -> None:
    from extractor.settings import ParsingSettings

    world = World(tmp_path, parsing=ParsingSettings(max_file_mb=0.05))  # 50 KiB
    try:
        world.standard_tender()
        streamed = world.upload("eva", "big.pdf", b"%PDF-1.7\n" + b"0" * 80_000, role="submission", supplier="acme")
        assert streamed.status_code == 413 and streamed.json()["error"]["code"] == "payload_too_large"
        assert "upload was stopped" in streamed.json()["error"]["message"] and "VBP_PARSING__MAX_FILE_MB" in streamed.json()["error"]["hint"]
        declared = world.upload("eva", "huge.pdf", b"%PDF-1.7\n" + b"0" * 400_000, role="submission", supplier="acme")
        assert declared.status_code == 413 and "request body is 0.4 MiB" in declared.json()["error"]["message"]
        _assert_nothing_left(world)
        events = world.get("admin", "/audit?action=document.upload_rejected").json()["data"]
        assert [e["detail"].split(":")[0] for e in events] == ["payload_too_large", "payload_too_large"]
    finally:
        world.close()


@pytest.mark.parametrize(("kwargs", "says"), [
    ({"json": {"file": "x"}}, "multipart/form-data"),
    ({"files": {"document": ("a.md", b"text")}}, "unknown form field 'document'"),
    ({"data": {"password": "x"}, "files": {"other": ("a.md", b"")}}, "unknown form field"),
    ({"files": [("file", ("a.md", b"One.")), ("file", ("b.md", b"Two."))]}, "one file per upload"),
    ({"content": b"--xx\r\nbroken", "headers": {"content-type": "multipart/form-data; boundary=xx"}}, "has no part named 'file'"),
], ids=["json", "wrong-field", "no-file", "two-files", "truncated"])
def test_service_uploads_malformed_bodies(service: World, kwargs: dict, says: str) -> None:
    service.standard_tender()
    headers = {**service.h("eva"), **kwargs.pop("headers", {})}
    r = service.client.post(f"/tenders/{service.tender}/documents", params={"role": "submission", "supplier": "acme"}, headers=headers,
                            **kwargs)
    assert r.status_code == 422, r.text
    assert says in r.json()["error"]["message"]
    _assert_nothing_left(service)


@pytest.mark.parametrize(("who", "params", "status", "says"), [
    ("eva", {"role": "submission"}, 422, "`supplier` query parameter is required"),
    ("eva", {"role": "submission", "supplier": "initech"}, 422, "not in tender"),
    ("eva", {"role": "brochure", "supplier": "acme"}, 422, "query.role"),
    ("otto", {"role": "submission", "supplier": "acme"}, 404, "no tender"),
    ("acme-user", {"role": "submission", "supplier": "globex"}, 404, "no supplier"),
])
def test_service_uploads_wrong_owner_or_role(service: World, who: str, params: dict, status: int, says: str) -> None:
    service.standard_tender()
    r = service.client.post(f"/tenders/{service.tender}/documents", params=params, headers=service.h(who),
                            files={"file": ("a.md", SUBMISSION.encode())})
    assert r.status_code == status and says in r.json()["error"]["message"], r.text
    _assert_nothing_left(service)


def test_service_uploads_the_same_file_twice_reuses_the_document(service: World) -> None:
    service.standard_tender()
    first = service.ingest("eva", "a.md", SUBMISSION, role="submission", supplier="acme")
    second = service.ingest("acme-user", "again.md", SUBMISSION, role="submission")
    assert first["doc_id"] == second["doc_id"]
    assert first["result"] == second["result"]  # a job's result says nothing of whether the bytes were stored before
    assert service.services.store.count(DocumentRow) == 1


def test_service_uploads_the_same_file_in_another_role_is_another_upload(service: World) -> None:
    service.standard_tender()
    draft = service.ingest("acme-user", "draft.md", SUBMISSION, role="draft")
    final = service.ingest("acme-user", "final.md", SUBMISSION, role="submission")  # the draft, sent as it was
    assert draft["doc_id"] == final["doc_id"]
    owners = service.get("acme-user", f"/documents/{final['doc_id']}").json()["owners"]
    assert sorted((o["role"], o["filename"]) for o in owners) == [("draft", "draft.md"), ("submission", "final.md")]
    # the evaluator sees the submission only, under the name it was submitted as
    doc = service.get("eva", f"/documents/{final['doc_id']}").json()
    assert doc["filename"] == "final.md" and [o["role"] for o in doc["owners"]] == ["submission"]


def test_service_uploads_a_failing_step_fails_the_job_and_keeps_what_was_stored(tmp_path: Path) -> None:
    class Broken:
        name = "broken"

        def predict(self, claim, passages):
            raise RuntimeError("stance model exploded")

    world = World(tmp_path, classifier=Broken())
    try:
        world.standard_tender()
        world.ingest("eva", "trial.md", PAPER, role="paper", supplier="acme")
        r = world.upload("eva", "bid.md", SUBMISSION, role="submission", supplier="acme")
        world.drain()
        job = world.get("eva", f"/jobs/{r.json()['id']}").json()
        assert job["status"] == "failed" and job["stage"] == "support" and job["error_code"] == "internal_error"
        assert "stance model exploded" in job["reason"] and "claims and its passages are stored" in job["reason"]
        assert job["result"]["claims"] >= 3  # what the finished steps did is kept on the job
        doc = world.get("eva", f"/documents/{job['doc_id']}").json()
        assert doc["status"] == "stored" and doc["claims"] == job["result"]["claims"]
        assert world.get("eva", f"/tenders/{world.tender}/claims").json()["count"] == job["result"]["claims"]
        failed = world.get("admin", f"/audit?action=job.failed&target_id={job['id']}").json()["data"]
        assert failed and failed[0]["after"]["reason"] == job["reason"]
    finally:
        world.close()


def test_service_uploads_a_parse_failure_in_the_job_is_reported(service: World, monkeypatch) -> None:
    from extractor.errors import LimitExceededError

    service.standard_tender()

    def slow(*a, **kw):
        raise LimitExceededError("bid.md", "parsing took longer than the 120 s limit.", hint="Check the file.")

    monkeypatch.setattr("api.jobs.JobRunner._parse", lambda self, path, **kw: slow())
    r = service.upload("eva", "bid.md", SUBMISSION, role="submission", supplier="acme")
    service.drain()
    job = service.get("eva", f"/jobs/{r.json()['id']}").json()
    assert job["status"] == "failed" and job["error_code"] == "limit_exceeded" and job["reason"].startswith("parse: bid.md: parsing took")
    assert service.get("eva", f"/documents/{job['doc_id']}").json()["status"] == "failed"
    _assert_nothing_left(service)


def _assert_nothing_left(world: World) -> None:
    uploads = world.settings.uploads_dir
    assert not uploads.exists() or not any(uploads.iterdir()), list(uploads.iterdir())
    jobs = world.get("admin", "/jobs").json()["data"]
    assert all(j["status"] in ("done", "failed") for j in jobs)


SHARED_BAD = [
    ("awkward_corrupt_HTML_landing_page_saved_as_pdf.pdf", None, 415, "unsupported_type"),
    ("awkward_corrupt_empty_zero_bytes.pdf", None, 422, "empty_file"),
    ("awkward_corrupt_git_LFS_pointer_named_pdf.pdf", None, 415, "unsupported_type"),
    ("awkward_encrypted_AES256_R6_password.pdf", None, 422, "password_required"),
    ("awkward_encrypted_RC4_user_password_health_table.pdf", "nope", 422, "wrong_password"),
]


@pytest.mark.slow
def test_service_uploads_real_scans_are_read_by_ocr(service: World, shared_pdfs: Path) -> None:
    service.standard_tender()
    job = service.ingest("eva", "scan.pdf", shared_pdfs / "awkward_scanned_DXA_bone_density_report_image_only.pdf", role="paper",
                         supplier="acme")
    doc = service.get("eva", f"/documents/{job['doc_id']}").json()
    assert doc["pages"][0]["text"].strip() and doc["pages"][0]["ocr_confidence"] > 0.5
    stored = service.services.store.get_document(job["doc_id"])
    assert stored.text_boxes and all(stored.text[b.span.start : b.span.end].strip() for b in stored.text_boxes)  # kept for highlights
    assert any("OCR" in w for w in doc["warnings"])


@pytest.mark.slow
@pytest.mark.parametrize(("name", "password", "status", "code"), SHARED_BAD, ids=[b[0][:40] for b in SHARED_BAD])
def test_service_uploads_real_awkward_pdfs(service: World, shared_pdfs: Path, name: str, password, status: int, code: str) -> None:
    service.standard_tender()
    r = service.upload("eva", name, shared_pdfs / name, role="paper", supplier="acme", password=password)
    assert r.status_code == status and r.json()["error"]["code"] == code, r.text
    _assert_nothing_left(service)


@pytest.mark.slow
def test_service_uploads_real_encrypted_pdf_with_password(service: World, shared_pdfs: Path) -> None:
    service.standard_tender()
    r = service.upload("eva", "crazy.pdf", shared_pdfs / "awkward_encrypted_AES256_R6_password.pdf", role="paper", supplier="acme",
                       password="password")
    assert r.status_code == 202, r.text
    service.drain()
    job = service.get("eva", f"/jobs/{r.json()['id']}").json()
    assert job["status"] == "done" and job["result"]["pages"] == 1


def _cost_workbook() -> bytes:
    import xlsxwriter

    out = io.BytesIO()
    wb = xlsxwriter.Workbook(out, {"in_memory": True})
    gbp = wb.add_format({"num_format": '"£"#,##0'})
    ws = wb.add_worksheet("Whole-life cost")
    ws.write_row(0, 0, ["Cost element", "Year 1", "Year 2", "Total"])
    ws.write(1, 0, "Annual maintenance")
    ws.write_row(1, 1, [4200, 4200], gbp)
    ws.write_formula(1, 3, "=SUM(B2:C2)", gbp, 8400)
    ws.write(2, 0, "Consumables")
    ws.write_row(2, 1, [800, 900], gbp)
    ws.write_formula(2, 3, "=SUM(B3:C3)", gbp, 1700)
    ws.write(3, 0, "Total whole-life cost")
    ws.write_row(3, 1, [5000, 5100, 10600], gbp)  # typed; 10,100 by its parts
    wb.close()
    return out.getvalue()


def _word_answer() -> bytes:
    import docx

    d = docx.Document()
    d.add_heading("Clinical outcomes", level=1)
    d.add_paragraph("With the Kelvo dressing, surgical site infection fell from 11% to 6% in a randomised trial of 400 patients.")
    out = io.BytesIO()
    d.save(out)
    return out.getvalue()


def test_service_uploads_word_and_excel_are_ingested_with_locations_and_the_total_flagged(service: World) -> None:
    t = service.standard_tender()
    sheet = service.ingest("acme-user", "cost model", _cost_workbook(), role="draft")  # no extension: the bytes say what it is
    word = service.ingest("acme-user", "answer.docx", _word_answer(), role="submission")
    doc = service.get("acme-user", f"/documents/{sheet['doc_id']}").json()
    assert doc["filename"] == "cost model.xlsx" and doc["pages"][0]["text"].startswith("Whole-life cost\nCost element\tYear 1")
    assert any("states £10,600, but its parts (D2:D3) sum to £10,100" in w for w in doc["warnings"])
    claims = service.get("acme-user", f"/tenders/{t}/claims?role=draft&doc_id={sheet['doc_id']}").json()["data"]
    total = next(c["claim"] for c in claims if c["claim"]["quote"].startswith("Total whole-life cost"))
    assert total["location"] == "Whole-life cost!A4:D4"
    assert total["total_mismatches"][0]["computed"] == 10100 and total["total_mismatches"][0]["stated"] == 10600
    pre = service.get("acme-user", f"/tenders/{t}/documents/{sheet['doc_id']}/precheck").json()
    (finding,) = next(g for g in pre["groups"] if g["kind"] == "total_mismatch")["findings"]
    assert "sum to £10,100" in finding["message"] and pre["readiness"]["verdict"] == "not_ready"
    (claim,) = service.get("eva", f"/documents/{word['doc_id']}/claims").json()["data"]
    assert claim["claim"]["location"] == "Clinical outcomes, paragraph 1"


def test_service_uploads_a_zip_bomb_is_refused_before_it_is_unpacked(tmp_path: Path) -> None:
    import zipfile

    world = World(tmp_path, parsing={"max_office_unzipped_mb": 1})
    try:
        world.standard_tender()
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
            z.writestr("[Content_Types].xml", "<Types/>")
            z.writestr("word/document.xml", b" " * (4 * 1024 * 1024))
        r = world.upload("eva", "bid.docx", buf.getvalue(), role="submission", supplier="acme")
        assert r.status_code == 413 and r.json()["error"]["code"] == "compression_limit", r.text
        _assert_nothing_left(world)
    finally:
        world.close()


def test_service_comparison_is_for_staff_and_counts_each_supplier(service: World) -> None:
    t = service.standard_tender()
    service.ingest("acme-user", "answer.docx", _word_answer(), role="submission")
    r = service.get("eva", f"/tenders/{t}/comparison")
    assert r.status_code == 200, r.text
    by_id = {s["supplier"]: s for s in r.json()["suppliers"]}
    assert by_id["acme"]["claims"] >= 1 and by_id["globex"]["claims"] == 0
    assert "text/html" in service.get("eva", f"/tenders/{t}/comparison?format=html").headers["content-type"]
    assert service.get("acme-user", f"/tenders/{t}/comparison").status_code == 403  # suppliers never see their rivals


def test_upload_keeps_the_file_name_when_a_field_follows_the_file(service: World) -> None:
    """A browser sends the form's fields in page order: a password field after the file must not take its name."""
    service.standard_tender()
    boundary = "vbpboundary"
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"northbridge-draft.md\"\r\n"
            "Content-Type: text/markdown\r\n\r\n# Draft\n\nThe dressing reduced infection by 40% [1].\n\r\n"
            f"--{boundary}\r\nContent-Disposition: form-data; name=\"password\"\r\n\r\n\r\n--{boundary}--\r\n").encode()
    answer = service.client.post(f"/tenders/{service.tender}/documents", params={"role": "draft"},
                                 headers={**service.h("acme-user"), "Content-Type": f"multipart/form-data; boundary={boundary}"},
                                 content=body)
    assert answer.status_code == 202, answer.text
    assert answer.json()["filename"] == "northbridge-draft.md"
