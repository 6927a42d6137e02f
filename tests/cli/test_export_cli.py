"""`workbench export ...` on the demo database, run in-process through the real entry point:
each document written and reopened as a reader would, identifiers refused, bad input exit 2."""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import io
import json
import os
import re
import shutil
import sqlite3
import stat
from pathlib import Path

import pytest
from docx import Document
from openpyxl import load_workbook  # type: ignore[import-untyped]
from sqlalchemy import select

from schemas.audit import Actor
from tests.exports.test_pdf import pdf_pages, to_pdf
from workbench.cli import main
from workbench.services.unit import unit_of_work
from workbench.store.engine import make_engine, make_session_factory
from workbench.store.models import (
    AgencyReturn,
    Case,
    ChangeRecord,
    Finding,
    TransferRecord,
)

NHS = "943 476 5919"


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exited:
        main(list(args))
    out, err = capsys.readouterr()
    code = exited.value.code
    return (code if isinstance(code, int) else 1), out, err


@pytest.fixture(scope="module")
def demo_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo partnership, loaded once by `workbench demo`; each test works on a copy."""
    folder = tmp_path_factory.mktemp("demo")
    path = folder / "demo.db"
    with (
        pytest.MonkeyPatch.context() as patch,
        contextlib.redirect_stdout(io.StringIO()),
        pytest.raises(SystemExit) as exited,
    ):
        patch.setenv("WORKBENCH_DATA_DIR", str(folder / "data"))
        patch.setenv("WORKBENCH_ACTOR", "demo.loader")
        main(["demo", "--db", f"sqlite:///{path}"])
    assert exited.value.code == 0
    return path


@pytest.fixture(autouse=True)
def isolated_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("WORKBENCH_DATA_DIR", str(tmp_path / "data"))
    for name in ("DATABASE_URL", "TOOLS_DIR", "IDENTIFIERS_FILE", "TEMPLATE_PATH"):
        monkeypatch.delenv(f"WORKBENCH_{name}", raising=False)
    monkeypatch.setenv("WORKBENCH_ACTOR", "cli.tester")
    return tmp_path


@pytest.fixture
def db(demo_file: Path, tmp_path: Path) -> str:
    """A private copy of the demo database (the backup API copies what is still in the WAL)."""
    copy = tmp_path / "demo.db"
    with (
        contextlib.closing(sqlite3.connect(demo_file)) as source,
        contextlib.closing(sqlite3.connect(copy)) as target,
    ):
        source.backup(target)
    return f"sqlite:///{copy}"


@pytest.fixture
def out(tmp_path: Path) -> Path:
    folder = tmp_path / "out"
    folder.mkdir()
    return folder


def first_audit(capsys: pytest.CaptureFixture[str], db: str) -> dict[str, object]:
    code, listed, _ = run(capsys, "audits", "list", "--json", "--db", db)
    assert code == 0
    audit: dict[str, object] = json.loads(listed)[0]
    return audit


def headings(path: Path) -> list[str]:
    document = Document(str(path))
    return [
        p.text
        for p in document.paragraphs
        if p.style is not None and (p.style.name or "").startswith("Heading")
    ]


def private(path: Path) -> bool:
    return stat.S_IMODE(os.stat(path).st_mode) == 0o600


def test_each_export_writes_a_document_its_reader_opens(
    capsys: pytest.CaptureFixture[str], db: str, out: Path
) -> None:
    audit = first_audit(capsys, db)
    report = out / "report.docx"
    code, said, err = run(
        capsys, "export", "report", str(audit["id"]), "--out", str(report), "--for",
        "L&I subgroup", "--db", db,
    )  # fmt: skip
    assert code == 0, err
    assert re.fullmatch(
        rf"Wrote {re.escape(str(report))} \(report, \d+ KB\) for L&I subgroup\n", said
    )
    document = Document(str(report))
    assert document.core_properties.title == audit["title"]
    assert "OFFICIAL-SENSITIVE" in document.sections[0].header.paragraphs[0].text
    assert "1. Purpose and scope" in headings(report)

    briefing = out / "briefing.docx"
    code, said, err = run(
        capsys, "export", "briefing", str(audit["uid"]), "--out", str(briefing), "--db", db
    )
    assert code == 0, err
    assert said.startswith(f"Wrote {briefing} (briefing, ") and " for " not in said
    assert "What we found" in headings(briefing)

    for suffix in ("docx", "xlsx", "csv"):
        code, said, err = run(
            capsys, "export", "learning-log", "--out", str(out / f"log.{suffix}"), "--db", db
        )
        assert code == 0, err
        assert "(learning log, " in said
    assert "LL-2026-001" in "\n".join(p.text for p in Document(str(out / "log.docx")).paragraphs)
    sheet = load_workbook(out / "log.xlsx").worksheets[0]
    assert next(sheet.iter_rows(values_only=True))[0] == "Reference"
    rows = list(csv.reader(io.StringIO((out / "log.csv").read_bytes().decode("utf-8-sig"))))
    assert rows[0][0] == "Reference" and len(rows) > 1
    assert {row[0] for row in rows[1:]} >= {"LL-2026-001"}

    # Hand-picked items, with the format given rather than taken from the name.
    picked = out / "picked.data"
    code, said, err = run(
        capsys, "export", "learning-log", "--item", "ll-2026-001", "--format", "csv",
        "--out", str(picked), "--db", db,
    )  # fmt: skip
    assert code == 0, err
    picked_rows = list(csv.reader(io.StringIO(picked.read_bytes().decode("utf-8-sig"))))
    assert [row[0] for row in picked_rows[1:]] == ["LL-2026-001"]

    summary = out / "summary.docx"
    today = dt.date.today()
    code, said, err = run(
        capsys, "export", "summary", "--from", str(today - dt.timedelta(days=183)),
        "--to", str(today), "--out", str(summary), "--db", db,
    )  # fmt: skip
    assert code == 0, err
    assert any("forward plan" in h for h in headings(summary))

    written = [
        report,
        briefing,
        out / "log.docx",
        out / "log.xlsx",
        out / "log.csv",
        picked,
        summary,
    ]
    assert all(private(path) for path in written)
    engine = make_engine(db)
    try:
        with make_session_factory(engine)() as session:
            kinds = [
                t.kind for t in session.scalars(select(TransferRecord).order_by(TransferRecord.id))
            ]
    finally:
        engine.dispose()
    assert kinds[-7:] == ["report-export", "briefing-export"] + ["learning-log-export"] * 4 + [
        "summary-export"
    ]


def plant_nhs_number(db: str, audit_id: int) -> None:
    """An auditor types a real NHS number into a strength (as the TUI would save it)."""
    engine = make_engine(db)
    try:
        with unit_of_work(make_session_factory(engine), Actor(name="careless.auditor")) as session:
            finding = session.scalars(
                select(Finding)
                .join(AgencyReturn, AgencyReturn.id == Finding.return_id)
                .join(Case, Case.id == AgencyReturn.case_id)
                .where(Case.audit_id == audit_id, Finding.strengths != "")
                .order_by(Finding.id)
                .limit(1)
            ).one()
            finding.strengths = f"{finding.strengths} Health records gave NHS {NHS}."
    finally:
        engine.dispose()


def override_records(db: str) -> list[ChangeRecord]:
    engine = make_engine(db)
    try:
        with make_session_factory(engine)() as session:
            return list(
                session.scalars(select(ChangeRecord).where(ChangeRecord.entity == "export"))
            )
    finally:
        engine.dispose()


def test_an_nhs_number_in_a_finding_refuses_the_report_until_overridden(
    capsys: pytest.CaptureFixture[str], db: str, out: Path
) -> None:
    audit = first_audit(capsys, db)
    plant_nhs_number(db, int(str(audit["id"])))
    report = out / "report.docx"
    code, said, err = run(
        capsys, "export", "report", str(audit["id"]), "--out", str(report), "--db", db
    )
    assert code == 1 and said == ""
    first, *hits = err.splitlines()
    assert first == (
        "workbench: the audit report holds 1 thing that looks like an identifier: 1 NHS number; "
        "remove them, or export with an override and a reason"
    )
    assert len(hits) == 1
    assert re.fullmatch(r"  sections\[\d+\]\.strengths\[\d+\]\.text: NHS number: .*●●●.*", hits[0])
    assert "943" not in err and "5919" not in err and "Traceback" not in err
    assert not report.exists() and list(out.iterdir()) == []

    reason = "Checked with the IG lead: the number is a published test number"
    code, said, err = run(
        capsys, "export", "report", str(audit["id"]), "--out", str(report),
        "--override-identifiers", reason, "--for", "Panel", "--db", db,
    )  # fmt: skip
    assert code == 0, err
    assert said.splitlines()[1] == (
        "1 identifier-like item kept by override; the reason is in the change history"
    )
    assert "943" not in said and private(report)
    (record,) = override_records(db)
    assert record.operation == "override" and record.actor == "cli.tester"
    assert json.loads(record.after or "")["reason"] == reason
    assert "943" not in (record.after or "")


def test_the_partnership_list_of_identifiers_is_used_but_never_shown(
    capsys: pytest.CaptureFixture[str],
    db: str,
    out: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    audit = first_audit(capsys, db)
    engine = make_engine(db)
    try:
        with make_session_factory(engine)() as session:
            reference = session.scalars(
                select(Case.reference).where(Case.audit_id == audit["id"]).order_by(Case.id)
            ).first()
    finally:
        engine.dispose()
    assert reference
    # A case reference stands in for a child's name: the demo holds no names.
    listed = tmp_path / "identifiers.txt"
    listed.write_text(f"# names in the cohort\n\n{reference.lower()}\n")
    monkeypatch.setenv("WORKBENCH_IDENTIFIERS_FILE", str(listed))
    code, _, err = run(
        capsys, "export", "report", str(audit["id"]), "--out", str(out / "r.docx"), "--db", db
    )
    assert code == 1 and "known identifier" in err
    assert reference not in err and not (out / "r.docx").exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["summary", "--from", "2026-13-01", "--to", "2027-01-01"], "--from: '2026-13-01' is not"),
        (["summary", "--from", "2026-06-01", "--to", "2026-01-01"], "starts (2026-06-01) after"),
        (["learning-log", "--format", "pdf"], "unknown format 'pdf'"),
        (["learning-log"], "cannot tell the format from 'FILE.txt'"),
        (["learning-log", "--item", "LL-1999-999", "--format", "csv"], "no learning item 'LL-"),
        (["learning-log", "--source", "gossip"], "--source: Input should be"),
    ],
)  # fmt: skip
def test_bad_input_is_exit_2_and_one_line(
    capsys: pytest.CaptureFixture[str], db: str, out: Path, args: list[str], message: str
) -> None:
    target = out / "FILE.txt"
    code, said, err = run(capsys, "export", *args, "--out", str(target), "--db", db)
    assert code == 2 and said == ""
    assert len(err.splitlines()) == 1 and message in err, err
    assert not target.exists()


def test_a_missing_folder_or_template_is_exit_2_and_one_line(
    capsys: pytest.CaptureFixture[str],
    db: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    audit = str(first_audit(capsys, db)["id"])
    missing = tmp_path / "no such folder" / "r.docx"
    code, _, err = run(capsys, "export", "report", audit, "--out", str(missing), "--db", db)
    assert code == 2 and err == f"workbench: {missing}: folder {missing.parent} does not exist\n"

    monkeypatch.setenv("WORKBENCH_TEMPLATE_PATH", str(tmp_path / "house.dotx"))
    code, _, err = run(
        capsys, "export", "briefing", audit, "--out", str(tmp_path / "b.docx"), "--db", db
    )
    assert code == 2 and err == f"workbench: template {tmp_path / 'house.dotx'}: no such file\n"
    (tmp_path / "house.dotx").write_text("not a template")
    code, _, err = run(
        capsys, "export", "briefing", audit, "--out", str(tmp_path / "b.docx"), "--db", db
    )
    assert code == 2 and len(err.splitlines()) == 1 and "house.dotx" in err
    assert not (tmp_path / "b.docx").exists()


def test_an_unknown_audit_is_refused(
    capsys: pytest.CaptureFixture[str], db: str, out: Path
) -> None:
    code, _, err = run(capsys, "export", "report", "999", "--out", str(out / "r.docx"), "--db", db)
    assert code == 1 and "no audit '999'" in err


def test_every_word_export_of_the_demo_opens_in_libreoffice(
    capsys: pytest.CaptureFixture[str], db: str, out: Path, tmp_path: Path
) -> None:
    """The real documents, from real (demo) data, convert to PDF: they open as a reader's
    word processor would open them."""
    office = shutil.which("soffice") or shutil.which("libreoffice")
    if office is None:
        pytest.skip("LibreOffice not installed: cannot check the documents convert to PDF")
    audit = first_audit(capsys, db)
    today = dt.date.today()
    commands = {
        "report": ["report", str(audit["id"])],
        "briefing": ["briefing", str(audit["id"])],
        "log": ["learning-log"],
        "summary": ["summary", "--from", str(today - dt.timedelta(days=365)), "--to", str(today)],
    }
    for name, args in commands.items():
        target = out / f"{name}.docx"
        code, _, err = run(capsys, "export", *args, "--out", str(target), "--db", db)
        assert code == 0, err
        pdf = to_pdf(office, target.read_bytes(), name, tmp_path)
        pages = pdf_pages(pdf)
        assert pages is None or pages >= 1
        if name == "briefing" and pages is not None:
            assert pages == 1, "the briefing must fit one page"
