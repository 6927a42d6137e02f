"""Report data built by hand, as the services would hand it over: no database here.

The numbers are chosen so that every table's expected cells can be worked out from these
objects in the tests independently of exports/ (sums, labels, order). Two sentinels mark
text that must appear in one section only.
"""

from __future__ import annotations

import datetime as dt

import pytest

from schemas.learning import (
    ActionOut,
    ActionStatus,
    AgreementFigure,
    AgreementReport,
    AuditComparison,
    CriterionComparison,
    EvidenceLink,
    LearningItemOut,
    LearningSource,
    LearningStatus,
    RecommendationOut,
    RecurringTheme,
    ThemeComparison,
)
from schemas.reports import (
    AuditInfo,
    AuditReportData,
    BriefingData,
    CohortCase,
    CohortSummary,
    DocumentMeta,
    Excerpt,
    GradeRow,
    LevelInfo,
    ModeratedCase,
    ModeratedHeadingOut,
    ScaleInfo,
    SectionFindings,
    Tally,
    VoiceQuote,
)

STRENGTH_SENTINEL = "Zephyrine-strength-7431"
VOICE_SENTINEL = "Quillon-voice-2208"
MARKING = "OFFICIAL-SENSITIVE"
CREATED = dt.datetime(2026, 3, 20, 9, 30)


def ofsted_scale() -> ScaleInfo:
    return ScaleInfo(
        id="ofsted-4",
        title="Ofsted four-point scale",
        levels=(
            LevelInfo(key="outstanding", label="Outstanding", short="1 Outst."),
            LevelInfo(key="good", label="Good", short="2 Good"),
            LevelInfo(
                key="requires_improvement", label="Requires improvement to be good", short="3 RI"
            ),
            LevelInfo(key="inadequate", label="Inadequate", short="4 Inad."),
        ),
        favourable=("outstanding", "good"),
        favourable_label="Good or better",
        not_applicable_label="Not applicable",
        not_evidenced_label="Not evidenced in the record",
    )


def meta(title: str = "CSE multi-agency case file audit", **changes: object) -> DocumentMeta:
    values: dict[str, object] = {
        "title": title,
        "subtitle": "Report of the audit day, 12 March 2026",
        "partnership": "Northshire Safeguarding Children Partnership",
        "author": "Jo Lead",
        "prepared_for": "Learning and Improvement subgroup",
        "protective_marking": MARKING,
        "created": CREATED,
        "subject": "Child sexual exploitation",
        "keywords": ("CSE", "case audit"),
    }
    values.update(changes)
    return DocumentMeta.model_validate(values)


AGENCIES = ("Children's social care", "Police", "School", "CAMHS")


def _row(label: str, counts: tuple[int, ...], na: int, ne: int) -> GradeRow:
    return GradeRow(label=label, counts=counts, not_applicable=na, not_evidenced=ne)


BY_AGENCY = (
    _row("Children's social care", (1, 5, 3, 1), 2, 1),
    _row("Police", (0, 3, 4, 2), 1, 3),
    _row("School", (2, 4, 1, 0), 4, 0),
    _row("CAMHS", (0, 2, 2, 1), 0, 2),
)
OVERALL = _row(
    "All agencies",
    tuple(sum(row.counts[i] for row in BY_AGENCY) for i in range(4)),
    sum(row.not_applicable for row in BY_AGENCY),
    sum(row.not_evidenced for row in BY_AGENCY),
)


def _excerpt(reference: str, agency: str, criterion: str, text: str) -> Excerpt:
    return Excerpt(case_reference=reference, agency=agency, criterion_id=criterion, text=text)


def _figure(group: str, pairs: int, agreed: int, kappa: float | None) -> AgreementFigure:
    return AgreementFigure(
        group=group,
        pairs=pairs,
        agreed=agreed,
        percent_agreement=100 * agreed / pairs if pairs else None,
        kappa=kappa,
        not_applicable=1,
        not_evidenced=2,
        unanswered=0,
    )


