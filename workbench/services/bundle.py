"""Export one audit to a Bundle and import a Bundle into any database, all or nothing."""

from __future__ import annotations

import datetime as dt
import gc
import json
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError
from sqlalchemy import Dialect, Select, Table, insert, select
from sqlalchemy.orm import Session, selectinload

from schemas.access import Role
from schemas.audit import Actor, AuditDetail, CaseOut, ModerationHeading
from schemas.bundle import (
    BUNDLE_FORMAT,
    BUNDLE_VERSION,
    Bundle,
    BundleAction,
    BundleActionUpdate,
    BundleAudit,
    BundleCase,
    BundleChange,
    BundleConcern,
    BundleEvidence,
    BundleFinding,
    BundleLearningItem,
    BundleModeratedGrade,
    BundleRecommendation,
    BundleReturn,
    BundleSecondGrade,
    BundleTheme,
    BundleVoice,
)
from schemas.learning import ActionStatus, LearningSource, LearningStatus, SharedHow
from schemas.text import friendly_message
from workbench.services import access
from workbench.services.audits import AUDIT_FIELDS, audit_fields
from workbench.services.errors import InvalidRequestError, NotFoundError
from workbench.services.identifiers import ENTITY as IDENTIFIERS
from workbench.services.learning import REFERENCE_PREFIX
from workbench.services.tools import definition_of, pin_tool_version
from workbench.services.unit import SessionFactory, unit_of_work
from workbench.store.models import (
    Action,
    ActionUpdate,
    Agency,
    AgencyReturn,
    Audit,
    AuditAgency,
    AuditLead,
    Base,
    Case,
    ChangeRecord,
    Finding,
    FindingTheme,
    ImmediateConcern,
    LearningItem,
    LearningItemFinding,
    LearningItemTheme,
    ModeratedGrade,
    ModerationTheme,
    Recommendation,
    RecommendationLearningItem,
    SecondGrade,
    Theme,
    TransferRecord,
    Voice,
    VoiceTheme,
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
        # A bundle is the whole audit, history and all: its leads' to move, nobody else's.
        # Held case identifiers are never in a bundle (the schema has no place for them).
        access.require_lead(session, audit_id, "export the audit as a bundle")
        history = session.scalars(
            select(ChangeRecord)
            # Nor is the record of who held or read them (a "read" is no change either).
            .where(ChangeRecord.audit_id == audit_id, ChangeRecord.entity != IDENTIFIERS)
            .order_by(ChangeRecord.at, ChangeRecord.id)
        ).all()
        extras = _CaseExtras.load(session, audit_id)
        learning_items = _learning_items(session, audit_id)
        recommendations = _recommendations(session, audit_id, learning_items)
        used = {code for codes in extras.codes() for code in codes}
        used.update(code for item in learning_items for code in item.themes)
        bundle = Bundle(
            exported_at=utcnow(),
            tool=definition_of(audit.tool_version),
            audit=BundleAudit(**audit_fields(audit), closed_at=audit.closed_at),
            cases=tuple(_case(c, extras) for c in sorted(audit.cases, key=lambda c: c.reference)),
            themes=_themes(session, used),
            learning_items=tuple(learning_items),
            recommendations=tuple(recommendations.values()),
            actions=_actions(session, audit_id, recommendations),
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


@dataclass
class _CaseExtras:
    """What hangs off a case's rows in other tables: theme tags and second grades, by row id."""

    finding_themes: dict[int, tuple[str, ...]] = field(default_factory=dict)
    voice_themes: dict[int, tuple[str, ...]] = field(default_factory=dict)
    moderation_themes: dict[int, tuple[str, ...]] = field(default_factory=dict)
    second_grades: dict[int, list[BundleSecondGrade]] = field(default_factory=dict)

    @classmethod
    def load(cls, session: Session, audit_id: int) -> _CaseExtras:
        seconds: dict[int, list[BundleSecondGrade]] = defaultdict(list)
        for return_id, criterion_id, grade, graded_by, graded_at in session.execute(
            select(
                SecondGrade.return_id,
                SecondGrade.criterion_id,
                SecondGrade.grade,
                SecondGrade.graded_by,
                SecondGrade.graded_at,
            )
            .join(AgencyReturn, AgencyReturn.id == SecondGrade.return_id)
            .join(Case, Case.id == AgencyReturn.case_id)
            .where(Case.audit_id == audit_id)
            .order_by(SecondGrade.return_id, SecondGrade.criterion_id)
        ):
            seconds[return_id].append(
                BundleSecondGrade(
                    criterion_id=criterion_id, grade=grade, graded_by=graded_by, graded_at=graded_at
                )
            )
        return cls(
            finding_themes=_codes_by_target(
                select(FindingTheme.finding_id, Theme.code)
                .join(Theme, Theme.id == FindingTheme.theme_id)
                .join(Finding, Finding.id == FindingTheme.finding_id)
                .join(AgencyReturn, AgencyReturn.id == Finding.return_id)
                .join(Case, Case.id == AgencyReturn.case_id)
                .where(Case.audit_id == audit_id),
                session,
            ),
            voice_themes=_codes_by_target(
                select(VoiceTheme.voice_id, Theme.code)
                .join(Theme, Theme.id == VoiceTheme.theme_id)
                .join(Voice, Voice.id == VoiceTheme.voice_id)
                .join(Case, Case.id == Voice.case_id)
                .where(Case.audit_id == audit_id),
                session,
            ),
            moderation_themes=_codes_by_target(
                select(ModerationTheme.moderated_grade_id, Theme.code)
                .join(Theme, Theme.id == ModerationTheme.theme_id)
                .join(ModeratedGrade, ModeratedGrade.id == ModerationTheme.moderated_grade_id)
                .join(Case, Case.id == ModeratedGrade.case_id)
                .where(Case.audit_id == audit_id),
                session,
            ),
            second_grades=dict(seconds),
        )

    def codes(self) -> Iterator[tuple[str, ...]]:
        yield from self.finding_themes.values()
        yield from self.voice_themes.values()
        yield from self.moderation_themes.values()


def _codes_by_target(statement: Select[int, str], session: Session) -> dict[int, tuple[str, ...]]:
    grouped: dict[int, list[str]] = defaultdict(list)
    for target_id, code in session.execute(statement):
        grouped[target_id].append(code)
    return {target_id: tuple(sorted(codes)) for target_id, codes in grouped.items()}


def _themes(session: Session, codes: set[str]) -> tuple[BundleTheme, ...]:
    if not codes:
        return ()
    return tuple(
        BundleTheme(
            code=t.code,
            label=t.label,
            description=t.description,
            keywords=tuple(t.keywords),
            active=t.active,
        )
        for t in session.scalars(select(Theme).where(Theme.code.in_(codes)).order_by(Theme.code))
    )


def _learning_items(session: Session, audit_id: int) -> list[BundleLearningItem]:
    """The audit's learning items by reference, with their themes and evidence links."""
    themes = _codes_by_target(
        select(LearningItemTheme.learning_item_id, Theme.code)
        .join(Theme, Theme.id == LearningItemTheme.theme_id)
        .join(LearningItem, LearningItem.id == LearningItemTheme.learning_item_id)
        .where(LearningItem.audit_id == audit_id),
        session,
    )
    links: dict[int, list[BundleEvidence]] = defaultdict(list)
    for item_id, reference, agency, criterion_id in session.execute(
        select(
            LearningItemFinding.learning_item_id,
            Case.reference,
            AgencyReturn.agency_code,
            Finding.criterion_id,
        )
        .join(LearningItem, LearningItem.id == LearningItemFinding.learning_item_id)
        .join(Finding, Finding.id == LearningItemFinding.finding_id)
        .join(AgencyReturn, AgencyReturn.id == Finding.return_id)
        .join(Case, Case.id == AgencyReturn.case_id)
        # Evidence is the audit's own findings: the services link nothing else.
        .where(LearningItem.audit_id == audit_id, Case.audit_id == audit_id)
        .order_by(Case.reference, AgencyReturn.agency_code, Finding.criterion_id)
    ):
        links[item_id].append(
            BundleEvidence(case_reference=reference, agency=agency, criterion_id=criterion_id)
        )
    return [
        BundleLearningItem(
            reference=item.reference,
            raised_on=item.raised_on,
            source=LearningSource(item.source),
            learning=item.learning,
            evidence=item.evidence,
            agencies=tuple(item.agencies),
            shared_how=tuple(SharedHow(s) for s in item.shared_how),
            impact_evidence=item.impact_evidence,
            reaudit_on=item.reaudit_on,
            status=LearningStatus(item.status),
            signed_off_by=item.signed_off_by,
            signed_off_on=item.signed_off_on,
            created_at=item.created_at,
            created_by=item.created_by,
            themes=themes.get(item.id, ()),
            evidence_links=tuple(links.get(item.id, ())),
        )
        for item in session.scalars(
            select(LearningItem)
            .where(LearningItem.audit_id == audit_id)
            .order_by(LearningItem.reference)
        )
    ]


def _recommendations(
    session: Session, audit_id: int, learning_items: list[BundleLearningItem]
) -> dict[int, BundleRecommendation]:
    """The audit's recommendations by number, keyed by database id (actions point at them)."""
    # A recommendation can also answer learning from outside this audit (another strand):
    # the bundle carries one audit, so those links stay behind.
    in_bundle = {item.reference for item in learning_items}
    linked: dict[int, list[str]] = defaultdict(list)
    for rec_id, reference in session.execute(
        select(RecommendationLearningItem.recommendation_id, LearningItem.reference)
        .join(LearningItem, LearningItem.id == RecommendationLearningItem.learning_item_id)
        .join(Recommendation, Recommendation.id == RecommendationLearningItem.recommendation_id)
        .where(Recommendation.audit_id == audit_id)
        .order_by(LearningItem.reference)
    ):
        if reference in in_bundle:
            linked[rec_id].append(reference)
    return {
        rec.id: BundleRecommendation(
            number=rec.number, text=rec.text, learning_items=tuple(linked.get(rec.id, ()))
        )
        for rec in session.scalars(
            select(Recommendation)
            .where(Recommendation.audit_id == audit_id)
            .order_by(Recommendation.number)
        )
    }


def _actions(
    session: Session, audit_id: int, recommendations: dict[int, BundleRecommendation]
) -> tuple[BundleAction, ...]:
    updates: dict[int, list[BundleActionUpdate]] = defaultdict(list)
    for update in session.scalars(
        select(ActionUpdate)
        .join(Action, Action.id == ActionUpdate.action_id)
        .where(Action.audit_id == audit_id)
        .order_by(ActionUpdate.id)
    ):
        updates[update.action_id].append(
            BundleActionUpdate(on=update.on, text=update.text, by=update.by)
        )
    # Rows come in id order and the sorts are stable: ties keep the order they were imported in.
    actions = [
        BundleAction(
            recommendation=(
                recommendations[row.recommendation_id].number
                if row.recommendation_id in recommendations
                else None
            ),
            description=row.description,
            owner_name=row.owner_name,
            owner_agency=row.owner_agency,
            due_on=row.due_on,
            status=ActionStatus(row.status),
            evidence_of_impact=row.evidence_of_impact,
            escalation_route=row.escalation_route,
            created_at=row.created_at,
            created_by=row.created_by,
            updates=tuple(sorted(updates.get(row.id, ()), key=lambda u: (u.on, u.text, u.by))),
        )
        for row in session.scalars(
            select(Action).where(Action.audit_id == audit_id).order_by(Action.id)
        )
    ]
    return tuple(
        sorted(actions, key=lambda a: (a.due_on, a.description, a.owner_name, a.created_at))
    )


def _case(case: Case, extras: _CaseExtras) -> BundleCase:
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
                        themes=extras.finding_themes.get(f.id, ()),
                    )
                    for f in sorted(r.findings, key=lambda f: f.criterion_id)
                ),
                second_grades=tuple(extras.second_grades.get(r.id, ())),
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
                themes=extras.moderation_themes.get(m.id, ()),
            )
            for m in sorted(case.moderated_grades, key=lambda m: _HEADING_ORDER[m.heading])
        ),
        voices=tuple(
            BundleVoice(
                source=v.source,
                text=v.text,
                recorded_at=v.recorded_at,
                recorded_by=v.recorded_by,
                themes=extras.voice_themes.get(v.id, ()),
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
        access.require_role(session, (Role.LEAD, Role.ADMIN), "import an audit bundle")
        if session.scalar(select(Audit.id).where(Audit.uid == bundle.audit.uid)) is not None:
            raise InvalidRequestError(
                f"audit {bundle.audit.uid} ({bundle.audit.title}) is already in this database"
            )
        added_agencies = _ensure_agencies(session, bundle)
        theme_ids, added_themes = _ensure_themes(session, bundle)
        tool_row = pin_tool_version(session, bundle.tool)
        audit_id = _insert_audit(session, bundle, tool_row.id)
        # A bundle names no leads: whoever imports it leads it, as whoever plans one does
        # (first, so that on PostgreSQL the database lets the lead write what follows).
        session.execute(insert(_table(AuditLead)).values(audit_id=audit_id, login=actor.name))
        written = _insert_cases(session, bundle, audit_id)
        # Tags carry no tagger in the bundle: the links are made here, by whoever imports.
        tagging = _Tagging(theme_ids, actor.name, utcnow())
        _insert_case_extras(session, bundle, audit_id, written, tagging)
        renumbered = _insert_learning(session, bundle, audit_id, written, theme_ids)
        if bundle.history:
            session.execute(
                insert(_table(ChangeRecord)),
                [{**h.model_dump(), "audit_id": audit_id} for h in bundle.history],
            )
        detail = f"{len(bundle.cases)} cases"
        if bundle.learning_items or bundle.recommendations or bundle.actions:
            detail += (
                f", {len(bundle.learning_items)} learning items, "
                f"{len(bundle.recommendations)} recommendations, {len(bundle.actions)} actions"
            )
        if added_agencies:
            detail += f"; agencies added: {', '.join(added_agencies)}"
        if added_themes:
            detail += f"; themes added: {', '.join(added_themes)}"
        if renumbered:
            detail += "; learning items renumbered (reference already used here): " + ", ".join(
                f"{old} is now {new}" for old, new in renumbered
            )
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
            for case_id, case in zip(written.case_ids, bundle.cases, strict=True)
        ),
        **audit.model_dump(include=DETAIL_FIELDS),
    )


