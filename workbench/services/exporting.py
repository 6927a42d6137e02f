"""Write a document that leaves the workbench: checked for identifiers, written whole, recorded.

Every export goes through `export_document`: the data is scanned for anything that looks
like a real identifier (refused unless someone gives a reason to override, which goes into
the change history), rendered, written owner-only by temporary file and rename, and logged
as a transfer: what, for whom, when and by whom. The records and the file go together: if
the file cannot be written nothing is recorded, and if the records cannot be saved the file
is removed.

`export_report`, `export_briefing`, `export_learning_log` and `export_summary` build each
document's data (services.report_data) and render it (exports/), both imported when used.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from pydantic import BaseModel
from sqlalchemy import insert

from schemas.access import Role
from schemas.audit import Actor
from schemas.reports import DEFAULT_MARKING, LearningLogData
from workbench.files import OutputFileError, write_private
from workbench.services import access
from workbench.services.errors import InvalidRequestError, NotFoundError, ServiceError
from workbench.services.identifier_scan import (
    IdentifierHit,
    IdentifierListError,
    read_known_identifiers,
    scan,
    texts_of,
)
from workbench.services.identifiers import held_identifier_hits
from workbench.services.unit import SessionFactory, unit_of_work
from workbench.store.models import Audit, ChangeRecord, TransferRecord
from workbench.store.types import utcnow

if TYPE_CHECKING:
    from schemas.learning import LearningFilter
    from workbench.config import Settings

D = TypeVar("D", bound=BaseModel)
Progress = Callable[[str], None]

DEFAULT_PARTNERSHIP = "Safeguarding children partnership"
LEARNING_LOG_FORMATS = ("docx", "xlsx", "csv")
# Who a document is by and for is typed on purpose and is not about a child: not scanned.
NOT_SCANNED = frozenset({"meta.author", "meta.prepared_for"})
DOCUMENT_NAMES = {
    "report": "the audit report",
    "briefing": "the briefing",
    "learning-log": "the learning log",
    "summary": "the subgroup summary",
}
_PLURALS = {
    "date of birth": "dates of birth",
    "e-mail address": "e-mail addresses",
}


class IdentifiersFoundError(ServiceError):
    """The document holds identifier-like text; `hits` says where (each one masked)."""

    def __init__(self, hits: Sequence[IdentifierHit], what: str = "the document") -> None:
        self.hits = tuple(hits)
        n = len(self.hits)
        things = (
            "thing that looks like an identifier" if n == 1 else "things that look like identifiers"
        )
        super().__init__(
            f"{what} holds {n} {things}: {count_kinds(self.hits)}; "
            "remove them, or export with an override and a reason"
        )


class HeldIdentifiersError(IdentifiersFoundError):
    """The document holds an identifier a lead holds for a case: never exported, whatever
    the reason given."""

    def __init__(self, hits: Sequence[IdentifierHit], what: str = "the document") -> None:
        super().__init__(hits, what)
        n = len(self.hits)
        self.args = (
            f"{what} holds {n} of the case identifiers held apart from the audit; they are "
            "never exported, so remove them from the text (no override is possible)",
        )

    def __str__(self) -> str:
        return str(self.args[0])


def may_export(
    factory: SessionFactory, doing: str, audit_id: int | None = None, *, subgroup: bool = False
) -> None:
    """Refuse before any work: a report is its audit's leads' to export; with `subgroup`, the
    subgroup's documents (briefing, learning log, summary) are the subgroup's to share too."""
    with unit_of_work(factory) as session:
        principal = access.principal_of(session)
        if principal is None or (subgroup and principal.role is Role.SUBGROUP):
            return
        if audit_id is not None:
            access.require_lead(session, audit_id, doing)
        else:
            extra = (Role.SUBGROUP,) if subgroup else ()
            access.require_role(session, (Role.LEAD, Role.ADMIN, *extra), doing)


class ExportInputError(InvalidRequestError):
    """Something the person exporting gave or configured cannot be used (format, template,
    identifiers file, item reference, period); the message says which."""


@dataclass(frozen=True)
class ExportResult:
    path: Path
    bytes_written: int
    kind: str
    hits_overridden: tuple[IdentifierHit, ...] = ()


@dataclass(frozen=True)
class ExportOptions:
    """The partnership's settings every document uses."""

    marking: str = DEFAULT_MARKING
    partnership: str = DEFAULT_PARTNERSHIP
    template: Path | None = None
    known_identifiers: tuple[str, ...] = ()

    @classmethod
    def from_settings(cls, settings: Settings) -> ExportOptions:
        """Read the partnership's identifiers file now (its contents are never shown)."""
        known: tuple[str, ...] = ()
        if settings.identifiers_file is not None:
            try:
                known = read_known_identifiers(settings.identifiers_file)
            except IdentifierListError as exc:
                raise ExportInputError(str(exc)) from None
        return cls(
            marking=settings.protective_marking,
            partnership=settings.partnership,
            template=settings.template_path,
            known_identifiers=known,
        )