def _learning(
    item_id: int, reference: str, learning: str, links: tuple[EvidenceLink, ...]
) -> LearningItemOut:
    return LearningItemOut(
        id=item_id,
        reference=reference,
        raised_on=dt.date(2026, 3, 12),
        source=LearningSource.CASE_AUDIT,
        audit_id=7,
        audit_title="CSE audit 2026",
        learning=learning,
        evidence="Seen in two of the four cases.",
        themes=("missing",),
        agencies=("police",),
        shared_how=(),
        impact_evidence="",
        reaudit_on=dt.date(2027, 3, 1),
        status=LearningStatus.OPEN,
        signed_off_by=None,
        signed_off_on=None,
        created_by="Jo Lead",
        evidence_links=links,
        recommendations=(1,),
    )


def _action(
    action_id: int,
    description: str,
    owner: str,
    agency: str,
    due: dt.date,
    status: ActionStatus,
    recommendation: int | None,
    overdue_days: int = 0,
) -> ActionOut:
    return ActionOut(
        id=action_id,
        audit_id=7,
        audit_title="CSE audit 2026",
        recommendation_id=recommendation,
        recommendation_number=recommendation,
        description=description,
        owner_name=owner,
        owner_agency=agency,
        due_on=due,
        status=status,
        evidence_of_impact="",
        escalation_route="",
        created_by="Jo Lead",
        overdue=overdue_days > 0,
        days_overdue=overdue_days,
    )


