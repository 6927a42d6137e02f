"""The content of the Word and spreadsheet exports, gathered from the store through the services.

Each function fills one schema of `schemas.reports` and nothing here draws a document. The
rules stay where they live: an agency's heading grade is `matrix.case_moderation`'s median,
"favourable" is the overview's better half of the scale, what improved or declined is
`theme_analysis.compare_with_previous`'s, overdue is `actions`'. What is only gathered here
(cohort tallies, excerpts of what auditors wrote, voices) is read in one read-only unit of work.

Cases appear by their pseudonymous reference only: the store holds no name and no date of birth.
"""

from __future__ import annotations

import datetime as dt
import enum
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy import literal, select

from schemas.audit import (
    AgeBand,
    AuditDetail,
    AuditStatus,
    CaseOut,
    Gender,
    LevelOfNeed,
    ReturnStatus,
    Send,
    VoiceSource,
    value_label,
)
from schemas.learning import (
    ActionOut,
    ActionStatus,
    AuditComparison,
    CriterionComparison,
    LearningFilter,
    LearningItemOut,
    RecommendationOut,
    RecurringTheme,
)
from schemas.reports import (
    DEFAULT_MARKING,
    AuditDone,
    AuditInfo,
    AuditReportData,
    BriefingData,
    CohortCase,
    CohortSummary,
    DocumentMeta,
    Excerpt,
    GradeRow,
    LearningLogData,
    LearningLogEntry,
    LevelInfo,
    ModeratedCase,
    ModeratedHeadingOut,
    PlannedAudit,
    ScaleInfo,
    SectionFindings,
    SubgroupSummaryData,
    Tally,
    VoiceQuote,
)
from schemas.tools import NOT_APPLICABLE, NOT_EVIDENCED, GradeScale, ToolDefinition, ToolKind
from workbench.services import (
    access,
    actions,
    agreement,
    audits,
    learning,
    matrix,
    overview,
    theme_analysis,
    themes,
)
from workbench.services.errors import InvalidRequestError, NotFoundError
from workbench.services.tools import audit_definition, definition_of
from workbench.services.unit import SessionFactory, unit_of_work
from workbench.store.models import (
    Agency,
    AgencyReturn,
    Audit,
    Case,
    Finding,
    Recommendation,
    RecommendationLearningItem,
    Theme,
    ToolVersion,
    Voice,
)

DEFAULT_PARTNERSHIP = "Safeguarding children partnership"
ALL_AGENCIES = "All agencies"
# A one-page briefing keeps each quoted excerpt to a couple of lines.
BRIEFING_EXCERPT_CHARS = 220
BRIEFING_THEMES = 2
BRIEFING_EXAMPLES = 4
BRIEFING_RECOMMENDATIONS = 5
BRIEFING_QUESTIONS = 3
BRIEFING_QUESTION_CHARS = 90
SUMMARY_THEMES = 3

_VOICE_LABELS = {
    VoiceSource.CHILD: "Child",
    VoiceSource.FAMILY: "Family",
    VoiceSource.PRACTITIONER: "Practitioner",
}
_REPORT_SUBTITLES = {
    ToolKind.MULTI_AGENCY: "Multi-agency case file audit report",
    ToolKind.SINGLE_AGENCY: "Single-agency case file audit report",
    ToolKind.SECTION_11: "Section 11 self-assessment report",
    ToolKind.FACILITATED_DISCUSSION: "Facilitated discussion report",
}
_KIND_LABELS = {
    ToolKind.MULTI_AGENCY: "Multi-agency audit",
    ToolKind.SINGLE_AGENCY: "Single-agency audit",
    ToolKind.SECTION_11: "Section 11 self-assessment",
    ToolKind.FACILITATED_DISCUSSION: "Facilitated discussion",
}
_MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")


# --- small shared pieces ------------------------------------------------------------------------


def _meta(
    title: str,
    *,
    subtitle: str,
    author: str,
    today: dt.date,
    marking: str,
    prepared_for: str,
    partnership: str,
    subject: str,
    keywords: Iterable[str],
) -> DocumentMeta:
    return DocumentMeta(
        title=title,
        subtitle=subtitle,
        partnership=partnership.strip() or DEFAULT_PARTNERSHIP,
        author=author,
        prepared_for=prepared_for,
        protective_marking=marking.strip() or DEFAULT_MARKING,
        # Midnight of `today`: the same day gives the same document properties.
        created=dt.datetime.combine(today, dt.time(), tzinfo=dt.UTC),
        subject=subject,
        keywords=tuple(dict.fromkeys(k for k in keywords if k)),
    )


def scale_info(scale: GradeScale) -> ScaleInfo:
    """The scale as a document shows it, with the overview's favourable levels."""
    shown = overview.scale_overview(scale)
    return ScaleInfo(
        id=shown.id,
        title=shown.title,
        levels=tuple(LevelInfo(key=lv.key, label=lv.label, short=lv.short) for lv in shown.levels),
        favourable=shown.favourable,
        favourable_label=shown.favourable_label,
        not_applicable_label=scale.not_applicable_label,
        not_evidenced_label=scale.not_evidenced_label,
    )