PROFILE_FIELDS = {"reference", "level_of_need", "age_band", "gender", "ethnicity", "send"}
DETAIL_FIELDS = {*AUDIT_FIELDS, "agencies"}


def _ensure_agencies(session: Session, bundle: Bundle) -> list[str]:
    wanted = set(bundle.audit.agencies)
    wanted.update(code for item in bundle.learning_items for code in item.agencies)
    wanted.update(action.owner_agency for action in bundle.actions)
    known = set(session.scalars(select(Agency.code).where(Agency.code.in_(wanted))))
    missing = sorted(wanted - known)
    if missing:
        # A partnership may have agencies this database has not seen: add them, named by code.
        session.execute(
            insert(_table(Agency)), [{"code": c, "name": c, "active": True} for c in missing]
        )
    return missing


def _ensure_themes(session: Session, bundle: Bundle) -> tuple[dict[str, int], list[str]]:
    """Theme ids by code, adding the bundle's themes this database lacks. A theme it already
    has keeps the local definition: the vocabulary is the partnership's, not the audit's."""
    if not bundle.themes:
        return {}, []
    codes = [t.code for t in bundle.themes]
    ids: dict[str, int] = {
        code: theme_id
        for code, theme_id in session.execute(
            select(Theme.code, Theme.id).where(Theme.code.in_(codes))
        )
    }
    missing = [t for t in bundle.themes if t.code not in ids]
    if missing:
        table = _table(Theme)
        new_ids = session.scalars(
            insert(table).returning(table.c.id, sort_by_parameter_order=True),
            [{**t.model_dump(), "keywords": list(t.keywords)} for t in missing],
        )
        ids.update(zip((t.code for t in missing), new_ids, strict=True))
    return ids, [t.code for t in missing]


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