def count_kinds(hits: Sequence[IdentifierHit]) -> str:
    """How many of each kind, in the order first found: "2 NHS numbers, 1 postcode"."""
    counts = Counter(hit.kind for hit in hits)
    return ", ".join(
        f"{n} {kind if n == 1 else _PLURALS.get(kind, kind + 's')}" for kind, n in counts.items()
    )


def _step(progress: Progress | None, message: str) -> None:
    if progress is not None:
        progress(message)


def check_folder(out: Path) -> None:
    """Fail early, before anything is built, when `out` cannot be written where it is."""
    folder = out.parent if str(out.parent) else Path(".")
    if not folder.is_dir():
        reason = "does not exist" if not folder.exists() else "is not a folder"
        raise OutputFileError(f"{out}: folder {folder} {reason}")
    if out.is_dir():
        raise OutputFileError(f"{out}: is a folder; give a file name")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise OutputFileError(f"{out}: cannot write to folder {folder} (permission denied)")


def export_document(
    factory: SessionFactory,
    actor: Actor,
    *,
    kind: str,
    data: D,
    render: Callable[[D], bytes],
    out: Path,
    today: dt.date,
    recipient: str = "",
    override_reason: str | None = None,
    known_identifiers: Sequence[str] = (),
    audit_id: int | None = None,
    detail: str = "",
    progress: Progress | None = None,
) -> ExportResult:
    """Scan `data`, render it, write `out` (0600, whole or not at all) and record the transfer.

    Identifier-like text refuses the export with IdentifiersFoundError unless
    `override_reason` is given; then the reason, and where the hits were and of what kind
    (never the text itself), go into the change history with the transfer record.
    """
    _step(progress, "Checking for identifiers")
    texts = [(where, text) for where, text in texts_of(data) if where not in NOT_SCANNED]
    with unit_of_work(factory) as session:
        # Every audit's: a learning log or summary can quote any case.
        held_hits = held_identifier_hits(session, texts, today=today)
    if held_hits:
        raise HeldIdentifiersError(held_hits, DOCUMENT_NAMES.get(kind, "the document"))
    hits = tuple(scan(texts, known_identifiers, today=today))
    reason = (override_reason or "").strip()
    if hits and not reason:
        raise IdentifiersFoundError(hits, DOCUMENT_NAMES.get(kind, "the document"))
    check_folder(out)
    _step(progress, "Rendering the document")
    content = render(data)
    _step(progress, "Writing the file")
    target = str(out.resolve())
    written = False
    try:
        with unit_of_work(factory, actor) as session:
            audit_uid: str | None = None
            if audit_id is not None:
                audit = session.get(Audit, audit_id)
                if audit is None:
                    raise NotFoundError(f"no audit with id {audit_id}")
                audit_uid = audit.uid
            note = detail
            if hits:
                record = _override_record(actor, kind, out, target, reason, hits, audit_uid)
                # Without RETURNING: on PostgreSQL the row (filed under no audit) is not one
                # the exporting login may read back, and nothing here needs its id.
                session.execute(insert(ChangeRecord).inline().values(**record))
                overridden = f"{len(hits)} identifier-like items kept by override"
                note = f"{detail}; {overridden}" if detail else overridden
            session.add(
                TransferRecord(
                    actor=actor.name,
                    kind=f"{kind}-export",
                    audit_uid=audit_uid,
                    target=target,
                    recipient=recipient,
                    detail=note,
                )
            )
            # Any database refusal surfaces here, before the file exists.
            session.flush()
            write_private(out, content)
            written = True
    except BaseException:
        if written:  # the file went out but its record did not: take the file back
            out.unlink(missing_ok=True)
        raise
    return ExportResult(path=out, bytes_written=len(content), kind=kind, hits_overridden=hits)


