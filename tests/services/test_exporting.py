"""Exporting a document: refused with identifiers, recorded with an override, written whole.

`export_document` is tested with a small stand-in document and renderer; the four real
documents are exported from an audit at the end (and from the demo in tests/cli).
"""

from __future__ import annotations

import datetime as dt
import io
import json
import os
import stat
from pathlib import Path

import pytest
from docx import Document
from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from audit_tools import ToolRegistry
from schemas.audit import Actor
from schemas.learning import LearningFilter, LearningItemIn, LearningSource
from schemas.reports import DocumentMeta
from tests.conftest import cse_plan
from workbench.config import Settings
from workbench.files import OutputFileError
from workbench.services import audits
from workbench.services.errors import NotFoundError
from workbench.services.exporting import (
    ExportInputError,
    ExportOptions,
    IdentifiersFoundError,
    export_briefing,
    export_document,
    export_learning_log,
    export_report,
    export_summary,
    learning_log_format,
)
from workbench.services.identifier_scan import NHS_NUMBER, POSTCODE
from workbench.services.learning import create_learning_item
from workbench.store.models import ChangeRecord, TransferRecord

TODAY = dt.date(2026, 11, 23)
NHS = "943 476 5919"
Factory = sessionmaker[Session]


class Point(BaseModel):
    text: str


class Section(BaseModel):
    title: str
    strengths: tuple[Point, ...] = ()


class Doc(BaseModel):
    meta: DocumentMeta
    sections: tuple[Section, ...]


def doc(*texts: str, prepared_for: str = "") -> Doc:
    return Doc(
        meta=DocumentMeta(
            title="Stand-in",
            author="a.auditor",
            prepared_for=prepared_for,
            created=dt.datetime(2026, 11, 23, 9, tzinfo=dt.UTC),
        ),
        sections=(
            Section(title="One"),
            Section(title="Two"),
            Section(title="Three", strengths=tuple(Point(text=t) for t in texts)),
        ),
    )


def render(data: Doc) -> bytes:
    return ("\n".join(p.text for s in data.sections for p in s.strengths) or "empty").encode()


@pytest.fixture
def audit_id(factory: Factory, actor: Actor, registry: ToolRegistry) -> int:
    return audits.create_audit(factory, actor, registry, cse_plan()).id


@pytest.fixture
def outdir(tmp_path: Path) -> Path:
    """A folder for the documents alone (the SQLite file lives in tmp_path)."""
    folder = tmp_path / "out"
    folder.mkdir()
    return folder


def transfers(factory: Factory) -> list[TransferRecord]:
    with factory() as session:
        return list(session.scalars(select(TransferRecord).order_by(TransferRecord.id)))


def overrides(factory: Factory) -> list[ChangeRecord]:
    with factory() as session:
        return list(session.scalars(select(ChangeRecord).where(ChangeRecord.entity == "export")))


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


# -- export_document -------------------------------------------------------------------------


def test_a_clean_document_is_written_private_and_recorded(
    factory: Factory, actor: Actor, audit_id: int, outdir: Path
) -> None:
    out = outdir / "report.docx"
    steps: list[str] = []
    result = export_document(
        factory,
        actor,
        kind="report",
        data=doc("Strategy meeting on 12/03/2026 was timely."),
        render=render,
        out=out,
        today=TODAY,
        recipient="LSCP subgroup",
        audit_id=audit_id,
        detail="audit report: 3 cases",
        progress=steps.append,
    )
    assert out.read_bytes() == b"Strategy meeting on 12/03/2026 was timely."
    assert stat.S_IMODE(os.stat(out).st_mode) == 0o600
    assert result.path == out and result.kind == "report" and result.hits_overridden == ()
    assert result.bytes_written == out.stat().st_size
    (record,) = transfers(factory)
    assert (record.kind, record.actor, record.recipient, record.target, record.detail) == (
        "report-export",
        actor.name,
        "LSCP subgroup",
        str(out.resolve()),
        "audit report: 3 cases",
    )
    assert record.audit_uid == audits.get_audit(factory, audit_id).uid
    assert overrides(factory) == []
    assert steps == ["Checking for identifiers", "Rendering the document", "Writing the file"]
    assert leftovers(outdir) == ["report.docx"]