@dataclass
class _Written:
    """Ids of the rows just inserted, for what links to them."""

    case_ids: list[int]
    return_ids: dict[tuple[str, str], int] = field(default_factory=dict)
    # In bundle order; filled only when some voice or moderated grade carries themes.
    voice_ids: list[int] = field(default_factory=list)
    moderated_ids: list[int] = field(default_factory=list)
    finding_ids: dict[tuple[int, str], int] | None = None

    def finding_id(self, session: Session, audit_id: int, return_id: int, criterion: str) -> int:
        if self.finding_ids is None:
            # One read afterwards rather than RETURNING on the findings insert, which would
            # slow the tuple executemany that carries most of a bundle.
            self.finding_ids = {
                (rid, cid): fid
                for fid, rid, cid in session.execute(
                    select(Finding.id, Finding.return_id, Finding.criterion_id)
                    .join(AgencyReturn, AgencyReturn.id == Finding.return_id)
                    .join(Case, Case.id == AgencyReturn.case_id)
                    .where(Case.audit_id == audit_id)
                )
            }
        return self.finding_ids[(return_id, criterion)]


def _insert_returning(session: Session, model: type[Base], rows: list[dict[str, Any]]) -> list[int]:
    if not rows:
        return []
    table = _table(model)
    return list(
        session.scalars(insert(table).returning(table.c.id, sort_by_parameter_order=True), rows)
    )


