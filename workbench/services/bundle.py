"""Export one audit to a Bundle and import a Bundle into any database, all or nothing."""

from __future__ import annotations

import datetime as dt
import gc
import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from pydantic import ValidationError
from sqlalchemy import Dialect, Table, insert, select
from sqlalchemy.orm import Session, selectinload

from schemas.audit import Actor, AuditDetail, CaseOut, ModerationHeading
from schemas.bundle import (
    BUNDLE_FORMAT,
    BUNDLE_VERSION,
    Bundle,
    BundleAudit,
    BundleCase,
    BundleChange,
    BundleConcern,
    BundleFinding,
    BundleModeratedGrade,
    BundleReturn,
    BundleVoice,
)
from schemas.text import friendly_message
from workbench.services.audits import AUDIT_FIELDS, audit_fields
from workbench.services.errors import InvalidRequestError, NotFoundError
from workbench.services.tools import definition_of, pin_tool_version
from workbench.services.unit import SessionFactory, unit_of_work
from workbench.store.models import (
    Agency,
    AgencyReturn,
    Audit,
    AuditAgency,
    Base,
    Case,
    ChangeRecord,
    Finding,
    ImmediateConcern,
    ModeratedGrade,
    TransferRecord,
    Voice,
)
from workbench.store.types import UTCDateTime, utcnow

_HEADING_ORDER = {h.value: i for i, h in enumerate(ModerationHeading)}


def export_bundle(factory: SessionFactory, audit_id: int) -> Bundle:
    """The audit as a Bundle, sorted by natural keys: the same audit always gives the same JSON."""
    with unit_of_work(factory) as session:
        audit = session.get(
            Audit,
            audit_id,
            options=[
                selectinload(Audit.agencies),
                selectinload(Audit.cases)
                .selectinload(Case.returns)
                .selectinload(AgencyReturn.findings),
                selectinload(Audit.cases).selectinload(Case.moderated_grades),
                selectinload(Audit.cases).selectinload(Case.voices),
                selectinload(Audit.cases).selectinload(Case.concerns),
            ],
        )
        if audit is None:
            raise NotFoundError(f"no audit with id {audit_id}")
        history = session.scalars(
            select(ChangeRecord)
            .where(ChangeRecord.audit_id == audit_id)
            .order_by(ChangeRecord.at, ChangeRecord.id)
        ).all()
        bundle = Bundle(
            exported_at=utcnow(),
            tool=definition_of(audit.tool_version),
            audit=BundleAudit(**audit_fields(audit), closed_at=audit.closed_at),
            cases=tuple(_case(c) for c in sorted(audit.cases, key=lambda c: c.reference)),
            history=tuple(
                BundleChange(
                    at=h.at,
                    actor=h.actor,
                    entity=h.entity,
                    entity_key=h.entity_key,
                    operation=h.operation,
                    field=h.field,
                    before=h.before,
                    after=h.after,
                )
                for h in history
            ),
        )
        return bundle


def record_export(
    factory: SessionFactory, actor: Actor, bundle: Bundle, target: str, recipient: str = ""
) -> None:
    """Log a bundle that was written: what, by whom, where to and for whom."""
    with unit_of_work(factory, actor) as session:
        session.add(
            TransferRecord(
                actor=actor.name,
                kind="bundle-export",
                audit_uid=bundle.audit.uid,
                target=target,
                recipient=recipient,
                detail=f"{len(bundle.cases)} cases, {len(bundle.history)} history entries",
            )
        )


def _case(case: Case) -> BundleCase:
    return BundleCase(
        reference=case.reference,
        level_of_need=case.level_of_need,
        age_band=case.age_band,
        gender=case.gender,
        ethnicity=case.ethnicity,
        send=case.send,
        returns=tuple(
            BundleReturn(
                agency=r.agency_code,
                status=r.status,
                auditor=r.auditor,
                submitted_at=r.submitted_at,
                submitted_by=r.submitted_by,
                findings=tuple(
                    BundleFinding(
                        criterion_id=f.criterion_id,
                        grade=f.grade,
                        evidence=f.evidence,
                        strengths=f.strengths,
                        areas_for_development=f.areas_for_development,
                        version=f.version,
                        updated_at=f.updated_at,
                        updated_by=f.updated_by,
                    )
                    for f in sorted(r.findings, key=lambda f: f.criterion_id)
                ),
            )
            for r in sorted(case.returns, key=lambda r: r.agency_code)
        ),
        moderated_grades=tuple(
            BundleModeratedGrade(
                heading=m.heading,
                grade=m.grade,
                reasons=m.reasons,
                version=m.version,
                updated_at=m.updated_at,
                updated_by=m.updated_by,
            )
            for m in sorted(case.moderated_grades, key=lambda m: _HEADING_ORDER[m.heading])
        ),
        voices=tuple(
            BundleVoice(
                source=v.source,
                text=v.text,
                recorded_at=v.recorded_at,
                recorded_by=v.recorded_by,
            )
            for v in sorted(case.voices, key=lambda v: (v.recorded_at, v.source, v.text))
        ),
        concerns=tuple(
            BundleConcern(
                agency=c.agency_code,
                concern=c.concern,
                who_told=c.who_told,
                told_at=c.told_at,
                raised_by=c.raised_by,
                raised_at=c.raised_at,
                status=c.status,
                closed_at=c.closed_at,
                closed_by=c.closed_by,
                closure_note=c.closure_note,
            )
            for c in sorted(case.concerns, key=lambda c: (c.raised_at, c.told_at, c.concern))
        ),
    )