def test_identifiers_refuse_the_export_and_leave_nothing_behind(
    factory: Factory, actor: Actor, outdir: Path
) -> None:
    out = outdir / "report.docx"
    rendered: list[Doc] = []

    def spy(data: Doc) -> bytes:
        rendered.append(data)
        return b"x"

    with pytest.raises(IdentifiersFoundError) as refused:
        export_document(
            factory,
            actor,
            kind="report",
            data=doc(f"Records gave NHS {NHS} in full.", "Lives at B33 8TH."),
            render=spy,
            out=out,
            today=TODAY,
        )
    error = refused.value
    assert str(error) == (
        "the audit report holds 2 things that look like identifiers: 1 NHS number, 1 postcode; "
        "remove them, or export with an override and a reason"
    )
    assert [(h.where, h.kind) for h in error.hits] == [
        ("sections[2].strengths[0].text", NHS_NUMBER),
        ("sections[2].strengths[1].text", POSTCODE),
    ]
    assert all(NHS not in str(h) and "B33 8TH" not in str(h) for h in error.hits)
    assert rendered == [] and leftovers(outdir) == []
    assert transfers(factory) == [] and overrides(factory) == []


@pytest.mark.parametrize("reason", [None, "", "   "])
def test_a_blank_reason_is_no_override(
    factory: Factory, actor: Actor, outdir: Path, reason: str | None
) -> None:
    with pytest.raises(IdentifiersFoundError, match="1 thing that looks like an identifier"):
        export_document(
            factory,
            actor,
            kind="briefing",
            data=doc(f"NHS {NHS}"),
            render=render,
            out=outdir / "b.docx",
            today=TODAY,
            override_reason=reason,
        )
    assert leftovers(outdir) == [] and transfers(factory) == []


def test_an_override_records_the_reason_and_where_but_never_the_identifier(
    factory: Factory, actor: Actor, audit_id: int, outdir: Path
) -> None:
    out = outdir / "report for panel.docx"
    reason = "NHS number is the hospital switchboard example used in training"
    result = export_document(
        factory,
        actor,
        kind="report",
        data=doc(f"Records gave NHS {NHS} in full.", "Known as Jayden at school."),
        render=render,
        out=out,
        today=TODAY,
        recipient="Panel",
        override_reason=f"  {reason} ",
        known_identifiers=("Jayden",),
        audit_id=audit_id,
        detail="audit report",
    )
    assert out.exists() and stat.S_IMODE(os.stat(out).st_mode) == 0o600
    assert [h.kind for h in result.hits_overridden] == [NHS_NUMBER, "known identifier"]
    (record,) = transfers(factory)
    assert record.detail == "audit report; 2 identifier-like items kept by override"
    (change,) = overrides(factory)
    assert (change.operation, change.entity_key, change.actor) == (
        "override",
        "report for panel.docx",
        actor.name,
    )
    after = json.loads(change.after or "")
    assert after["reason"] == reason
    assert after["audit"] == record.audit_uid and after["target"] == record.target
    assert after["identifiers"] == [
        {"where": "sections[2].strengths[0].text", "kind": NHS_NUMBER},
        {"where": "sections[2].strengths[1].text", "kind": "known identifier"},
    ]
    for secret in (NHS, "9434765919", "Jayden"):
        assert secret not in (change.after or "") and secret not in record.detail


def test_who_the_document_is_by_and_for_is_not_scanned(
    factory: Factory, actor: Actor, outdir: Path
) -> None:
    out = outdir / "b.docx"
    export_document(
        factory,
        actor,
        kind="briefing",
        data=doc("fine", prepared_for="jo.bloggs@example.org"),
        render=render,
        out=out,
        today=TODAY,
        recipient="jo.bloggs@example.org",
    )
    assert out.exists()