def grade_row(label: str, counts: Counter[str], scale: GradeScale) -> GradeRow:
    """Counts aligned to the scale's levels, best first; the non-grade answers apart."""
    return GradeRow(
        label=label,
        counts=tuple(counts[level.key] for level in scale.levels),
        not_applicable=counts[NOT_APPLICABLE],
        not_evidenced=counts[NOT_EVIDENCED],
    )


def _favourable(row: GradeRow, info: ScaleInfo) -> int:
    return sum(
        n for level, n in zip(info.levels, row.counts, strict=True) if level.key in info.favourable
    )


def _flat(text: str) -> str:
    return " ".join(text.split())


def _first_sentence(text: str) -> str:
    flat = _flat(text)
    return _SENTENCE_END.split(flat, maxsplit=1)[0] if flat else ""


def _lower_first(text: str) -> str:
    # "Were indicators..." reads on as "were indicators..."; "MARAC ..." keeps its capitals.
    if len(text) > 1 and text[0].isupper() and not text[1].isupper():
        return text[0].lower() + text[1:]
    return text


def _plural(n: int, word: str, plural: str | None = None) -> str:
    return f"{n} {word if n == 1 else plural or word + 's'}"


def _name(names: dict[str, str], code: str) -> str:
    return names.get(code, code)


def _day(day: dt.date, *, long: bool = False) -> str:
    """'1 Oct 2025' (or '1 October 2025'), whatever the machine's locale."""
    month = _MONTHS[day.month - 1]
    return f"{day.day} {month if long else month[:3]} {day.year}"


def _look_back(detail: AuditDetail) -> str:
    months = _plural(detail.look_back_months, "month")
    end = detail.look_back_end
    return f"{months} to {_day(end)}" if end else months


def _by_name(codes: Iterable[str], names: dict[str, str]) -> tuple[str, ...]:
    return tuple(sorted((_name(names, c) for c in set(codes)), key=str.casefold))


def _kind_label(kind: ToolKind) -> str:
    return _KIND_LABELS[kind]


# --- one audit's facts ----------------------------------------------------------------------------


@dataclass(frozen=True)
class _FindingRow:
    case_reference: str
    agency: str
    criterion_id: str
    grade: str | None
    strengths: str
    areas_for_development: str


@dataclass(frozen=True)
class _VoiceRow:
    id: int
    case_reference: str
    source: VoiceSource
    text: str


@dataclass(frozen=True)
class _AuditFacts:
    detail: AuditDetail
    definition: ToolDefinition
    agency_names: dict[str, str]
    theme_labels: dict[str, str]
    findings: tuple[_FindingRow, ...]
    voices: tuple[_VoiceRow, ...]
    submitted: dict[str, tuple[str, ...]]
    """Case reference -> names of the agencies whose return for it is submitted."""

    @property
    def scale(self) -> GradeScale:
        return self.definition.scale

    def name(self, code: str) -> str:
        return _name(self.agency_names, code)

    def criterion_position(self) -> dict[str, int]:
        return {c.id: i for i, c in enumerate(self.definition.tool.criteria)}


def _load_facts(factory: SessionFactory, audit_id: int) -> _AuditFacts:
    detail = audits.get_audit(factory, audit_id)
    with unit_of_work(factory) as session:
        definition = audit_definition(session, audit_id)
        if definition is None:  # pragma: no cover - get_audit has just found it
            raise NotFoundError(f"no audit with id {audit_id}")
        names = dict(session.execute(select(Agency.code, Agency.name)).all())
        # The subgroup may export the briefing but reads no case-level text: for it the
        # findings carry their grades only (no quoted strengths or areas), and no voices.
        with_text = access.reads_case_text(session)
        findings = tuple(
            _FindingRow(ref, agency, criterion, grade, strengths or "", areas or "")
            for ref, agency, criterion, grade, strengths, areas in session.execute(
                select(
                    Case.reference,
                    AgencyReturn.agency_code,
                    Finding.criterion_id,
                    Finding.grade,
                    Finding.strengths if with_text else literal(""),
                    Finding.areas_for_development if with_text else literal(""),
                )
                .join(AgencyReturn, AgencyReturn.id == Finding.return_id)
                .join(Case, Case.id == AgencyReturn.case_id)
                .where(Case.audit_id == audit_id)
                .order_by(Case.reference, AgencyReturn.agency_code, Finding.criterion_id)
            )
        )
        voices = tuple(
            _VoiceRow(voice_id, ref, VoiceSource(source), said or "")
            for voice_id, ref, source, said in (
                session.execute(
                    select(Voice.id, Case.reference, Voice.source, Voice.text)
                    .join(Case, Case.id == Voice.case_id)
                    .where(Case.audit_id == audit_id)
                    .order_by(Case.reference, Voice.id)
                )
                if with_text
                else ()
            )
        )
        submitted: dict[str, list[str]] = {}
        for ref, agency in session.execute(
            select(Case.reference, AgencyReturn.agency_code)
            .join(Case, Case.id == AgencyReturn.case_id)
            .where(
                Case.audit_id == audit_id,
                AgencyReturn.status == ReturnStatus.SUBMITTED.value,
            )
        ):
            submitted.setdefault(ref, []).append(agency)
        theme_labels = dict(session.execute(select(Theme.code, Theme.label)).all())
    return _AuditFacts(
        detail=detail,
        definition=definition,
        agency_names=names,
        theme_labels=theme_labels,
        findings=findings,
        voices=voices,
        submitted={ref: _by_name(codes, names) for ref, codes in submitted.items()},
    )


