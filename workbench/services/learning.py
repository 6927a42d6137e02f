"""The learning log: items from every strand, traceable to the findings they rest on."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from sqlalchemy import ColumnElement, Text, exists, func, or_, select, type_coerce
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, load_only

from schemas.audit import Actor
from schemas.learning import (
    EvidenceLink,
    LearningFilter,
    LearningItemChange,
    LearningItemIn,
    LearningItemOut,
    LearningSource,
    LearningStatus,
    SharedHow,
)
from workbench.services import access
from workbench.services.errors import InvalidRequestError, NotFoundError
from workbench.services.theme_analysis import recurring_themes
from workbench.services.tools import definition_of
from workbench.services.unit import SessionFactory, unit_of_work
from workbench.store.models import (
    Agency,
    AgencyReturn,
    Audit,
    Case,
    Finding,
    LearningItem,
    LearningItemFinding,
    LearningItemTheme,
    RecommendationLearningItem,
    Theme,
)

REFERENCE_PREFIX = "LL"
# How many evidence links the drafted evidence text names before summarising the rest.
EVIDENCE_LINES = 8


def _item(session: Session, item_id: int) -> LearningItem:
    item = session.get(LearningItem, item_id)
    if item is None:
        raise NotFoundError(f"no learning item with id {item_id}")
    return item


def next_reference(session: Session, year: int) -> str:
    """LL-2026-007: the year it was raised and a running number within the year."""
    prefix = f"{REFERENCE_PREFIX}-{year}-"
    used = session.scalars(
        select(LearningItem.reference).where(LearningItem.reference.like(f"{prefix}%"))
    ).all()
    numbers = [int(r.removeprefix(prefix)) for r in used if r.removeprefix(prefix).isdigit()]
    return f"{prefix}{max(numbers, default=0) + 1:03d}"


def _check_agencies(session: Session, codes: Iterable[str]) -> None:
    wanted = set(codes)
    known = set(session.scalars(select(Agency.code).where(Agency.code.in_(wanted))))
    if wanted - known:
        raise InvalidRequestError(f"no agency called {', '.join(sorted(wanted - known))}")


def _set_themes(session: Session, item: LearningItem, codes: Iterable[str]) -> None:
    wanted = set(codes)
    themes = {t.code: t for t in session.scalars(select(Theme).where(Theme.code.in_(wanted)))}
    if wanted - set(themes):
        raise InvalidRequestError(f"no theme called {', '.join(sorted(wanted - set(themes)))}")
    current = {
        row.theme.code: row
        for row in session.scalars(
            select(LearningItemTheme).where(LearningItemTheme.learning_item_id == item.id)
        )
    }
    for code in sorted(wanted - set(current)):
        session.add(LearningItemTheme(learning_item=item, theme=themes[code]))
    for code in sorted(set(current) - wanted):
        session.delete(current[code])


def create_learning_item(
    factory: SessionFactory, actor: Actor, new: LearningItemIn
) -> LearningItemOut:
    """Add an item to the log; its reference is given here, its evidence links checked."""
    if not new.learning.strip():
        raise InvalidRequestError("a learning item needs the learning, in a sentence or two")
    for _attempt in range(3):
        try:
            with unit_of_work(factory, actor) as session:
                access.require_role(session, access.LEARNING_EDITORS, "change the learning log")
                item = _insert(session, actor, new)
                return _out(session, item)
        except IntegrityError:
            # Someone else took the same reference at the same moment: take the next one.
            continue
    raise InvalidRequestError("could not give the learning item a reference; try again")


def _insert(session: Session, actor: Actor, new: LearningItemIn) -> LearningItem:
    if new.audit_id is not None and session.get(Audit, new.audit_id) is None:
        raise NotFoundError(f"no audit with id {new.audit_id}")
    _check_agencies(session, new.agencies)
    item = LearningItem(
        reference=next_reference(session, new.raised_on.year),
        raised_on=new.raised_on,
        source=new.source.value,
        audit_id=new.audit_id,
        learning=new.learning.strip(),
        evidence=new.evidence,
        agencies=sorted(set(new.agencies)),
        shared_how=[s.value for s in new.shared_how],
        impact_evidence=new.impact_evidence,
        reaudit_on=new.reaudit_on,
        status=LearningStatus.OPEN.value,
        created_by=actor.name,
    )
    session.add(item)
    session.flush()
    _set_themes(session, item, new.themes)
    if new.finding_ids:
        findings = _findings(session, new.finding_ids)
        if new.audit_id is not None and any(
            f.agency_return.case.audit_id != new.audit_id for f in findings
        ):
            raise InvalidRequestError("evidence links must be findings of the item's own audit")
        for finding in findings:
            session.add(LearningItemFinding(learning_item=item, finding=finding))
    session.flush()
    return item


def _findings(session: Session, ids: Iterable[int]) -> list[Finding]:
    wanted = sorted(set(ids))
    # Only what a link needs: a subgroup login may read a finding's grade, never its text.
    only = load_only(Finding.id, Finding.return_id, Finding.criterion_id, Finding.grade)
    found = list(session.scalars(select(Finding).where(Finding.id.in_(wanted)).options(only)))
    if len(found) != len(wanted):
        missing = sorted(set(wanted) - {f.id for f in found})
        raise NotFoundError(f"no finding with id {', '.join(map(str, missing))}")
    return found


def draft_from_theme(
    factory: SessionFactory, audit_id: int, theme_code: str, *, today: dt.date
) -> LearningItemIn:
    """A learning item drafted from a recurring theme: source, audit, theme, agencies and the
    evidence links filled in, and an evidence summary a reader can trace; the learning itself
    is proposed for the user to rewrite before saving."""
    recurring = {t.code: t for t in recurring_themes(factory, audit_id)}
    theme = recurring.get(theme_code)
    if theme is None:
        raise InvalidRequestError(f"the theme {theme_code} is not used in this audit")
    with unit_of_work(factory) as session:
        # The summary names each linked finding's case, agency and grade, and a draft is for
        # those who keep the log: an auditor is not shown other agencies' grades this way.
        access.require_role(session, access.LEARNING_EDITORS, "draft a learning item")
        audit = session.get(Audit, audit_id)
        if audit is None:
            raise NotFoundError(f"no audit with id {audit_id}")
        scale = definition_of(audit.tool_version).scale
        cases = session.scalar(select(func.count()).where(Case.audit_id == audit_id)) or 0
        links = _evidence_links(session, theme.finding_ids)
    agencies = sorted({link.agency for link in links})
    lines = [
        f"- Case {link.case_reference}, {link.agency}, {link.criterion_id}: "
        + (scale.label(link.grade) if link.grade else "not graded")
        for link in links[:EVIDENCE_LINES]
    ]
    if len(links) > EVIDENCE_LINES:
        lines.append(f"- and {len(links) - EVIDENCE_LINES} more findings")
    evidence = (
        f"{theme.label} recurred in {theme.cases} of {cases} cases across "
        f"{theme.agencies} agencies ({theme.findings} findings, {theme.voices} voices, "
        f"{theme.moderation} moderation reasons).\n" + "\n".join(lines)
    )
    return LearningItemIn(
        raised_on=today,
        source=LearningSource.CASE_AUDIT,
        learning=(
            f"{theme.label} recurred in {theme.cases} of {cases} cases across "
            f"{theme.agencies} agencies."
        ),
        evidence=evidence,
        audit_id=audit_id,
        themes=(theme_code,),
        agencies=tuple(agencies),
        finding_ids=theme.finding_ids,
    )


def _evidence_links(session: Session, finding_ids: Iterable[int]) -> list[EvidenceLink]:
    ids = list(finding_ids)
    if not ids:
        return []
    rows = session.execute(
        select(
            Finding.id,
            Case.reference,
            AgencyReturn.agency_code,
            Finding.criterion_id,
            Finding.grade,
        )
        .join(AgencyReturn, AgencyReturn.id == Finding.return_id)
        .join(Case, Case.id == AgencyReturn.case_id)
        .where(Finding.id.in_(ids))
        .order_by(Case.reference, AgencyReturn.agency_code, Finding.criterion_id)
    ).all()
    return [
        EvidenceLink(finding_id=f, case_reference=c, agency=a, criterion_id=k, grade=g)
        for f, c, a, k, g in rows
    ]


def _out(session: Session, item: LearningItem) -> LearningItemOut:
    return _outs(session, [item])[0]


def _outs(session: Session, items: list[LearningItem]) -> list[LearningItemOut]:
    ids = [i.id for i in items]
    themes: dict[int, list[str]] = {}
    links: dict[int, list[int]] = {}
    recommendations: dict[int, list[int]] = {}
    titles: dict[int, str] = {}
    if ids:
        for item_id, code in session.execute(
            select(LearningItemTheme.learning_item_id, Theme.code)
            .join(Theme, Theme.id == LearningItemTheme.theme_id)
            .where(LearningItemTheme.learning_item_id.in_(ids))
            .order_by(Theme.code)
        ):
            themes.setdefault(item_id, []).append(code)
        for item_id, finding_id in session.execute(
            select(LearningItemFinding.learning_item_id, LearningItemFinding.finding_id).where(
                LearningItemFinding.learning_item_id.in_(ids)
            )
        ):
            links.setdefault(item_id, []).append(finding_id)
        for item_id, rec_id in session.execute(
            select(
                RecommendationLearningItem.learning_item_id,
                RecommendationLearningItem.recommendation_id,
            ).where(RecommendationLearningItem.learning_item_id.in_(ids))
        ):
            recommendations.setdefault(item_id, []).append(rec_id)
        audit_ids = {i.audit_id for i in items if i.audit_id is not None}
        if audit_ids:
            titles = dict(
                session.execute(select(Audit.id, Audit.title).where(Audit.id.in_(audit_ids))).all()
            )
    return [
        LearningItemOut(
            id=item.id,
            reference=item.reference,
            raised_on=item.raised_on,
            source=LearningSource(item.source),
            audit_id=item.audit_id,
            audit_title=titles.get(item.audit_id) if item.audit_id is not None else None,
            learning=item.learning,
            evidence=item.evidence,
            themes=tuple(themes.get(item.id, ())),
            agencies=tuple(item.agencies),
            shared_how=tuple(SharedHow(s) for s in item.shared_how),
            impact_evidence=item.impact_evidence,
            reaudit_on=item.reaudit_on,
            status=LearningStatus(item.status),
            signed_off_by=item.signed_off_by,
            signed_off_on=item.signed_off_on,
            created_by=item.created_by,
            evidence_links=tuple(_evidence_links(session, links.get(item.id, ()))),
            recommendations=tuple(sorted(recommendations.get(item.id, ()))),
        )
        for item in items
    ]


def get_learning_item(factory: SessionFactory, item_id: int) -> LearningItemOut:
    with unit_of_work(factory) as session:
        return _out(session, _item(session, item_id))


def update_learning_item(
    factory: SessionFactory, actor: Actor, item_id: int, change: LearningItemChange
) -> LearningItemOut:
    with unit_of_work(factory, actor) as session:
        access.require_role(session, access.LEARNING_EDITORS, "change the learning log")
        item = _item(session, item_id)
        if item.status == LearningStatus.SIGNED_OFF.value and change.status is None:
            raise InvalidRequestError(
                f"{item.reference} is signed off; reopen it (status open) to change it"
            )
        if change.learning is not None:
            if not change.learning.strip():
                raise InvalidRequestError("a learning item needs the learning")
            item.learning = change.learning.strip()
        if change.evidence is not None:
            item.evidence = change.evidence
        if change.agencies is not None:
            _check_agencies(session, change.agencies)
            item.agencies = sorted(set(change.agencies))
        if change.shared_how is not None:
            item.shared_how = [s.value for s in change.shared_how]
        if change.impact_evidence is not None:
            item.impact_evidence = change.impact_evidence
        if change.clear_reaudit:
            item.reaudit_on = None
        elif change.reaudit_on is not None:
            item.reaudit_on = change.reaudit_on
        if change.themes is not None:
            _set_themes(session, item, change.themes)
        if change.status is not None:
            if change.status is LearningStatus.SIGNED_OFF:
                raise InvalidRequestError("sign an item off with sign-off, which records who")
            # Any other status reopens a signed-off item: the old sign-off no longer holds.
            item.status = change.status.value
            item.signed_off_by = None
            item.signed_off_on = None
        session.flush()
        return _out(session, item)


def sign_off(factory: SessionFactory, actor: Actor, item_id: int, on: dt.date) -> LearningItemOut:
    """The subgroup signs an item off: recorded with who and when."""
    with unit_of_work(factory, actor) as session:
        access.require_role(session, access.LEARNING_EDITORS, "change the learning log")
        item = _item(session, item_id)
        if not item.shared_how:
            raise InvalidRequestError(
                f"{item.reference} has not been shared yet; record how it was shared first"
            )
        item.status = LearningStatus.SIGNED_OFF.value
        item.signed_off_by = actor.name
        item.signed_off_on = on
        session.flush()
        return _out(session, item)


def _terms(text: str) -> list[str]:
    return [t for t in text.casefold().split() if t]


def _matches(term: str) -> ColumnElement[bool]:
    """One search word, anywhere in the item's words or its themes' labels."""
    columns = (
        LearningItem.reference,
        LearningItem.learning,
        LearningItem.evidence,
        LearningItem.impact_evidence,
    )
    in_text = or_(*(func.lower(c).contains(term, autoescape=True) for c in columns))
    in_themes = exists(
        select(LearningItemTheme.learning_item_id)
        .join(Theme, Theme.id == LearningItemTheme.theme_id)
        .where(
            LearningItemTheme.learning_item_id == LearningItem.id,
            or_(
                func.lower(Theme.label).contains(term, autoescape=True),
                func.lower(Theme.code).contains(term, autoescape=True),
            ),
        )
    )
    return or_(in_text, in_themes)


def list_learning(
    factory: SessionFactory, where: LearningFilter | None = None
) -> list[LearningItemOut]:
    """The log, newest first, narrowed by words (every word must appear somewhere in the item
    or its themes) and by theme, agency, source and status."""
    where = where or LearningFilter()
    conditions: list[ColumnElement[bool]] = [_matches(term) for term in _terms(where.text)]
    if where.theme:
        conditions.append(
            exists(
                select(LearningItemTheme.learning_item_id)
                .join(Theme, Theme.id == LearningItemTheme.theme_id)
                .where(
                    LearningItemTheme.learning_item_id == LearningItem.id,
                    Theme.code == where.theme,
                )
            )
        )
    if where.agency:
        # Agencies are a short JSON list of codes: the quoted code cannot match a longer one.
        agencies = type_coerce(LearningItem.agencies, Text)
        conditions.append(agencies.contains(f'"{where.agency}"', autoescape=True))
    if where.source:
        conditions.append(LearningItem.source == where.source.value)
    if where.status:
        conditions.append(LearningItem.status == where.status.value)
    with unit_of_work(factory) as session:
        items = list(
            session.scalars(
                select(LearningItem)
                .where(*conditions)  # no conditions: the whole log
                .order_by(LearningItem.raised_on.desc(), LearningItem.reference.desc())
            )
        )
        return _outs(session, items)
