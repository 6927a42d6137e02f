"""The demo partnership's learning: themes on what the panel wrote, double grading, the
learning log, recommendations and an action plan, loaded through the services.

Like the rest of the demo it is invented and deterministic: which themes a finding gets
comes from the offline suggester over the demo's own text, and everything else from fixed
text and dates counted back from `today`.
"""

from __future__ import annotations

import datetime as dt
import zlib

from sqlalchemy import select

from schemas.audit import Actor, AuditDetail
from schemas.learning import (
    ActionIn,
    ActionStatus,
    ActionUpdateIn,
    LearningItemChange,
    LearningItemIn,
    LearningSource,
    RecommendationIn,
    SharedHow,
    TaggedKind,
)
from schemas.tools import ToolDefinition
from workbench.services import actions, agreement, learning, theme_analysis, themes
from workbench.services.theme_suggest import suggest_themes
from workbench.services.unit import SessionFactory, unit_of_work
from workbench.store.models import AgencyReturn, Case, Finding, ModeratedGrade, Voice

CHAIR = Actor(name="Audit panel chair")
SUBGROUP = Actor(name="Learning and improvement subgroup chair")
SECOND_AUDITOR = Actor(name="Second auditor (quality assurance)", agency="police")
# Findings the panel tags: the weaker half, where the learning is.
TAGGED_GRADES = ("requires_improvement", "inadequate", "not_evidenced")


def _crc(*parts: str) -> int:
    return zlib.crc32("/".join(parts).encode("utf-8"))


def tag_audit(factory: SessionFactory, audit_id: int) -> int:
    """Tag the weaker findings, the voices and the moderation reasons with the themes their
    text suggests (at most two each), as a panel would after reading the suggestions."""
    vocabulary = themes.list_themes(factory, active_only=True)
    with unit_of_work(factory) as session:
        findings = session.execute(
            select(Finding.id, Finding.evidence, Finding.areas_for_development)
            .join(AgencyReturn, AgencyReturn.id == Finding.return_id)
            .join(Case, Case.id == AgencyReturn.case_id)
            .where(Case.audit_id == audit_id, Finding.grade.in_(TAGGED_GRADES))
            .order_by(Finding.id)
        ).all()
        voices = session.execute(
            select(Voice.id, Voice.text)
            .join(Case, Case.id == Voice.case_id)
            .where(Case.audit_id == audit_id)
            .order_by(Voice.id)
        ).all()
        moderated = session.execute(
            select(ModeratedGrade.id, ModeratedGrade.reasons)
            .join(Case, Case.id == ModeratedGrade.case_id)
            .where(Case.audit_id == audit_id, ModeratedGrade.reasons != "")
            .order_by(ModeratedGrade.id)
        ).all()
    tagged = 0
    work = [
        *((TaggedKind.FINDING, fid, f"{evidence}\n{areas}") for fid, evidence, areas in findings),
        *((TaggedKind.VOICE, vid, text) for vid, text in voices),
        *((TaggedKind.MODERATION, mid, reasons) for mid, reasons in moderated),
    ]
    for kind, target_id, text in work:
        codes = [s.code for s in suggest_themes(text, vocabulary, limit=2)]
        if codes:
            themes.set_tags(factory, CHAIR, kind, target_id, codes)
            tagged += 1
    return tagged


def double_grade(factory: SessionFactory, audit_id: int, definition: ToolDefinition) -> None:
    """A second auditor re-grades the first case's police return, as quality assurance does:
    mostly agreeing, sometimes a level apart."""
    levels = [level.key for level in definition.scale.levels]
    with unit_of_work(factory) as session:
        first_case = session.scalars(
            select(Case.id).where(Case.audit_id == audit_id).order_by(Case.reference)
        ).first()
        rows = session.execute(
            select(Finding.return_id, Finding.criterion_id, Finding.grade)
            .join(AgencyReturn, AgencyReturn.id == Finding.return_id)
            .where(AgencyReturn.case_id == first_case, AgencyReturn.agency_code == "police")
            .order_by(Finding.criterion_id)
        ).all()
    for return_id, criterion_id, grade in rows:
        if grade is None:
            continue
        second = grade
        if grade in levels:
            shift = {0: 1, 1: -1}.get(_crc(criterion_id, "second") % 5, 0)
            second = levels[min(len(levels) - 1, max(0, levels.index(grade) + shift))]
        agreement.record_second_grade(factory, SECOND_AUDITOR, return_id, criterion_id, second)


def _top_theme(factory: SessionFactory, audit_id: int, prefer: str = "") -> str | None:
    """The theme the demo's learning is written about, if the panel tagged it; else the
    most widespread one."""
    recurring = [t.code for t in theme_analysis.recurring_themes(factory, audit_id)]
    if prefer in recurring:
        return prefer
    return recurring[0] if recurring else None