def _audit_learning(factory: SessionFactory, audit_id: int) -> tuple[LearningItemOut, ...]:
    items = [i for i in learning.list_learning(factory) if i.audit_id == audit_id]
    return tuple(sorted(items, key=lambda i: (i.raised_on, i.reference)))


def _grade_rows(facts: _AuditFacts) -> tuple[tuple[GradeRow, ...], GradeRow]:
    per_agency: dict[str, Counter[str]] = {code: Counter() for code in facts.detail.agencies}
    overall: Counter[str] = Counter()
    for f in facts.findings:
        if f.grade is None:
            continue
        per_agency.setdefault(f.agency, Counter())[f.grade] += 1
        overall[f.grade] += 1
    rows = sorted(
        (grade_row(facts.name(code), counts, facts.scale) for code, counts in per_agency.items()),
        key=lambda r: r.label.casefold(),
    )
    return tuple(rows), grade_row(ALL_AGENCIES, overall, facts.scale)


def _tallies(values: Iterable[enum.Enum], order: Iterable[enum.Enum]) -> tuple[Tally, ...]:
    counts = Counter(values)
    return tuple(Tally(label=value_label(v), count=counts[v]) for v in order if counts[v])


def cohort_summary(cases: Sequence[CaseOut], agencies: tuple[str, ...]) -> CohortSummary:
    """The cohort without identifiers: tallies in the order the planning form lists them
    (ethnicity, written freely, by count and then alphabetically); zero counts left out."""
    ethnicity = Counter(c.ethnicity for c in cases)
    return CohortSummary(
        cases=len(cases),
        by_level_of_need=_tallies((c.level_of_need for c in cases), LevelOfNeed),
        by_age_band=_tallies((c.age_band for c in cases), AgeBand),
        by_gender=_tallies((c.gender for c in cases), Gender),
        by_ethnicity=tuple(
            Tally(label=label, count=n)
            for label, n in sorted(ethnicity.items(), key=lambda kv: (-kv[1], kv[0].casefold()))
        ),
        by_send=_tallies((c.send for c in cases), Send),
        agencies=agencies,
    )


def _cohort_cases(facts: _AuditFacts) -> tuple[CohortCase, ...]:
    return tuple(
        CohortCase(
            reference=c.reference,
            level_of_need=value_label(c.level_of_need),
            age_band=value_label(c.age_band),
            gender=value_label(c.gender),
            ethnicity=c.ethnicity,
            send=value_label(c.send),
            agencies=facts.submitted.get(c.reference, ()),
        )
        for c in facts.detail.cases
    )


def _moderated(factory: SessionFactory, facts: _AuditFacts) -> tuple[ModeratedCase, ...]:
    """Each case's headings as the panel left them, each agency's own grade kept beside.

    A heading nobody graded (no agency grade, no moderated grade, no reasons) is left out."""
    info = scale_info(facts.scale)
    out = []
    for case in facts.detail.cases:
        sheet = matrix.case_moderation(factory, case.id)
        headings = []
        for heading in sheet.headings:
            reasons = heading.reasons.strip()
            if (
                heading.grade is None
                and not reasons
                and all(a.grade is None for a in heading.agency_grades)
            ):
                continue
            headings.append(
                ModeratedHeadingOut(
                    heading=heading.label,
                    agency_grades=tuple(
                        sorted(
                            (
                                (facts.name(a.agency_code), info.label(a.grade))
                                for a in heading.agency_grades
                            ),
                            key=lambda pair: pair[0].casefold(),
                        )
                    ),
                    grade=None if heading.grade is None else info.label(heading.grade),
                    reasons=reasons,
                )
            )
        out.append(
            ModeratedCase(
                reference=sheet.reference,
                level_of_need=value_label(sheet.level_of_need),
                headings=tuple(headings),
            )
        )
    return tuple(out)


def _excerpt(facts: _AuditFacts, f: _FindingRow, text: str) -> Excerpt:
    return Excerpt(
        case_reference=f.case_reference,
        agency=facts.name(f.agency),
        criterion_id=f.criterion_id,
        text=text.strip(),
    )