def build_report_data() -> AuditReportData:
    scale = ofsted_scale()
    return AuditReportData(
        meta=meta(),
        audit=AuditInfo(
            title="CSE audit 2026",
            tool_title="Child sexual exploitation audit tool",
            tool_version=2,
            theme="Child sexual exploitation",
            status="reporting",
            scope="Children open to two or more agencies with a CSE screening in the period.",
            look_back="12 months to 28 February 2026",
            audit_day=dt.date(2026, 3, 12),
            chair="Sam Chair",
            agencies=AGENCIES,
        ),
        purpose="To learn how well agencies recognised and responded to CSE together.\n\n"
        "The findings inform the partnership's CSE strategy.",
        scale=scale,
        cohort=CohortSummary(
            cases=4,
            by_level_of_need=(
                Tally(label="Early help", count=1),
                Tally(label="Child in need", count=1),
                Tally(label="Child protection", count=2),
            ),
            by_age_band=(Tally(label="11-13", count=1), Tally(label="14-15", count=3)),
            by_gender=(Tally(label="Female", count=3), Tally(label="Male", count=1)),
            by_ethnicity=(
                Tally(label="White British", count=2),
                Tally(label="Mixed heritage", count=2),
            ),
            by_send=(Tally(label="SEN support", count=1), Tally(label="None", count=3)),
            agencies=AGENCIES,
        ),
        by_agency=BY_AGENCY,
        overall=OVERALL,
        moderated=(
            ModeratedCase(
                reference="CSE-26-01",
                level_of_need="Child protection",
                headings=(
                    ModeratedHeadingOut(
                        heading="Recognition of need and risk",
                        agency_grades=(("Police", "Good"), ("School", "Inadequate")),
                        grade="Requires improvement to be good",
                        reasons="Screening tool completed late after the second missing episode.",
                    ),
                    ModeratedHeadingOut(
                        heading="Voice of the child",
                        agency_grades=(),
                        grade=None,
                        reasons="",
                    ),
                ),
            ),
            ModeratedCase(
                reference="CSE-26-02",
                level_of_need="Child in need",
                headings=(
                    ModeratedHeadingOut(
                        heading="Joint working and information sharing",
                        agency_grades=(("Children's social care", "Good"), ("CAMHS", "Good")),
                        grade="Good",
                        reasons="Strategy meeting held within two days with all agencies.",
                    ),
                ),
            ),
        ),
        sections=(
            SectionFindings(
                title="Recognising risk",
                strengths=(
                    _excerpt(
                        "CSE-26-01",
                        "Police",
                        "c1.1",
                        f"Indicators logged on the first contact. {STRENGTH_SENTINEL}",
                    ),
                ),
                areas_for_development=(
                    _excerpt("CSE-26-02", "School", "c1.3", "Exclusions not seen as a risk."),
                ),
            ),
            SectionFindings(
                title="Missing episodes",
                strengths=(),
                areas_for_development=(
                    _excerpt(
                        "CSE-26-01",
                        "Children's social care",
                        "c2.1",
                        "Return-home interview offered after 5 days.",
                    ),
                ),
            ),
        ),
        comparison=AuditComparison(
            audit_id=7,
            previous_audit_id=3,
            previous_title="CSE audit 2024",
            scale_id="ofsted-4",
            criteria=(
                CriterionComparison(
                    criterion_id="c1.1",
                    question="Were indicators recognised?",
                    graded_now=8,
                    graded_before=6,
                    favourable_now=0.75,
                    favourable_before=0.5,
                    change="improved",
                ),
                CriterionComparison(
                    criterion_id="c2.1",
                    question="Was a return-home interview offered within 72 hours?",
                    graded_now=5,
                    graded_before=4,
                    favourable_now=0.2,
                    favourable_before=0.5,
                    change="declined",
                ),
                CriterionComparison(
                    criterion_id="c1.3",
                    question="Were exclusions treated as a risk indicator?",
                    graded_now=4,
                    graded_before=4,
                    favourable_now=0.5,
                    favourable_before=0.5,
                    change="unchanged",
                ),
                CriterionComparison(
                    criterion_id="c3.2",
                    question="Did health recognise and refer?",
                    graded_now=3,
                    graded_before=0,
                    favourable_now=1 / 3,
                    favourable_before=None,
                    change="not comparable",
                ),
            ),
            themes=(
                ThemeComparison(
                    code="missing", label="Missing episodes", cases_now=3, cases_before=1
                ),
            ),
        ),
        themes=(
            RecurringTheme(
                code="missing",
                label="Missing episodes",
                cases=3,
                agencies=3,
                findings=5,
                voices=1,
                moderation=2,
                finding_ids=(1, 2, 3),
            ),
            RecurringTheme(
                code="exclusion",
                label="School exclusion",
                cases=2,
                agencies=1,
                findings=2,
                voices=0,
                moderation=0,
                finding_ids=(4,),
            ),
        ),
        voices=(
            VoiceQuote(
                case_reference="CSE-26-01",
                source="Young person",
                text=f"Nobody asked me why I kept going missing. {VOICE_SENTINEL}",
            ),
            VoiceQuote(
                case_reference="CSE-26-02",
                source="Parent",
                text="The school told us before anyone else did.",
            ),
        ),
        agreement=(
            AgreementReport(
                audit_id=7,
                comparison="agency-vs-moderated",
                scale_id="ofsted-4",
                ordered=True,
                by_item=(_figure("Recognition of need and risk", 6, 4, 0.52),),
                by_agency=(_figure("Police", 4, 3, 0.71), _figure("School", 2, 1, -0.2)),
                overall=_figure("Overall", 6, 4, 0.52),
            ),
            AgreementReport(
                audit_id=7,
                comparison="double-grading",
                scale_id="ofsted-4",
                ordered=True,
                note="no criterion was graded twice",
            ),
        ),
        learning=(
            _learning(
                11,
                "LL-2026-004",
                "Return-home interviews came too late to inform the plan.",
                (
                    EvidenceLink(
                        finding_id=2,
                        case_reference="CSE-26-01",
                        agency="Children's social care",
                        criterion_id="c2.1",
                        grade="Inadequate",
                    ),
                ),
            ),
            _learning(12, "LL-2026-005", "Schools saw exclusion as discipline only.", ()),
        ),
        recommendations=(
            RecommendationOut(
                id=1,
                audit_id=7,
                number=1,
                text="Commission independent return-home interviews within 72 hours.",
                learning_item_ids=(11,),
            ),
            RecommendationOut(
                id=2,
                audit_id=7,
                number=2,
                text="Add exclusion to the CSE screening tool.",
                learning_item_ids=(),
            ),
        ),
        actions=(
            _action(
                1,
                "Re-tender the return-home interview service",
                "Alex Owner",
                "csc",
                dt.date(2026, 6, 30),
                ActionStatus.ON_TRACK,
                1,
            ),
            _action(
                2,
                "Brief head teachers on exclusion as a risk indicator",
                "Pat Head",
                "school",
                dt.date(2026, 3, 1),
                ActionStatus.AT_RISK,
                2,
                overdue_days=19,
            ),
            _action(
                3,
                "Re-audit CSE in a year",
                "Jo Lead",
                "partnership",
                dt.date(2027, 3, 1),
                ActionStatus.NOT_STARTED,
                None,
            ),
        ),
        # 'partnership' is left out on purpose: a code without a name is shown as the code.
        agency_names=(("csc", "Children's social care"), ("school", "School")),
        cohort_cases=(
            CohortCase(
                reference="CSE-26-01",
                level_of_need="Child protection",
                age_band="14-15",
                gender="Female",
                ethnicity="White British",
                send="None",
                agencies=("Police", "School", "Children's social care"),
            ),
            CohortCase(
                reference="CSE-26-02",
                level_of_need="Child in need",
                age_band="14-15",
                gender="Female",
                ethnicity="Mixed heritage",
                send="SEN support",
                agencies=("Children's social care", "CAMHS"),
            ),
            CohortCase(
                reference="CSE-26-03",
                level_of_need="Child protection",
                age_band="11-13",
                gender="Male",
                ethnicity="Mixed heritage",
                send="None",
                agencies=("Police",),
            ),
            CohortCase(
                reference="CSE-26-04",
                level_of_need="Early help",
                age_band="14-15",
                gender="Female",
                ethnicity="White British",
                send="None",
                agencies=("School",),
            ),
        ),
    )