def test_a_missing_folder_fails_before_rendering_and_records_nothing(
    factory: Factory, actor: Actor, outdir: Path
) -> None:
    rendered: list[Doc] = []

    def spy(data: Doc) -> bytes:
        rendered.append(data)
        return b"x"

    out = outdir / "nowhere" / "report.docx"
    with pytest.raises(OutputFileError) as failed:
        export_document(
            factory,
            actor,
            kind="report",
            data=doc("fine"),
            render=spy,
            out=out,
            today=TODAY,
        )
    assert str(failed.value) == f"{out}: folder {outdir / 'nowhere'} does not exist"
    assert rendered == [] and transfers(factory) == []


def test_a_file_for_a_folder_or_a_folder_for_a_file_is_refused(
    factory: Factory, actor: Actor, outdir: Path
) -> None:
    (outdir / "plain").write_text("not a folder")
    (outdir / "adir").mkdir()
    for out, message in (
        (outdir / "plain" / "r.docx", "is not a folder"),
        (outdir / "adir", "is a folder; give a file name"),
    ):
        with pytest.raises(OutputFileError, match=message):
            export_document(
                factory, actor, kind="report", data=doc(), render=render, out=out, today=TODAY
            )
    assert transfers(factory) == []


def test_an_unwritable_folder_is_one_line_and_records_nothing(
    factory: Factory, actor: Actor, outdir: Path
) -> None:
    locked = outdir / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        if os.access(locked, os.W_OK):  # root writes anywhere: use a folder nobody can write
            locked = Path("/proc")
            if not locked.is_dir():
                pytest.skip("running as root without /proc: no unwritable folder to try")
        out = locked / "report.docx"
        with pytest.raises(OutputFileError) as failed:
            export_document(
                factory, actor, kind="report", data=doc(), render=render, out=out, today=TODAY
            )
        message = str(failed.value)
        assert "\n" not in message and str(locked) in message and "cannot write" in message
        assert not out.exists() and transfers(factory) == []
    finally:
        (outdir / "locked").chmod(0o700)


def test_a_failure_while_rendering_leaves_no_file_and_keeps_an_older_one(
    factory: Factory, actor: Actor, outdir: Path
) -> None:
    def broken(data: Doc) -> bytes:
        raise RuntimeError("renderer broke")

    out = outdir / "report.docx"
    with pytest.raises(RuntimeError):
        export_document(
            factory, actor, kind="report", data=doc(), render=broken, out=out, today=TODAY
        )
    assert leftovers(outdir) == [] and transfers(factory) == []
    out.write_bytes(b"last week's report")
    with pytest.raises(RuntimeError):
        export_document(
            factory, actor, kind="report", data=doc(), render=broken, out=out, today=TODAY
        )
    assert out.read_bytes() == b"last week's report" and leftovers(outdir) == ["report.docx"]


def test_an_unknown_audit_is_refused_before_the_file_is_written(
    factory: Factory, actor: Actor, outdir: Path
) -> None:
    with pytest.raises(NotFoundError):
        export_document(
            factory,
            actor,
            kind="report",
            data=doc(),
            render=render,
            out=outdir / "r.docx",
            today=TODAY,
            audit_id=999_999,
        )
    assert leftovers(outdir) == [] and transfers(factory) == []


# -- options and formats ---------------------------------------------------------------------


def test_options_from_settings_read_the_identifiers_file(outdir: Path) -> None:
    ids = outdir / "ids.txt"
    ids.write_text("# cohort\nJayden Smith\n\n")
    options = ExportOptions.from_settings(
        Settings(identifiers_file=ids, protective_marking="OFFICIAL", partnership="Anytown SCP")
    )
    assert options.known_identifiers == ("Jayden Smith",)
    assert (options.marking, options.partnership, options.template) == (
        "OFFICIAL",
        "Anytown SCP",
        None,
    )
    with pytest.raises(ExportInputError, match="no such file"):
        ExportOptions.from_settings(Settings(identifiers_file=outdir / "missing.txt"))