def _sections(facts: _AuditFacts) -> tuple[SectionFindings, ...]:
    """Every non-empty strength and area for development, by section, then criterion (the
    tool's order), case reference and agency name."""
    position = facts.criterion_position()
    ordered = sorted(
        (f for f in facts.findings if f.criterion_id in position),
        key=lambda f: (position[f.criterion_id], f.case_reference, facts.name(f.agency).casefold()),
    )
    out = []
    for section in facts.definition.tool.sections:
        ids = {c.id for c in section.criteria}
        mine = [f for f in ordered if f.criterion_id in ids]
        out.append(
            SectionFindings(
                title=section.title,
                strengths=tuple(
                    _excerpt(facts, f, f.strengths) for f in mine if f.strengths.strip()
                ),
                areas_for_development=tuple(
                    _excerpt(facts, f, f.areas_for_development)
                    for f in mine
                    if f.areas_for_development.strip()
                ),
            )
        )
    return tuple(out)


def _voices(facts: _AuditFacts) -> tuple[VoiceQuote, ...]:
    order = {source: i for i, source in enumerate(VoiceSource)}
    rows = sorted(
        (v for v in facts.voices if v.text.strip()),
        key=lambda v: (v.case_reference, order[v.source], v.id),
    )
    return tuple(
        VoiceQuote(
            case_reference=v.case_reference, source=_VOICE_LABELS[v.source], text=v.text.strip()
        )
        for v in rows
    )


def _audit_info(facts: _AuditFacts) -> AuditInfo:
    detail, tool = facts.detail, facts.definition.tool
    return AuditInfo(
        title=detail.title,
        tool_title=tool.title,
        tool_version=tool.version,
        theme=tool.theme,
        status=value_label(detail.status),
        scope=detail.scope.strip(),
        look_back=_look_back(detail),
        audit_day=detail.audit_day,
        chair=detail.chair,
        agencies=_by_name(detail.agencies, facts.agency_names),
    )


def _what_it_tests(facts: _AuditFacts) -> str:
    """The first sentence of the tool's description, said of the audit; else its theme.

    The rest of a description tells auditors how to audit, which is method, not purpose."""
    tool = facts.definition.tool
    first = _first_sentence(tool.description)
    if not first:
        return f"This audit looked at {_lower_first(tool.theme)}."
    word = first.split(" ", 1)[0]
    # "Tests how well agencies..." is the tool speaking: "This audit tests how well...".
    if word.endswith("s") and word.isalpha() and word not in {"This", "Its", "Is", "As"}:
        return "This audit " + _lower_first(first)
    return first


def _purpose(facts: _AuditFacts) -> str:
    tool, detail = facts.definition.tool, facts.detail
    parts = [
        _what_it_tests(facts),
        f"It used the {tool.title} (version {tool.version}, theme: {tool.theme}) with "
        f"{_plural(len(detail.cases), 'case')} and "
        f"{_plural(len(detail.agencies), 'agency', 'agencies')}.",
    ]
    if detail.scope.strip():
        parts.append(f"Scope: {_flat(detail.scope)}")
    return " ".join(parts)


def _codes_named(
    names: dict[str, str],
    action_rows: Iterable[ActionOut],
    items: Iterable[LearningItemOut] = (),
) -> tuple[tuple[str, str], ...]:
    codes = {a.owner_agency for a in action_rows}
    for item in items:
        codes.update(item.agencies)
    return tuple((code, _name(names, code)) for code in sorted(codes))


def _labels_of(labels: dict[str, str], codes: Iterable[str]) -> tuple[tuple[str, str], ...]:
    return tuple((code, labels.get(code, code)) for code in sorted(set(codes)))


def report_subtitle(kind: ToolKind) -> str:
    return _REPORT_SUBTITLES[kind]


def audit_report_data(
    factory: SessionFactory,
    audit_id: int,
    *,
    author: str,
    today: dt.date,
    marking: str,
    prepared_for: str = "",
    partnership: str = DEFAULT_PARTNERSHIP,
) -> AuditReportData:
    """DOMAIN.md's audit report for one audit, everything counted and worded."""
    facts = _load_facts(factory, audit_id)
    tool = facts.definition.tool
    by_agency, overall = _grade_rows(facts)
    items = _audit_learning(factory, audit_id)
    action_rows = tuple(actions.list_actions(factory, today=today, audit_id=audit_id))
    recurring = tuple(theme_analysis.recurring_themes(factory, audit_id))
    theme_codes = {t.code for t in recurring} | {c for i in items for c in i.themes}
    return AuditReportData(
        meta=_meta(
            facts.detail.title,
            subtitle=report_subtitle(tool.kind),
            author=author,
            today=today,
            marking=marking,
            prepared_for=prepared_for,
            partnership=partnership,
            subject=tool.theme,
            keywords=(tool.theme, tool.title, "case file audit"),
        ),
        audit=_audit_info(facts),
        purpose=_purpose(facts),
        scale=scale_info(facts.scale),
        cohort=cohort_summary(
            facts.detail.cases, _by_name(facts.detail.agencies, facts.agency_names)
        ),
        by_agency=by_agency,
        overall=overall,
        moderated=_moderated(factory, facts),
        sections=_sections(facts),
        comparison=theme_analysis.compare_with_previous(factory, audit_id),
        themes=recurring,
        voices=_voices(facts),
        agreement=(
            agreement.agreement(factory, audit_id, agreement.Comparison.DOUBLE_GRADING),
            agreement.agreement(factory, audit_id, agreement.Comparison.AGENCY_VS_MODERATED),
        ),
        learning=items,
        recommendations=tuple(actions.list_recommendations(factory, audit_id)),
        actions=action_rows,
        cohort_cases=_cohort_cases(facts),
        agency_names=_codes_named(facts.agency_names, action_rows, items),
        theme_labels=_labels_of(facts.theme_labels, theme_codes),
    )