def _override_record(
    actor: Actor,
    kind: str,
    out: Path,
    target: str,
    reason: str,
    hits: Sequence[IdentifierHit],
    audit_uid: str | None,
) -> dict[str, object]:
    after = {
        "reason": reason,
        "document": kind,
        "target": target,
        "audit": audit_uid,
        # Where and what kind only: the excerpts, masked as they are, stay out of history.
        "identifiers": [{"where": hit.where, "kind": hit.kind} for hit in hits],
    }
    return dict(
        at=utcnow(),
        actor=actor.name,
        # Not filed under the audit: an audit's history travels in its bundle, which records
        # changes to the audit's content (create, update, delete). This is a decision about
        # a file that left this store, kept here beside its transfer record.
        audit_id=None,
        entity="export",
        entity_key=out.name[:300],
        operation="override",
        field="identifiers",
        before=None,
        after=json.dumps(after, ensure_ascii=False, sort_keys=True),
    )


# -- the four documents ------------------------------------------------------------------------


def _check_template(options: ExportOptions) -> None:
    template = options.template
    if template is not None and not template.is_file():
        problem = "is a folder" if template.is_dir() else "no such file"
        raise ExportInputError(f"template {template}: {problem}")


def _with_template(
    renderer: Callable[[D, Path | None], bytes], template: Path | None
) -> Callable[[D], bytes]:
    def render(data: D) -> bytes:
        from exports.document import TemplateError

        try:
            return renderer(data, template)
        except TemplateError as exc:
            raise ExportInputError(str(exc).splitlines()[0]) from None

    return render


def export_report(
    factory: SessionFactory,
    actor: Actor,
    options: ExportOptions,
    audit_id: int,
    out: Path,
    *,
    recipient: str = "",
    override_reason: str | None = None,
    today: dt.date | None = None,
    progress: Progress | None = None,
) -> ExportResult:
    """The audit report (Word) for one audit."""
    from exports.audit_report import audit_report_docx
    from workbench.services.report_data import audit_report_data

    today = today or dt.date.today()
    may_export(factory, "export the audit report", audit_id)
    _check_template(options)
    check_folder(out)
    _step(progress, "Gathering the audit's findings")
    data = audit_report_data(
        factory,
        audit_id,
        author=actor.name,
        today=today,
        marking=options.marking,
        prepared_for=recipient,
        partnership=options.partnership,
    )
    return export_document(
        factory,
        actor,
        kind="report",
        data=data,
        render=_with_template(audit_report_docx, options.template),
        out=out,
        today=today,
        recipient=recipient,
        override_reason=override_reason,
        known_identifiers=options.known_identifiers,
        audit_id=audit_id,
        detail=(
            f"audit report, {data.audit.title}: {data.cohort.cases} cases, "
            f"{len(data.audit.agencies)} agencies, {len(data.recommendations)} recommendations"
        ),
        progress=progress,
    )


def export_briefing(
    factory: SessionFactory,
    actor: Actor,
    options: ExportOptions,
    audit_id: int,
    out: Path,
    *,
    recipient: str = "",
    override_reason: str | None = None,
    today: dt.date | None = None,
    progress: Progress | None = None,
) -> ExportResult:
    """The one-page lessons-learnt briefing (Word) for one audit."""
    from exports.briefing import briefing_docx
    from workbench.services.report_data import briefing_data

    today = today or dt.date.today()
    may_export(factory, "export the briefing", audit_id, subgroup=True)
    _check_template(options)
    check_folder(out)
    _step(progress, "Gathering the audit's learning")
    data = briefing_data(
        factory,
        audit_id,
        author=actor.name,
        today=today,
        marking=options.marking,
        prepared_for=recipient,
        partnership=options.partnership,
    )
    return export_document(
        factory,
        actor,
        kind="briefing",
        data=data,
        render=_with_template(briefing_docx, options.template),
        out=out,
        today=today,
        recipient=recipient,
        override_reason=override_reason,
        known_identifiers=options.known_identifiers,
        audit_id=audit_id,
        detail=f"briefing, {data.audit_title}: {len(data.what_we_found)} findings",
        progress=progress,
    )