def _insert_cases(session: Session, bundle: Bundle, audit_id: int) -> _Written:
    if not bundle.cases:
        return _Written(case_ids=[])
    case_rows = [
        {"audit_id": audit_id, **c.model_dump(mode="json", include=PROFILE_FIELDS)}
        for c in bundle.cases
    ]
    written = _Written(case_ids=_insert_returning(session, Case, case_rows))
    return_rows: list[dict[str, Any]] = []
    return_owner: list[tuple[str, BundleReturn]] = []
    moderated: list[dict[str, Any]] = []
    voices: list[dict[str, Any]] = []
    concerns: list[dict[str, Any]] = []
    for case_id, case in zip(written.case_ids, bundle.cases, strict=True):
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
            return_owner.append((case.reference, r))
        moderated.extend(
            {
                **m.model_dump(exclude={"themes"}),
                "heading": m.heading.value,
                "case_id": case_id,
            }
            for m in case.moderated_grades
        )
        voices.extend(
            {**v.model_dump(exclude={"themes"}), "source": v.source.value, "case_id": case_id}
            for v in case.voices
        )
        for c in case.concerns:
            row = c.model_dump(exclude={"agency"})
            concerns.append(
                {**row, "status": c.status.value, "agency_code": c.agency, "case_id": case_id}
            )
    if return_rows:
        return_ids = _insert_returning(session, AgencyReturn, return_rows)
        written.return_ids = {
            (reference, r.agency): return_id
            for return_id, (reference, r) in zip(return_ids, return_owner, strict=True)
        }
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
            for return_id, (_, r) in zip(return_ids, return_owner, strict=True)
            for f in r.findings
        ]
        _bulk_insert(session, _table(Finding), FINDING_COLUMNS, findings)
    written.voice_ids = _insert(
        session, Voice, voices, ids=any(v.themes for c in bundle.cases for v in c.voices)
    )
    written.moderated_ids = _insert(
        session,
        ModeratedGrade,
        moderated,
        ids=any(m.themes for c in bundle.cases for m in c.moderated_grades),
    )
    _insert(session, ImmediateConcern, concerns, ids=False)
    return written