# --- the one-page briefing ----------------------------------------------------------------------


@dataclass(frozen=True)
class _CriterionShare:
    criterion_id: str
    question: str
    graded: int
    favourable: int
    position: int

    @property
    def share(self) -> float:
        return self.favourable / self.graded


def _criterion_shares(facts: _AuditFacts) -> list[_CriterionShare]:
    """Per criterion with graded findings: how many carry a level, how many a favourable one."""
    favourable = set(theme_analysis.favourable_keys(facts.scale))
    levels = {level.key for level in facts.scale.levels}
    graded: Counter[str] = Counter()
    good: Counter[str] = Counter()
    for f in facts.findings:
        if f.grade in levels:
            graded[f.criterion_id] += 1
            good[f.criterion_id] += f.grade in favourable
    return [
        _CriterionShare(c.id, c.question, graded[c.id], good[c.id], i)
        for i, c in enumerate(facts.definition.tool.criteria)
        if graded[c.id]
    ]


def _quoted(facts: _AuditFacts, f: _FindingRow, text: str) -> str:
    return (
        f"{matrix.excerpt(text, BRIEFING_EXCERPT_CHARS)} "
        f"— {facts.name(f.agency)}, case {f.case_reference}"
    )


def _examples(
    facts: _AuditFacts, pick: str, *, best_first: bool, limit: int = BRIEFING_EXAMPLES
) -> list[str]:
    """Up to `limit` quoted excerpts of one field, from the best (or worst) graded findings.

    One per criterion, and from different agencies and cases while there are any, so the
    page shows several things, not one thing several times."""
    position = facts.criterion_position()
    worst = len(facts.scale.levels) + 1

    def rank(f: _FindingRow) -> int:
        r = facts.scale.rank(f.grade) if f.grade else None
        if r is None:
            return worst + 1  # unanswered or not a level: after every level either way
        return r if best_first else worst - r

    candidates = sorted(
        (f for f in facts.findings if getattr(f, pick).strip() and f.criterion_id in position),
        key=lambda f: (
            rank(f),
            position[f.criterion_id],
            f.case_reference,
            facts.name(f.agency).casefold(),
        ),
    )
    chosen: list[_FindingRow] = []
    for strict in (True, False):
        for f in candidates:
            if len(chosen) == limit:
                break
            if any(f.criterion_id == c.criterion_id for c in chosen):
                continue
            if strict and any(
                f.agency == c.agency or f.case_reference == c.case_reference for c in chosen
            ):
                continue
            chosen.append(f)
    chosen.sort(key=candidates.index)
    return [_quoted(facts, f, getattr(f, pick)) for f in chosen]


def _why_it_matters(facts: _AuditFacts) -> str:
    first = _what_it_tests(facts)
    second = _first_sentence(facts.detail.scope)
    return f"{first} {second}" if second else first


def _points(c: CriterionComparison) -> tuple[float, str]:
    return ((c.favourable_now or 0.0) - (c.favourable_before or 0.0), c.criterion_id)


def _short_question(question: str) -> str:
    return "\u201c" + matrix.excerpt(question, BRIEFING_QUESTION_CHARS) + "\u201d"