def import_bundle(
    factory: SessionFactory, actor: Actor, bundle: Bundle, source: str
) -> AuditDetail:
    """Load a validated bundle in one transaction: any refusal leaves the database untouched.

    Rows go in with bulk inserts, not through the ORM's history listener: the bundle carries
    the audit's own history, and the import itself is logged in the transfers table."""
    with collector_paused(), unit_of_work(factory, actor) as session:
        if session.scalar(select(Audit.id).where(Audit.uid == bundle.audit.uid)) is not None:
            raise InvalidRequestError(
                f"audit {bundle.audit.uid} ({bundle.audit.title}) is already in this database"
            )
        added_agencies = _ensure_agencies(session, bundle)
        tool_row = pin_tool_version(session, bundle.tool)
        audit_id = _insert_audit(session, bundle, tool_row.id)
        case_ids = _insert_cases(session, bundle, audit_id)
        if bundle.history:
            session.execute(
                insert(_table(ChangeRecord)),
                [{**h.model_dump(), "audit_id": audit_id} for h in bundle.history],
            )
        detail = f"{len(bundle.cases)} cases"
        if added_agencies:
            detail += f"; agencies added: {', '.join(added_agencies)}"
        session.add(
            TransferRecord(
                actor=actor.name,
                kind="bundle-import",
                audit_uid=bundle.audit.uid,
                target=source,
                detail=detail,
            )
        )
    # Built from the bundle rather than read back: the rows are exactly what was just written.
    audit = bundle.audit
    return AuditDetail(
        id=audit_id,
        tool_id=bundle.tool.tool.id,
        tool_version=bundle.tool.tool.version,
        cases=tuple(
            CaseOut(id=case_id, audit_id=audit_id, **case.model_dump(include=PROFILE_FIELDS))
            for case_id, case in zip(case_ids, bundle.cases, strict=True)
        ),
        **audit.model_dump(include=DETAIL_FIELDS),
    )


PROFILE_FIELDS = {"reference", "level_of_need", "age_band", "gender", "ethnicity", "send"}
DETAIL_FIELDS = {*AUDIT_FIELDS, "agencies"}


def _ensure_agencies(session: Session, bundle: Bundle) -> list[str]:
    wanted = set(bundle.audit.agencies)
    known = set(session.scalars(select(Agency.code).where(Agency.code.in_(wanted))))
    missing = sorted(wanted - known)
    if missing:
        # A partnership may have agencies this database has not seen: add them, named by code.
        session.execute(
            insert(_table(Agency)), [{"code": c, "name": c, "active": True} for c in missing]
        )
    return missing


def _insert_audit(session: Session, bundle: Bundle, tool_version_id: int) -> int:
    values = bundle.audit.model_dump(exclude={"agencies"})
    audit_id: int | None = session.scalar(
        insert(_table(Audit))
        .values(**values, tool_version_id=tool_version_id)
        .returning(_table(Audit).c.id)
    )
    assert audit_id is not None
    session.execute(
        insert(_table(AuditAgency)),
        [{"audit_id": audit_id, "agency_code": a} for a in bundle.audit.agencies],
    )
    return audit_id


def _insert_cases(session: Session, bundle: Bundle, audit_id: int) -> list[int]:
    if not bundle.cases:
        return []
    case_rows = [
        {"audit_id": audit_id, **c.model_dump(mode="json", include=PROFILE_FIELDS)}
        for c in bundle.cases
    ]
    case_ids = list(
        session.scalars(
            insert(_table(Case)).returning(_table(Case).c.id, sort_by_parameter_order=True),
            case_rows,
        )
    )
    return_rows: list[dict[str, Any]] = []
    return_owner: list[BundleReturn] = []
    moderated: list[dict[str, Any]] = []
    voices: list[dict[str, Any]] = []
    concerns: list[dict[str, Any]] = []
    for case_id, case in zip(case_ids, bundle.cases, strict=True):
        for r in case.returns:
            return_rows.append(
                {
                    "case_id": case_id,
                    "agency_code": r.agency,
                    "status": r.status.value,
                    "auditor": r.auditor,
                    "submitted_at": r.submitted_at,
                    "submitted_by": r.submitted_by,
                }
            )
            return_owner.append(r)
        moderated.extend(
            {**m.model_dump(), "heading": m.heading.value, "case_id": case_id}
            for m in case.moderated_grades
        )
        voices.extend(
            {**v.model_dump(), "source": v.source.value, "case_id": case_id} for v in case.voices
        )
        for c in case.concerns:
            row = c.model_dump(exclude={"agency"})
            concerns.append(
                {**row, "status": c.status.value, "agency_code": c.agency, "case_id": case_id}
            )
    if return_rows:
        return_ids = list(
            session.scalars(
                insert(_table(AgencyReturn)).returning(
                    _table(AgencyReturn).c.id, sort_by_parameter_order=True
                ),
                return_rows,
            )
        )
        findings = [
            (
                return_id,
                f.criterion_id,
                f.grade,
                f.evidence,
                f.strengths,
                f.areas_for_development,
                f.version,
                f.updated_at,
                f.updated_by,
            )
            for return_id, r in zip(return_ids, return_owner, strict=True)
            for f in r.findings
        ]
        _bulk_insert(session, _table(Finding), FINDING_COLUMNS, findings)
    for model, rows in ((ModeratedGrade, moderated), (Voice, voices), (ImmediateConcern, concerns)):
        if rows:
            session.execute(insert(_table(model)), rows)
    return case_ids