def learning_log_format(out: Path, given: str | None = None) -> str:
    """docx, xlsx or csv: as given, else from the file's suffix."""
    if given is not None:
        chosen = given.strip().lower().removeprefix(".")
        if chosen not in LEARNING_LOG_FORMATS:
            raise ExportInputError(f"unknown format {given!r}: choose docx, xlsx or csv")
        return chosen
    suffix = out.suffix.lower().removeprefix(".")
    if suffix not in LEARNING_LOG_FORMATS:
        raise ExportInputError(
            f"cannot tell the format from {out.name!r}: name it .docx, .xlsx or .csv, "
            "or give the format"
        )
    return suffix


def learning_item_ids(factory: SessionFactory, references: Sequence[str]) -> list[int]:
    """Database ids for learning log references (any case), in the order given."""
    from workbench.services.learning import list_learning

    by_reference = {item.reference.lower(): item.id for item in list_learning(factory)}
    missing = [ref for ref in references if ref.strip().lower() not in by_reference]
    if missing:
        raise ExportInputError(
            f"no learning item {', '.join(repr(m) for m in missing)} "
            "(see `workbench learning list`)"
        )
    return list(dict.fromkeys(by_reference[ref.strip().lower()] for ref in references))


def export_learning_log(
    factory: SessionFactory,
    actor: Actor,
    options: ExportOptions,
    out: Path,
    *,
    where: LearningFilter | None = None,
    item_references: Sequence[str] = (),
    file_format: str | None = None,
    recipient: str = "",
    override_reason: str | None = None,
    today: dt.date | None = None,
    progress: Progress | None = None,
) -> ExportResult:
    """The learning log, filtered or chosen item by item, as Word, Excel or CSV."""
    from exports.learning_log import learning_log_csv, learning_log_docx, learning_log_xlsx
    from workbench.services.report_data import learning_log_data

    chosen = learning_log_format(out, file_format)
    today = today or dt.date.today()
    may_export(factory, "export the learning log", subgroup=True)
    if chosen == "docx":
        _check_template(options)
    check_folder(out)
    item_ids = learning_item_ids(factory, item_references) if item_references else None
    _step(progress, "Gathering the learning log")
    data = learning_log_data(
        factory,
        where,
        item_ids,
        author=actor.name,
        today=today,
        marking=options.marking,
        prepared_for=recipient,
        partnership=options.partnership,
    )
    render: Callable[[LearningLogData], bytes]
    if chosen == "docx":
        render = _with_template(learning_log_docx, options.template)
    elif chosen == "xlsx":
        render = learning_log_xlsx
    else:
        render = learning_log_csv
    n = len(data.entries)
    selection = f" ({data.description})" if data.description else ""
    return export_document(
        factory,
        actor,
        kind="learning-log",
        data=data,
        render=render,
        out=out,
        today=today,
        recipient=recipient,
        override_reason=override_reason,
        known_identifiers=options.known_identifiers,
        detail=f"learning log as {chosen}: {n} item{'' if n == 1 else 's'}{selection}",
        progress=progress,
    )


def export_summary(
    factory: SessionFactory,
    actor: Actor,
    options: ExportOptions,
    start: dt.date,
    end: dt.date,
    out: Path,
    *,
    recipient: str = "",
    override_reason: str | None = None,
    today: dt.date | None = None,
    progress: Progress | None = None,
) -> ExportResult:
    """The subgroup's six-monthly summary (Word) for the period start to end, inclusive."""
    from exports.subgroup_summary import subgroup_summary_docx
    from workbench.services.report_data import subgroup_summary_data

    if start > end:
        raise ExportInputError(f"the period starts ({start}) after it ends ({end})")
    today = today or dt.date.today()
    may_export(factory, "export the subgroup summary", subgroup=True)
    _check_template(options)
    check_folder(out)
    _step(progress, "Gathering the period's audits, learning and actions")
    data = subgroup_summary_data(
        factory,
        start,
        end,
        author=actor.name,
        today=today,
        marking=options.marking,
        prepared_for=recipient,
        partnership=options.partnership,
    )
    return export_document(
        factory,
        actor,
        kind="summary",
        data=data,
        render=_with_template(subgroup_summary_docx, options.template),
        out=out,
        today=today,
        recipient=recipient,
        override_reason=override_reason,
        known_identifiers=options.known_identifiers,
        detail=(
            f"subgroup summary {start} to {end}: {len(data.audits)} audits, "
            f"{len(data.learning)} learning items, {len(data.actions)} actions"
        ),
        progress=progress,
    )