def build_empty_report_data() -> AuditReportData:
    """A first audit with nothing moderated, tagged, heard or agreed yet."""
    full = build_report_data()
    return full.model_copy(
        update={
            "moderated": (),
            "sections": (),
            "comparison": AuditComparison(
                audit_id=7,
                previous_audit_id=None,
                previous_title=None,
                scale_id="ofsted-4",
                note="no earlier audit of Child sexual exploitation audit tool on the same scale",
            ),
            "themes": (),
            "voices": (),
            "agreement": (),
            "learning": (),
            "recommendations": (),
            "actions": (),
            "cohort_cases": (),
        }
    )


def build_briefing_data() -> BriefingData:
    return BriefingData(
        meta=meta("Lessons learnt: child sexual exploitation", subtitle="7-minute briefing"),
        audit_title="CSE audit 2026",
        why_it_matters=(
            "Children who go missing are at greater risk of sexual exploitation; what happens "
            "after each episode decides whether we learn why they went."
        ),
        what_we_found=(
            "Return-home interviews were offered late in three of the four cases.",
            "Schools treated repeated exclusion as a discipline matter only.",
            "Police logged indicators promptly and shared them the same day.",
        ),
        what_good_looks_like=(
            "An independent return-home interview offered within 72 hours.",
            "Exclusion discussed with the lead professional before it happens.",
        ),
        what_to_do_differently=(
            "Record why the child says they went missing, in their words.",
            "Ask for a strategy meeting after a third missing episode.",
        ),
        questions_for_reflection=(
            "When did you last read a return-home interview for a child you work with?",
            "Who would you tell if a child you teach was excluded twice in a term?",
        ),
        where_to_find_more=(
            "The full audit report: CSE audit 2026, on the partnership website.",
            "Missing from home and care protocol, section 4.",
        ),
    )


# The data is immutable (frozen models), so one copy serves the whole run.
@pytest.fixture(scope="session")
def report_data() -> AuditReportData:
    return build_report_data()


@pytest.fixture(scope="session")
def empty_report_data() -> AuditReportData:
    return build_empty_report_data()


@pytest.fixture(scope="session")
def briefing_data() -> BriefingData:
    return build_briefing_data()