def _what_we_found(
    facts: _AuditFacts,
    overall: GradeRow,
    recurring: Sequence[RecurringTheme],
    comparison: AuditComparison,
    shares: Sequence[_CriterionShare],
) -> list[str]:
    info = scale_info(facts.scale)
    cases = len(facts.detail.cases)
    found = [
        f"We audited {_plural(cases, 'case')} with "
        f"{_plural(len(facts.detail.agencies), 'agency', 'agencies')}: "
        f"{_plural(overall.graded, 'finding was', 'findings were')} graded on the {info.title}."
    ]
    if not overall.graded:
        found.append("No finding has been graded yet.")
    else:
        favourable = _favourable(overall, info)
        found.append(
            f"{favourable / overall.graded:.0%} of graded findings ({favourable} of "
            f"{overall.graded}) were {info.favourable_label.lower()}."
        )
    for theme in recurring[:BRIEFING_THEMES]:
        found.append(
            f"{theme.label} recurred in {theme.cases} of {_plural(cases, 'case')}, across "
            f"{_plural(theme.agencies, 'agency', 'agencies')}."
        )
    if comparison.previous_audit_id is not None:
        improved = comparison.with_change("improved")
        declined = comparison.with_change("declined")
        line = (
            f"Since the previous audit ({comparison.previous_title}), "
            f"{_plural(len(improved), 'criterion', 'criteria')} improved and "
            f"{len(declined)} declined (by {theme_analysis.MEANINGFUL_POINTS:.0f} points or "
            f"more in the share graded {info.favourable_label.lower()})"
        )
        if improved:
            best = max(improved, key=_points)
            line += f"; most improved: {_short_question(best.question)}"
        if declined:
            worst = min(declined, key=_points)
            line += f"; most declined: {_short_question(worst.question)}"
        found.append(line + ".")
    if len(found) < 3 and shares:
        weakest = min(shares, key=lambda s: (s.share, -s.graded, s.position))
        found.append(
            f"The weakest criterion was {weakest.criterion_id}: {weakest.share:.0%} of its "
            f"graded findings were {info.favourable_label.lower()}."
        )
    if len(found) < 3:
        found.append("No recurring theme has been tagged yet.")
    return found


def _to_do_differently(
    facts: _AuditFacts, recommendations: Sequence[RecommendationOut]
) -> list[str]:
    texts = [_flat(r.text) for r in recommendations if r.text.strip()]
    if len(texts) > BRIEFING_RECOMMENDATIONS:
        rest = len(texts) - (BRIEFING_RECOMMENDATIONS - 1)
        return [
            *texts[: BRIEFING_RECOMMENDATIONS - 1],
            f"And {_plural(rest, 'more recommendation')} in the full report.",
        ]
    if texts:
        return texts
    return _examples(facts, "areas_for_development", best_first=False)


def _questions(facts: _AuditFacts, shares: Sequence[_CriterionShare]) -> list[str]:
    """The criteria that fared worst (lowest favourable share; then more findings; then the
    tool's order), asked of the reader's own practice."""
    worst = sorted(shares, key=lambda s: (s.share, -s.graded, s.position))[:BRIEFING_QUESTIONS]
    questions = [s.question for s in worst] or [
        c.question for c in facts.definition.tool.criteria[:BRIEFING_QUESTIONS]
    ]
    return [f"In your own cases: {_lower_first(_flat(q))}" for q in questions]


def briefing_data(
    factory: SessionFactory,
    audit_id: int,
    *,
    author: str,
    today: dt.date,
    marking: str,
    prepared_for: str = "",
    partnership: str = DEFAULT_PARTNERSHIP,
) -> BriefingData:
    """The one-page lessons learnt / 7-minute briefing for one audit."""
    facts = _load_facts(factory, audit_id)
    tool, detail = facts.definition.tool, facts.detail
    _, overall = _grade_rows(facts)
    recurring = theme_analysis.recurring_themes(factory, audit_id)
    comparison = theme_analysis.compare_with_previous(factory, audit_id)
    recommendations = actions.list_recommendations(factory, audit_id)
    items = _audit_learning(factory, audit_id)
    shares = _criterion_shares(facts)

    good = _examples(facts, "strengths", best_first=True)
    more = [f"The full audit report: {detail.title} ({report_subtitle(tool.kind).lower()})"]
    if items:
        more.append("Learning log: " + ", ".join(i.reference for i in items))
    more.append(f"The audit tool: {tool.title}, version {tool.version}")
    return BriefingData(
        meta=_meta(
            f"Lessons learnt: {detail.title}",
            subtitle="Seven-minute briefing",
            author=author,
            today=today,
            marking=marking,
            prepared_for=prepared_for,
            partnership=partnership,
            subject=tool.theme,
            keywords=(tool.theme, "lessons learnt", "seven-minute briefing"),
        ),
        audit_title=detail.title,
        why_it_matters=_why_it_matters(facts),
        what_we_found=tuple(_what_we_found(facts, overall, recurring, comparison, shares)),
        what_good_looks_like=tuple(good),
        what_to_do_differently=tuple(_to_do_differently(facts, recommendations)),
        questions_for_reflection=tuple(_questions(facts, shares)),
        where_to_find_more=tuple(more),
    )


# --- the learning log ----------------------------------------------------------------------------


def _recommendations_by_id(
    factory: SessionFactory, ids: Iterable[int]
) -> dict[int, RecommendationOut]:
    wanted = sorted(set(ids))
    if not wanted:
        return {}
    with unit_of_work(factory) as session:
        rows = session.execute(
            select(
                Recommendation.id,
                Recommendation.audit_id,
                Recommendation.number,
                Recommendation.text,
            ).where(Recommendation.id.in_(wanted))
        ).all()
        links: dict[int, list[int]] = {}
        for rec_id, item_id in session.execute(
            select(
                RecommendationLearningItem.recommendation_id,
                RecommendationLearningItem.learning_item_id,
            ).where(RecommendationLearningItem.recommendation_id.in_(wanted))
        ):
            links.setdefault(rec_id, []).append(item_id)
    return {
        rec_id: RecommendationOut(
            id=rec_id,
            audit_id=audit_id,
            number=number,
            text=text,
            learning_item_ids=tuple(sorted(links.get(rec_id, ()))),
        )
        for rec_id, audit_id, number, text in rows
    }