FINDING_COLUMNS = (
    "return_id",
    "criterion_id",
    "grade",
    "evidence",
    "strengths",
    "areas_for_development",
    "version",
    "updated_at",
    "updated_by",
)


def _sqlite_utc_text(value: dt.datetime | None) -> str | None:
    # What SQLAlchemy's SQLite DateTime stores, without the per-value round of conversions.
    if value is None:
        return None
    if value.utcoffset():
        value = value.astimezone(dt.UTC)
    return value.replace(tzinfo=None).isoformat(sep=" ", timespec="microseconds")


def _processor(column_type: Any, dialect: Dialect) -> Callable[[Any], Any] | None:
    if isinstance(column_type, UTCDateTime) and dialect.name == "sqlite":
        return _sqlite_utc_text
    processor: Callable[[Any], Any] | None = column_type.bind_processor(dialect)
    return processor


def _bulk_insert(
    session: Session, table: Table, columns: tuple[str, ...], rows: list[tuple[Any, ...]]
) -> None:
    """executemany straight to the driver, values converted by each column's own type.

    Findings are the bulk of a bundle (tens of thousands of rows); building a dict per row
    for a Core insert costs more than the database's own work, so this path sends tuples."""
    if not rows:
        return
    connection = session.connection()
    dialect = connection.dialect
    processors = [_processor(table.c[name].type, dialect) for name in columns]
    converting = [(i, p) for i, p in enumerate(processors) if p is not None]
    if converting:
        converted = []
        for row in rows:
            values = list(row)
            for i, process in converting:
                values[i] = process(values[i])
            converted.append(tuple(values))
        rows = converted
    marker = "?" if dialect.paramstyle == "qmark" else "%s"
    names = ", ".join(dialect.identifier_preparer.quote(name) for name in columns)
    statement = (
        f"INSERT INTO {dialect.identifier_preparer.format_table(table)} ({names}) "
        f"VALUES ({', '.join([marker] * len(columns))})"
    )
    connection.exec_driver_sql(statement, rows)


def _table(model: type[Base]) -> Table:
    # Core inserts: the ORM's bulk path would reset version counters and is slower.
    table = model.__table__
    assert isinstance(table, Table)
    return table


def bundle_json(bundle: Bundle) -> str:
    return bundle.model_dump_json(indent=2) + "\n"


def without_export_time(text: str) -> dict[str, Any]:
    """The bundle's JSON less `exported_at`: what a round trip must preserve exactly."""
    data: dict[str, Any] = json.loads(text)
    data.pop("exported_at", None)
    return data


class BundleFileError(InvalidRequestError):
    """A bundle file that cannot be imported; nothing has been written."""


@contextmanager
def collector_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while building tens of thousands of objects.

    Nothing made here is cyclic garbage, yet each allocation burst triggers full collections
    over the growing heap: pausing it takes a 10,000-finding parse from ~170 ms to ~50 ms."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def parse_bundle(data: bytes, where: str) -> Bundle:
    """Validate bundle bytes, explaining the first problem in one line naming the file."""
    try:
        with collector_paused():
            return Bundle.model_validate_json(data)
    except ValidationError as exc:
        validation = exc
    # The slow path only runs for a bad bundle: find the most helpful thing to say.
    try:
        raw = json.loads(data)
    except UnicodeDecodeError:
        raise BundleFileError(f"{where}: not a bundle (not UTF-8 JSON text)") from None
    except json.JSONDecodeError as exc:
        hint = " (truncated?)" if exc.pos >= len(data.rstrip()) - 1 else ""
        raise BundleFileError(
            f"{where}: not valid JSON at line {exc.lineno} column {exc.colno}: {exc.msg}{hint}"
        ) from None
    if not isinstance(raw, dict) or raw.get("format") != BUNDLE_FORMAT:
        raise BundleFileError(f"{where}: not a Case Audit Workbench audit bundle")
    if raw.get("format_version") != BUNDLE_VERSION:
        raise BundleFileError(
            f"{where}: bundle format version {raw.get('format_version')!r} is not supported "
            f"(this workbench reads version {BUNDLE_VERSION})"
        )
    error = validation.errors(include_url=False)[0]
    loc = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in error["loc"]).lstrip(".")
    message = friendly_message(error)
    raise BundleFileError(f"{where}: {loc + ': ' if loc else ''}{message}") from None