def _insert(
    session: Session, model: type[Base], rows: list[dict[str, Any]], *, ids: bool
) -> list[int]:
    """Insert the rows; their ids, in order, only if asked (RETURNING costs a little)."""
    if ids:
        return _insert_returning(session, model, rows)
    if rows:
        session.execute(insert(_table(model)), rows)
    return []


@dataclass(frozen=True)
class _Tagging:
    theme_ids: dict[str, int]
    by: str
    at: dt.datetime

    def rows(self, key: str, target_id: int, codes: Iterable[str]) -> Iterator[dict[str, Any]]:
        for code in codes:
            yield {
                key: target_id,
                "theme_id": self.theme_ids[code],
                "tagged_by": self.by,
                "tagged_at": self.at,
            }


def _insert_case_extras(
    session: Session, bundle: Bundle, audit_id: int, written: _Written, tagging: _Tagging
) -> None:
    """Theme tags on findings, voices and moderated grades, and second grades."""
    finding_tags: list[dict[str, Any]] = []
    seconds: list[dict[str, Any]] = []
    for case in bundle.cases:
        for r in case.returns:
            return_id = written.return_ids[(case.reference, r.agency)]
            seconds.extend({**s.model_dump(), "return_id": return_id} for s in r.second_grades)
            for f in r.findings:
                if f.themes:
                    finding_id = written.finding_id(session, audit_id, return_id, f.criterion_id)
                    finding_tags.extend(tagging.rows("finding_id", finding_id, f.themes))
    voice_tags: list[dict[str, Any]] = []
    if written.voice_ids:
        voices = (v for c in bundle.cases for v in c.voices)
        for voice_id, voice in zip(written.voice_ids, voices, strict=True):
            voice_tags.extend(tagging.rows("voice_id", voice_id, voice.themes))
    moderation_tags: list[dict[str, Any]] = []
    if written.moderated_ids:
        moderated = (m for c in bundle.cases for m in c.moderated_grades)
        for moderated_id, grade in zip(written.moderated_ids, moderated, strict=True):
            moderation_tags.extend(tagging.rows("moderated_grade_id", moderated_id, grade.themes))
    for model, rows in (
        (SecondGrade, seconds),
        (FindingTheme, finding_tags),
        (VoiceTheme, voice_tags),
        (ModerationTheme, moderation_tags),
    ):
        _insert(session, model, rows, ids=False)