def _selection(
    where: LearningFilter | None,
    chosen: Sequence[LearningItemOut] | None,
    theme_labels: dict[str, str],
    names: dict[str, str],
    count: int,
) -> str:
    parts = []
    if where is not None:
        if where.text.strip():
            parts.append(f"words: {_flat(where.text)}")
        if where.theme:
            parts.append(f"theme: {theme_labels.get(where.theme, where.theme)}")
        if where.agency:
            parts.append(f"agency: {_name(names, where.agency)}")
        if where.source:
            parts.append(f"source: {where.source.label}")
        if where.status:
            parts.append(f"status: {value_label(where.status)}")
    if chosen is not None:
        refs = sorted(i.reference for i in chosen)
        parts.append("items: " + (", ".join(refs) if refs else "none"))
    what = "; ".join(parts) if parts else "the whole learning log"
    return f"{what} ({_plural(count, 'item')})"


def learning_log_data(
    factory: SessionFactory,
    where: LearningFilter | None = None,
    item_ids: Sequence[int] | None = None,
    *,
    author: str,
    today: dt.date,
    marking: str,
    prepared_for: str = "",
    partnership: str = DEFAULT_PARTNERSHIP,
) -> LearningLogData:
    """Learning log items (filtered, hand-picked, or both), newest first as the log lists them,
    each with its theme labels, agency names, linked recommendations and their actions."""
    items = learning.list_learning(factory, where)
    chosen: list[LearningItemOut] | None = None
    if item_ids is not None:
        wanted = set(item_ids)
        everything = items if where is None else learning.list_learning(factory)
        unknown = sorted(wanted - {i.id for i in everything})
        if unknown:
            raise NotFoundError(f"no learning item with id {', '.join(map(str, unknown))}")
        chosen = [i for i in everything if i.id in wanted]
        items = [i for i in items if i.id in wanted]
    theme_labels = {t.code: t.label for t in themes.list_themes(factory)}
    names = {a.code: a.name for a in audits.list_agencies(factory)}
    recommendations = _recommendations_by_id(factory, (r for i in items for r in i.recommendations))
    all_actions = actions.list_actions(factory, today=today) if recommendations else []
    entries = []
    for item in items:
        recs = tuple(
            sorted(
                (recommendations[r] for r in item.recommendations if r in recommendations),
                key=lambda r: (r.audit_id, r.number),
            )
        )
        linked = {r.id for r in recs}
        entries.append(
            LearningLogEntry(
                item=item,
                theme_labels=tuple(theme_labels.get(code, code) for code in item.themes),
                agency_names=_by_name(item.agencies, names),
                recommendations=recs,
                actions=tuple(a for a in all_actions if a.recommendation_id in linked),
            )
        )
    description = _selection(where, chosen, theme_labels, names, len(entries))
    entry_actions = [a for e in entries for a in e.actions]
    return LearningLogData(
        meta=_meta(
            "Learning log",
            subtitle=description[:1].upper() + description[1:],
            author=author,
            today=today,
            marking=marking,
            prepared_for=prepared_for,
            partnership=partnership,
            subject="Learning log",
            keywords=("learning log", *(label for e in entries for label in e.theme_labels)),
        ),
        description=description,
        entries=tuple(entries),
        agency_names=_codes_named(names, entry_actions, items),
    )


# --- the subgroup's six-monthly summary ---------------------------------------------------------


def _completed_on(action: ActionOut) -> dt.date | None:
    """When a complete action was completed: the date of its latest update (the status only
    moves with an update)."""
    if action.status is not ActionStatus.COMPLETE or not action.updates:
        return None
    return max(u.on for u in action.updates)


def _tool_kinds(factory: SessionFactory) -> dict[int, ToolKind]:
    with unit_of_work(factory) as session:
        return {
            audit_id: definition_of(row).tool.kind
            for audit_id, row in session.execute(
                select(Audit.id, ToolVersion).join(
                    ToolVersion, ToolVersion.id == Audit.tool_version_id
                )
            )
        }


def _percent(share: float | None) -> str:
    return "no graded findings" if share is None else f"{share:.0%}"