def load_learning(
    factory: SessionFactory,
    today: dt.date,
    previous: AuditDetail,
    current: AuditDetail,
    domestic: AuditDetail,
    cse_definition: ToolDefinition,
) -> None:
    """Themes, double grading, the learning log and the action plan for the demo audits."""
    for detail in (previous, current, domestic):
        tag_audit(factory, detail.id)
    double_grade(factory, current.id, cse_definition)

    # Last year's audit: learning shared, acted on, signed off; one action still overdue.
    last_year = previous.audit_day or today - dt.timedelta(days=365)
    code = _top_theme(factory, previous.id, prefer="missing-children")
    if code is not None:
        draft = learning.draft_from_theme(factory, previous.id, code, today=last_year)
        item = learning.create_learning_item(
            factory,
            CHAIR,
            draft.model_copy(
                update={
                    "learning": (
                        "Return home interviews were offered late or not at all after "
                        "missing episodes, and what children said in them was not shared "
                        "with the agencies holding the risk."
                    ),
                    "reaudit_on": last_year + dt.timedelta(days=365),
                }
            ),
        )
        learning.update_learning_item(
            factory,
            SUBGROUP,
            item.id,
            LearningItemChange(
                shared_how=(SharedHow.BRIEFING, SharedHow.TRAINING),
                impact_evidence=(
                    "Dip sample six months on: 9 of 10 interviews offered within 72 hours."
                ),
            ),
        )
        learning.sign_off(factory, SUBGROUP, item.id, last_year + dt.timedelta(days=200))
        rec = actions.add_recommendation(
            factory,
            CHAIR,
            previous.id,
            RecommendationIn(
                text=(
                    "Every missing episode is followed by an independent return home "
                    "interview offered within 72 hours, its findings shared with police "
                    "and the allocated worker."
                ),
                learning_item_ids=(item.id,),
            ),
        )
        done = actions.add_action(
            factory,
            CHAIR,
            ActionIn(
                description="Commission return home interviews from an independent provider",
                owner_name="Head of service, children's social care",
                owner_agency="childrens-social-care",
                due_on=last_year + dt.timedelta(days=120),
                recommendation_id=rec.id,
            ),
            today=last_year,
        )
        actions.update_action(
            factory,
            CHAIR,
            done.id,
            ActionUpdateIn(
                on=last_year + dt.timedelta(days=110),
                text="Provider in place; interviews offered within 72 hours from month two.",
                status=ActionStatus.COMPLETE,
                evidence_of_impact="Monthly returns: 90% of interviews offered within 72 hours.",
            ),
            today=today,
        )
        late = actions.add_action(
            factory,
            CHAIR,
            ActionIn(
                description="Share interview findings with police through the MASH daily meeting",
                owner_name="MASH manager",
                owner_agency="police",
                due_on=today - dt.timedelta(days=40),
                recommendation_id=rec.id,
                escalation_route="MASH board",
            ),
            today=last_year,
        )
        actions.update_action(
            factory,
            CHAIR,
            late.id,
            ActionUpdateIn(
                on=today - dt.timedelta(days=50),
                text="Information-sharing agreement awaiting police legal sign-off.",
                status=ActionStatus.AT_RISK,
            ),
            today=today,
        )

    # This year's audit, being reported: an open item and a fresh action plan.
    code = _top_theme(factory, current.id)
    if code is not None:
        day = current.audit_day or today
        draft = learning.draft_from_theme(factory, current.id, code, today=min(day, today))
        item = learning.create_learning_item(
            factory,
            CHAIR,
            draft.model_copy(
                update={
                    "learning": (
                        "Exploitation was recognised late: older associates, missing "
                        "episodes and school absence were recorded by separate agencies but "
                        "not put together, so no disruption plan was made until a crisis."
                    )
                }
            ),
        )
        rec = actions.add_recommendation(
            factory,
            CHAIR,
            current.id,
            RecommendationIn(
                text=(
                    "Agencies record the child's own account of each missing episode and "
                    "act on it in the exploitation plan."
                ),
                learning_item_ids=(item.id,),
            ),
        )
        for description, owner, agency, days, status in (
            (
                "Add the child's account to the exploitation screening tool",
                "Exploitation lead",
                "childrens-social-care",
                60,
                ActionStatus.ON_TRACK,
            ),
            (
                "Brief GP practices on exploitation indicators and referral routes",
                "Named GP for safeguarding",
                "gp",
                90,
                None,
            ),
            (
                "Re-audit strategy meetings after repeat missing episodes",
                "Audit panel chair",
                "childrens-social-care",
                -3,
                ActionStatus.AT_RISK,
            ),
        ):
            row = actions.add_action(
                factory,
                CHAIR,
                ActionIn(
                    description=description,
                    owner_name=owner,
                    owner_agency=agency,
                    due_on=today + dt.timedelta(days=days),
                    recommendation_id=rec.id,
                ),
                today=today,
            )
            if status is not None:
                actions.update_action(
                    factory,
                    CHAIR,
                    row.id,
                    ActionUpdateIn(on=today, text="Reviewed at the subgroup.", status=status),
                    today=today,
                )

    # Learning from other strands, which the log holds beside the audits'.
    learning.create_learning_item(
        factory,
        SUBGROUP,
        LearningItemIn(
            raised_on=today - dt.timedelta(days=120),
            source=LearningSource.CASE_REVIEW,
            learning=(
                "Professionals accepted a parent's account without curiosity; the baby's "
                "father was not seen or assessed, and no one checked his history."
            ),
            evidence="Rapid review, anonymised: key practice episodes 3 to 5.",
            themes=tuple(
                s.code
                for s in suggest_themes(
                    "professional curiosity; father not seen or assessed; history not checked",
                    themes.list_themes(factory, active_only=True),
                    limit=2,
                )
            ),
            agencies=("childrens-social-care", "community-health"),
            shared_how=(SharedHow.NEWSLETTER,),
            reaudit_on=today + dt.timedelta(days=240),
        ),
    )
    learning.create_learning_item(
        factory,
        SUBGROUP,
        LearningItemIn(
            raised_on=today - dt.timedelta(days=30),
            source=LearningSource.FAMILY_FEEDBACK,
            learning=(
                "Parents said they were told about the plan but never asked what would help; "
                "meetings were held at times they could not attend."
            ),
            evidence="Family feedback survey, 14 responses, summarised without names.",
            agencies=("early-help",),
        ),
    )