def _references(session: Session, items: tuple[BundleLearningItem, ...]) -> dict[str, str]:
    """Each item's reference here: its own, or (if this database already uses it) the next
    free LL-<year>-<nnn> for the year it was raised, clear of the bundle's own references."""
    own = [item.reference for item in items]
    if not own:
        return {}
    taken = set(
        session.scalars(select(LearningItem.reference).where(LearningItem.reference.in_(own)))
    )
    given = {reference: reference for reference in own}
    if not taken:
        return given
    next_number: dict[int, int] = {}
    for item in items:
        if item.reference not in taken:
            continue
        year = item.raised_on.year
        prefix = f"{REFERENCE_PREFIX}-{year}-"
        if year not in next_number:
            used = [
                *session.scalars(
                    select(LearningItem.reference).where(LearningItem.reference.like(f"{prefix}%"))
                ),
                *own,
            ]
            numbers = [
                int(r.removeprefix(prefix))
                for r in used
                if r.startswith(prefix) and r.removeprefix(prefix).isdigit()
            ]
            next_number[year] = max(numbers, default=0) + 1
        given[item.reference] = f"{prefix}{next_number[year]:03d}"
        next_number[year] += 1
    return given


def _insert_learning(
    session: Session,
    bundle: Bundle,
    audit_id: int,
    written: _Written,
    theme_ids: dict[str, int],
) -> list[tuple[str, str]]:
    """Learning items with their themes and evidence, recommendations and actions.

    Returns the (bundle, stored) references of items renumbered on the way in."""
    references = _references(session, bundle.learning_items)
    item_ids = dict(
        zip(
            (item.reference for item in bundle.learning_items),
            _insert_returning(
                session,
                LearningItem,
                [
                    {
                        **item.model_dump(exclude={"themes", "evidence_links"}),
                        "reference": references[item.reference],
                        "source": item.source.value,
                        "status": item.status.value,
                        "agencies": list(item.agencies),
                        "shared_how": [s.value for s in item.shared_how],
                        "audit_id": audit_id,
                    }
                    for item in bundle.learning_items
                ],
            ),
            strict=True,
        )
    )
    item_themes: list[dict[str, Any]] = []
    evidence: list[dict[str, Any]] = []
    for item in bundle.learning_items:
        item_id = item_ids[item.reference]
        item_themes.extend(
            {"learning_item_id": item_id, "theme_id": theme_ids[code]} for code in item.themes
        )
        for link in item.evidence_links:
            return_id = written.return_ids[(link.case_reference, link.agency)]
            finding_id = written.finding_id(session, audit_id, return_id, link.criterion_id)
            evidence.append({"learning_item_id": item_id, "finding_id": finding_id})
    recommendation_ids = dict(
        zip(
            (rec.number for rec in bundle.recommendations),
            _insert_returning(
                session,
                Recommendation,
                [
                    {"audit_id": audit_id, "number": rec.number, "text": rec.text}
                    for rec in bundle.recommendations
                ],
            ),
            strict=True,
        )
    )
    answers = [
        {"recommendation_id": recommendation_ids[rec.number], "learning_item_id": item_ids[ref]}
        for rec in bundle.recommendations
        for ref in rec.learning_items
    ]
    action_ids = _insert_returning(
        session,
        Action,
        [
            {
                **action.model_dump(exclude={"recommendation", "updates"}),
                "status": action.status.value,
                "audit_id": audit_id,
                "recommendation_id": (
                    None
                    if action.recommendation is None
                    else recommendation_ids[action.recommendation]
                ),
            }
            for action in bundle.actions
        ],
    )
    updates = [
        {**update.model_dump(), "action_id": action_id}
        for action_id, action in zip(action_ids, bundle.actions, strict=True)
        for update in action.updates
    ]
    for model, rows in (
        (LearningItemTheme, item_themes),
        (LearningItemFinding, evidence),
        (RecommendationLearningItem, answers),
        (ActionUpdate, updates),
    ):
        _insert(session, model, rows, ids=False)
    return [(old, new) for old, new in references.items() if old != new]


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