def subgroup_summary_data(
    factory: SessionFactory,
    start: dt.date,
    end: dt.date,
    *,
    author: str,
    today: dt.date,
    marking: str,
    prepared_for: str = "",
    partnership: str = DEFAULT_PARTNERSHIP,
) -> SubgroupSummaryData:
    """The Learning and Improvement subgroup's summary of one period (both days included)."""
    if start > end:
        raise InvalidRequestError("the period ends before it starts")
    summaries = {s.id: s for s in audits.list_audits(factory)}
    seen = overview.overview(factory, today=today)
    kinds = _tool_kinds(factory)
    names = {a.code: a.name for a in audits.list_agencies(factory)}
    theme_labels = {t.code: t.label for t in themes.list_themes(factory)}
    scales = {s.id: s for s in seen.scales}

    def chronological(audit_id: int) -> tuple[dt.date, str, int]:
        s = summaries[audit_id]
        return (s.audit_day or dt.date.max, s.title.casefold(), s.id)

    in_period = sorted(
        (a.id for a in seen.audits if a.audit_day is not None and start <= a.audit_day <= end),
        key=chronological,
    )
    by_id = {a.id: a for a in seen.audits}
    done: list[AuditDone] = []
    discussions: list[AuditDone] = []
    declined: list[str] = []
    theme_codes: set[str] = set()
    for audit_id in in_period:
        s, o = summaries[audit_id], by_id[audit_id]
        scale = scales[o.scale_id]
        recurring = theme_analysis.recurring_themes(factory, audit_id)[:SUMMARY_THEMES]
        theme_codes.update(t.code for t in recurring)
        row = AuditDone(
            title=s.title,
            tool_title=s.tool_title,
            kind=_kind_label(kinds[audit_id]),
            audit_day=s.audit_day,
            status=value_label(s.status),
            cases=s.cases,
            agencies=s.agencies,
            favourable_share=o.grades.favourable_share,
            favourable_label=scale.favourable_label,
            top_themes=tuple(f"{t.label} ({t.cases} of {s.cases} cases)" for t in recurring),
            recommendations=tuple(
                _flat(r.text) for r in actions.list_recommendations(factory, audit_id)
            ),
        )
        (discussions if kinds[audit_id] is ToolKind.FACILITATED_DISCUSSION else done).append(row)
        comparison = theme_analysis.compare_with_previous(factory, audit_id)
        for c in comparison.with_change("declined"):
            declined.append(
                f"{s.title}: {c.criterion_id} declined from {_percent(c.favourable_before)} to "
                f"{_percent(c.favourable_now)} {scale.favourable_label.lower()} since "
                f"{comparison.previous_title}: {matrix.excerpt(c.question, 140)}"
            )

    items = sorted(
        (i for i in learning.list_learning(factory) if start <= i.raised_on <= end),
        key=lambda i: (i.raised_on, i.reference),
    )
    every_action = actions.list_actions(factory, today=today)
    action_rows = tuple(
        a
        for a in every_action
        if a.status is not ActionStatus.COMPLETE
        or ((on := _completed_on(a)) is not None and start <= on <= end)
    )
    forward = sorted(
        (
            s
            for s in summaries.values()
            if (s.audit_day is not None and s.audit_day > end)
            or s.status is AuditStatus.PLANNING
            or (s.audit_day is None and s.status is not AuditStatus.CLOSED)
        ),
        key=lambda s: chronological(s.id),
    )
    board = [
        f"Overdue by {_plural(a.days_overdue, 'day')}: {_flat(a.description)} "
        f"(Action: {a.owner_name}, {_name(names, a.owner_agency)})"
        + (f", from {a.audit_title}" if a.audit_title else "")
        + f"; escalation route: {a.escalation_route or 'none recorded'}."
        for a in every_action
        if a.overdue
    ]
    board.append(
        "No immediate concern is open."
        if seen.open_concerns == 0
        else f"{_plural(seen.open_concerns, 'immediate concern')} still open, "
        "escalated outside the audits and tracked to closure."
    )
    board.extend(declined)
    return SubgroupSummaryData(
        meta=_meta(
            "Learning and Improvement subgroup summary",
            subtitle=f"{_day(start, long=True)} to {_day(end, long=True)}",
            author=author,
            today=today,
            marking=marking,
            prepared_for=prepared_for,
            partnership=partnership,
            subject="Subgroup summary",
            keywords=("subgroup summary", "case file audits", "learning log"),
        ),
        period_start=start,
        period_end=end,
        audits=tuple(done),
        facilitated_discussions=tuple(discussions),
        learning=tuple(items),
        actions=action_rows,
        forward_plan=tuple(
            PlannedAudit(
                title=s.title,
                tool_title=s.tool_title,
                audit_day=s.audit_day,
                returns_due=s.returns_due,
                status=value_label(s.status),
            )
            for s in forward
        ),
        for_the_board=tuple(board),
        agency_names=_codes_named(names, action_rows, items),
        theme_labels=_labels_of(
            theme_labels, theme_codes | {code for i in items for code in i.themes}
        ),
    )


__all__ = [
    "audit_report_data",
    "briefing_data",
    "cohort_summary",
    "grade_row",
    "learning_log_data",
    "scale_info",
    "subgroup_summary_data",
    "value_label",
]