def test_learning_log_format_from_the_option_or_the_suffix() -> None:
    assert learning_log_format(Path("log.XLSX")) == "xlsx"
    assert learning_log_format(Path("log.txt"), "CSV") == "csv"
    with pytest.raises(ExportInputError, match="unknown format 'pdf'"):
        learning_log_format(Path("log.docx"), "pdf")
    with pytest.raises(ExportInputError, match=r"cannot tell the format from 'log\.txt'"):
        learning_log_format(Path("log.txt"))


# -- the real documents ----------------------------------------------------------------------


def test_each_document_is_exported_from_an_audit(
    factory: Factory, actor: Actor, audit_id: int, outdir: Path
) -> None:
    create_learning_item(
        factory,
        actor,
        LearningItemIn(
            raised_on=TODAY,
            source=LearningSource.CASE_AUDIT,
            audit_id=audit_id,
            learning="Strategy discussions did not always include the school.",
        ),
    )
    options = ExportOptions(partnership="Anytown Safeguarding Children Partnership")
    results = [
        export_report(factory, actor, options, audit_id, outdir / "r.docx", today=TODAY),
        export_briefing(
            factory, actor, options, audit_id, outdir / "b.docx", recipient="DSLs", today=TODAY
        ),
        export_learning_log(
            factory,
            actor,
            options,
            outdir / "log.xlsx",
            where=LearningFilter(source=LearningSource.CASE_AUDIT),
            today=TODAY,
        ),
        export_learning_log(factory, actor, options, outdir / "log.csv", today=TODAY),
        export_summary(
            factory,
            actor,
            options,
            dt.date(2026, 6, 1),
            dt.date(2026, 11, 30),
            outdir / "s.docx",
            today=TODAY,
        ),
    ]
    assert [r.kind for r in results] == [
        "report",
        "briefing",
        "learning-log",
        "learning-log",
        "summary",
    ]
    briefing = Document(io.BytesIO((outdir / "b.docx").read_bytes()))
    assert "OFFICIAL-SENSITIVE" in briefing.sections[0].header.paragraphs[0].text
    csv_text = (outdir / "log.csv").read_bytes().decode("utf-8-sig")
    assert "Strategy discussions did not always include the school." in csv_text
    records = transfers(factory)
    assert [r.kind for r in records] == [
        "report-export",
        "briefing-export",
        "learning-log-export",
        "learning-log-export",
        "summary-export",
    ]
    assert records[1].recipient == "DSLs"
    assert records[2].detail.startswith("learning log as xlsx: 1 item")
    for result in results:
        assert stat.S_IMODE(os.stat(result.path).st_mode) == 0o600


def test_a_missing_or_broken_template_is_one_line(
    factory: Factory, actor: Actor, audit_id: int, outdir: Path
) -> None:
    missing = ExportOptions(template=outdir / "house.docx")
    with pytest.raises(ExportInputError, match=r"house.docx: no such file$"):
        export_report(factory, actor, missing, audit_id, outdir / "r.docx", today=TODAY)
    broken_file = outdir / "broken.dotx"
    broken_file.write_text("not a Word file")
    with pytest.raises(ExportInputError) as raised:
        export_briefing(
            factory, actor, ExportOptions(template=broken_file), audit_id, outdir / "b.docx"
        )
    assert "broken.dotx" in str(raised.value) and "\n" not in str(raised.value)
    assert leftovers(outdir) == ["broken.dotx"] and transfers(factory) == []


def test_a_period_that_ends_before_it_starts_is_refused(
    factory: Factory, actor: Actor, outdir: Path
) -> None:
    with pytest.raises(ExportInputError, match="starts"):
        export_summary(
            factory, actor, ExportOptions(), TODAY, TODAY - dt.timedelta(days=1), outdir / "s"
        )
