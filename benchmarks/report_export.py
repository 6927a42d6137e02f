"""Figure: the whole audit report as a Word document against a bare python-docx script.

The report is rendered from AuditReportData built here by hand (seeded, no database): an
audit of 10 cases, 8 agencies and 12 criteria, with every strength and area for development
the returns hold, moderation, agreement, themes, voices, learning and the action plan.

The baseline writes the same document with python-docx's public API and nothing else:
the same paragraphs (same text, same style), the same tables (same rows and cells) and the
same two chart images, in the same order, then saves it. Its script is read off the rendered
report before timing (`blocks`), and the two files are checked to hold the same blocks, so
the baseline cannot drift from the report as the renderer changes. What it leaves out is
what the house style adds on top: the marked header and footer, document properties, numbered
caption fields, the contents field, column widths, number alignment and run formatting.

The baseline embeds the chart PNGs the renderer drew (exports.charts, once, before timing)
while the report draws them on every run: the value pays for matplotlib and the baseline
does not, so the ratio is, if anything, harsher than a like-for-like script would be.
"""

from __future__ import annotations

import datetime as dt
import io
import random
import statistics
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass

from docx import Document
from docx.document import Document as DocxDocument
from docx.oxml.ns import qn
from docx.shared import Emu
from docx.table import Table
from docx.text.paragraph import Paragraph

from benchmarks.data import AGENCIES, Answers, cse_definition
from benchmarks.report import Figure, seconds
from benchmarks.timing import compare, stopwatch
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
    SharedHow,
    ThemeComparison,
)
from schemas.reports import (
    AuditInfo,
    AuditReportData,
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

NAME = "report-export"
TARGET = 1.5
LIMIT = 2.0
CASES, AGENCY_COUNT = 10, 8
QUICK_CASES, QUICK_AGENCY_COUNT = 3, 4
CRITERIA = 12
SEED = 2026

AGENCY_NAMES = {
    "acute-health": "Acute health trust (A&E, maternity)",
    "camhs": "CAMHS",
    "childrens-social-care": "Children's social care",
    "gp": "General practice (GP)",
    "police": "Police",
    "school": "Schools",
    "sexual-health": "Sexual health services",
    "youth-justice": "Youth justice",
}
THEMES = (
    ("missing-children", "Missing children"),
    ("exploitation", "Exploitation and disruption"),
    ("voice-of-the-child", "Voice of the child"),
    ("information-sharing", "Information sharing"),
    ("professional-curiosity", "Professional curiosity"),
    ("risk-assessment", "Risk assessment"),
    ("management-oversight", "Management oversight and supervision"),
    ("drift-delay", "Drift and delay"),
    ("education", "Education: attendance, exclusion and SEND"),
)
CREATED = dt.datetime(2026, 4, 2, 9, 0, tzinfo=dt.UTC)
AUDIT_DAY = dt.date(2026, 3, 12)
ALL_AGENCIES = "All agencies"

_REASONS = (
    "The screening tool was completed only after the third missing episode, although the "
    "indicators were recorded by two agencies a month earlier.",
    "Agencies shared information promptly and the strategy meeting was held within two "
    "working days with every agency present.",
    "The plan named owners and timescales, but it was not reviewed when the risk rose and "
    "the child's own view of what would help was not sought.",
    "Good relationship-based work by the youth worker kept the child engaged; the panel "
    "agreed the police grade was generous given the gaps in the intelligence picture.",
    "Records show the concern but no action for six weeks; the panel graded down from the "
    "agencies' own grades because the delay left the child at risk.",
    "The school's designated safeguarding lead escalated twice; the threshold decision at "
    "the front door was not explained to the referrer.",
)
_VOICES = (
    "I only told the school nurse because she asked me properly and didn't rush me.",
    "Nobody asked me why I kept going missing, they just brought me back.",
    "We kept ringing and being passed on. I needed one person who knew her.",
    "She trusts her youth worker more than anyone; that relationship is what kept her safe "
    "over the summer.",
    "I didn't think of it as exploitation then. He bought me things and said he loved me.",
    "The meetings were about her, not with her; she stopped coming after the second one.",
)
_LEARNING = (
    "Indicators of exploitation were recorded by several agencies but not brought together, "
    "so no single agency saw the pattern until the child was already at significant risk.",
    "Return home interviews were offered late or not at all, and when they were held the "
    "information was not passed to the social worker or the police missing person coordinator.",
    "Where the child's own words were recorded, plans were more specific and the child stayed "
    "engaged; this was the exception rather than the rule.",
    "Supervision records rarely challenged drift: plans stayed unchanged for months while new "
    "incidents were logged.",
)
_RECOMMENDATIONS = (
    "The partnership should agree a single exploitation screening tool and require its review "
    "after every missing episode.",
    "Agencies should share missing information with the allocated social worker on the same "
    "working day.",
    "Supervision in every agency should record the child's voice and test the plan against "
    "new incidents.",
    "The front door should tell referrers what was decided and why, within three working days.",
    "Schools should be invited to every strategy meeting about a child on their roll.",
)
_ACTIONS = (
    "Publish the revised screening tool and guidance on the partnership website",
    "Add a same-day missing notification to the police and social care protocol",
    "Run two multi-agency workshops on recording the child's voice",
    "Audit ten supervision records per agency for challenge of drift",
    "Introduce referrer feedback letters at the front door",
)
_OWNERS = ("J. Patel", "S. Okafor", "M. Nowak", "R. Hughes", "L. Byrne", "A. Clarke")


def scale() -> ScaleInfo:
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


def meta(title: str, subtitle: str, subject: str) -> DocumentMeta:
    return DocumentMeta(
        title=title,
        subtitle=subtitle,
        partnership="Northshire Safeguarding Children Partnership",
        author="partnership.manager",
        prepared_for="Learning and Improvement subgroup",
        created=CREATED,
        subject=subject,
        keywords=("CSE", "case audit"),
    )


@dataclass(frozen=True)
class _Finding:
    case: str
    agency: str
    criterion: str
    grade: str | None
    strengths: str
    areas_for_development: str


_STRENGTH_LEADS = (
    "Prompt referral and clear recording of the indicators seen:",
    "Persistent, relationship-based work kept the child engaging;",
    "Good information sharing with the school and police:",
    "The child's voice is recorded in her own words;",
    "Risk was reviewed and raised after the missing episode:",
    "Supervision challenged drift and set clear, dated actions:",
)
_DEVELOPMENT_LEADS = (
    "Review the screening tool after each missing episode:",
    "Record the reasons for the risk level, not just the level;",
    "Share absence information with the social worker the same day:",
    "Avoid language that implies the child chose the risk;",
    "Escalate when a referral receives no response within a week:",
    "Bring health into the strategy discussion from the start:",
)
DUPLICATE_SHARE = 0.15
"""How often an auditor's note is a stock phrase another return also used (the report
gathers those into one bullet); the rest name what this record showed."""


def _note(rng: random.Random, drawn: str, leads: Sequence[str], evidence: str) -> str:
    """A strength or area for development as auditors write them: mostly about the record in
    hand, so seldom word for word the same as another's; empty when none was drawn."""
    if not drawn:
        return ""
    if rng.random() < DUPLICATE_SHARE:
        return drawn
    return f"{rng.choice(leads)} {evidence[:1].lower()}{evidence[1:]}"


def _label(value: str) -> str:
    return value.replace("-", " ").replace("_", " ").capitalize()


def _tallies(values: Sequence[str]) -> tuple[Tally, ...]:
    counts: dict[str, int] = {}
    for value in values:
        counts[value] = counts.get(value, 0) + 1
    return tuple(Tally(label=k, count=n) for k, n in sorted(counts.items()))


def _grade_row(label: str, grades: Sequence[str | None], info: ScaleInfo) -> GradeRow:
    return GradeRow(
        label=label,
        counts=tuple(sum(1 for g in grades if g == level.key) for level in info.levels),
        not_applicable=sum(1 for g in grades if g == "not_applicable"),
        not_evidenced=sum(1 for g in grades if g == "not_evidenced"),
    )


def _share(grades: Sequence[str | None], info: ScaleInfo) -> float | None:
    levels = {level.key for level in info.levels}
    graded = [g for g in grades if g in levels]
    return sum(1 for g in graded if g in info.favourable) / len(graded) if graded else None


def _agreement_figure(group: str, rng: random.Random, pairs: int) -> AgreementFigure:
    agreed = rng.randint(pairs // 2, pairs) if pairs else 0
    return AgreementFigure(
        group=group,
        pairs=pairs,
        agreed=agreed,
        percent_agreement=100 * agreed / pairs if pairs else None,
        kappa=round(rng.uniform(0.15, 0.9), 3) if pairs else None,
        not_applicable=rng.randint(0, 3),
        not_evidenced=rng.randint(0, 3),
        unanswered=rng.randint(0, 2),
    )


def _action(number: int, rng: random.Random, agencies: Sequence[str]) -> ActionOut:
    status = rng.choice(list(ActionStatus))
    due = AUDIT_DAY + dt.timedelta(days=rng.randrange(30, 270))
    return ActionOut(
        id=number,
        audit_id=2,
        audit_title="CSE multi-agency audit, March 2026",
        recommendation_id=1 + number % len(_RECOMMENDATIONS),
        recommendation_number=1 + number % len(_RECOMMENDATIONS),
        description=rng.choice(_ACTIONS),
        owner_name=rng.choice(_OWNERS),
        owner_agency=rng.choice(agencies),
        due_on=due,
        status=status,
        evidence_of_impact="",
        escalation_route="",
        created_by="partnership.manager",
        overdue=False,
        days_overdue=0,
    )


def report_data(cases: int, agency_count: int, *, seed: int = SEED) -> AuditReportData:
    """One CSE audit's report data: `cases` x `agency_count` x 12 criteria of findings."""
    definition = cse_definition()
    rng = random.Random(seed)
    answers = Answers(definition, rng)
    info = scale()
    criteria = definition.tool.criteria[:CRITERIA]
    wanted = {c.id for c in criteria}
    position = {c.id: i for i, c in enumerate(criteria)}
    sections = [
        (s.title, [c.id for c in s.criteria if c.id in wanted])
        for s in definition.tool.sections
        if any(c.id in wanted for c in s.criteria)
    ]
    codes = AGENCIES[:agency_count]
    names = [AGENCY_NAMES[c] for c in codes]
    references = [f"CSE-26-{n:03d}" for n in range(1, cases + 1)]
    profiles = [answers.profile() for _ in references]

    findings: list[_Finding] = []
    for reference in references:
        for code in codes:
            for criterion in criteria:
                a = answers.draw()
                findings.append(
                    _Finding(
                        reference,
                        AGENCY_NAMES[code],
                        criterion.id,
                        a.grade,
                        _note(rng, a.strengths, _STRENGTH_LEADS, a.evidence),
                        _note(rng, a.areas_for_development, _DEVELOPMENT_LEADS, a.evidence),
                    )
                )
    ordered = sorted(findings, key=lambda f: (position[f.criterion], f.case, f.agency.casefold()))

    def excerpts(ids: Sequence[str], field: str) -> tuple[Excerpt, ...]:
        return tuple(
            Excerpt(case_reference=f.case, agency=f.agency, criterion_id=f.criterion, text=text)
            for f in ordered
            if f.criterion in ids and (text := str(getattr(f, field)))
        )

    moderated = tuple(
        ModeratedCase(
            reference=reference,
            level_of_need=_label(profile["level_of_need"]),
            headings=tuple(
                ModeratedHeadingOut(
                    heading=title,
                    agency_grades=tuple(
                        sorted(
                            (f.agency, info.label(f.grade))
                            for f in findings
                            if f.case == reference and f.criterion == ids[0]
                        )
                    ),
                    grade=rng.choice([lv.label for lv in info.levels]),
                    reasons=rng.choice(_REASONS),
                )
                for title, ids in sections
            ),
        )
        for reference, profile in zip(references, profiles, strict=True)
    )

    themes = tuple(
        RecurringTheme(
            code=code,
            label=label,
            cases=max(1, cases - i),
            agencies=max(1, agency_count - i // 2),
            findings=rng.randint(5, 40),
            voices=rng.randint(0, 4),
            moderation=rng.randint(0, cases),
            finding_ids=tuple(sorted(rng.sample(range(1, len(findings) + 1), 5))),
        )
        for i, (code, label) in enumerate(THEMES)
    )
    comparison = AuditComparison(
        audit_id=2,
        previous_audit_id=1,
        previous_title="CSE multi-agency audit, March 2025",
        scale_id=info.id,
        criteria=tuple(
            CriterionComparison(
                criterion_id=c.id,
                question=c.question,
                graded_now=len(graded := [f.grade for f in findings if f.criterion == c.id]),
                graded_before=len(graded) - 3,
                favourable_now=(now := _share(graded, info)),
                favourable_before=(before := round(rng.uniform(0.2, 0.8), 2)),
                change=(
                    "not comparable"
                    if now is None
                    else "improved"
                    if now > before + 0.05
                    else "declined"
                    if now < before - 0.05
                    else "unchanged"
                ),
            )
            for c in criteria
        ),
        themes=tuple(
            ThemeComparison(code=t.code, label=t.label, cases_now=t.cases, cases_before=t.cases - 1)
            for t in themes
        ),
    )
    voices = tuple(
        VoiceQuote(case_reference=reference, source=source, text=rng.choice(_VOICES))
        for reference in references
        for source in ("Child", "Family")
    )
    agreement = tuple(
        AgreementReport(
            audit_id=2,
            comparison=kind,
            scale_id=info.id,
            ordered=True,
            by_item=tuple(_agreement_figure(item, rng, cases * 2) for item in items),
            by_agency=tuple(_agreement_figure(name, rng, cases * 4) for name in sorted(names)),
            overall=_agreement_figure("Overall", rng, cases * 4 * len(names)),
        )
        for kind, items in (
            ("double-grading", [c.id for c in criteria]),
            ("agency-vs-moderated", [title for title, _ in sections]),
        )
    )
    learning = tuple(
        LearningItemOut(
            id=n,
            reference=f"LL-2026-{n:03d}",
            raised_on=AUDIT_DAY,
            source=LearningSource.CASE_AUDIT,
            audit_id=2,
            audit_title="CSE multi-agency audit, March 2026",
            learning=text,
            evidence="Seen in most of the cases audited, across health, police and schools.",
            themes=(THEMES[n - 1][0],),
            agencies=codes[:2],
            shared_how=(SharedHow.BRIEFING,),
            impact_evidence="",
            reaudit_on=AUDIT_DAY + dt.timedelta(days=365),
            status=LearningStatus.OPEN,
            signed_off_by=None,
            signed_off_on=None,
            created_by="partnership.manager",
            evidence_links=tuple(
                EvidenceLink(
                    finding_id=i,
                    case_reference=findings[i].case,
                    agency=findings[i].agency,
                    criterion_id=findings[i].criterion,
                    grade=info.label(findings[i].grade),
                )
                for i in rng.sample(range(len(findings)), 3)
            ),
            recommendations=(n,),
        )
        for n, text in enumerate(_LEARNING, start=1)
    )
    recommendations = tuple(
        RecommendationOut(
            id=n,
            audit_id=2,
            number=n,
            text=text,
            learning_item_ids=(n,) if n <= len(learning) else (),
        )
        for n, text in enumerate(_RECOMMENDATIONS, start=1)
    )
    cohort = CohortSummary(
        cases=cases,
        by_level_of_need=_tallies([_label(p["level_of_need"]) for p in profiles]),
        by_age_band=_tallies([p["age_band"] for p in profiles]),
        by_gender=_tallies([_label(p["gender"]) for p in profiles]),
        by_ethnicity=_tallies([p["ethnicity"] for p in profiles]),
        by_send=_tallies([_label(p["send"]) for p in profiles]),
        agencies=tuple(names),
    )
    return AuditReportData(
        meta=meta(
            "CSE multi-agency case file audit",
            "Multi-agency case file audit report",
            "Child sexual exploitation",
        ),
        audit=AuditInfo(
            title="CSE multi-agency audit, March 2026",
            tool_title=definition.tool.title,
            tool_version=definition.tool.version,
            theme=definition.tool.theme,
            status="Reporting",
            scope="Children open to services for CSE risk in the look-back period.",
            look_back="12 months to 31 Jan 2026",
            audit_day=AUDIT_DAY,
            chair="Panel chair",
            agencies=tuple(sorted(names)),
        ),
        purpose=(
            "This audit tests how well agencies recognise and respond to the sexual "
            f"exploitation of children. It used the {definition.tool.title} with "
            f"{cases} cases and {agency_count} agencies.\n\nScope: children open to services "
            "for CSE risk in the look-back period."
        ),
        scale=info,
        cohort=cohort,
        by_agency=tuple(
            _grade_row(name, [f.grade for f in findings if f.agency == name], info)
            for name in sorted(names, key=str.casefold)
        ),
        overall=_grade_row(ALL_AGENCIES, [f.grade for f in findings], info),
        moderated=moderated,
        sections=tuple(
            SectionFindings(
                title=title,
                strengths=excerpts(ids, "strengths"),
                areas_for_development=excerpts(ids, "areas_for_development"),
            )
            for title, ids in sections
        ),
        comparison=comparison,
        themes=themes,
        voices=voices,
        agreement=agreement,
        learning=learning,
        recommendations=recommendations,
        actions=tuple(_action(n, rng, codes) for n in range(1, 2 * len(_RECOMMENDATIONS) + 1)),
        cohort_cases=tuple(
            CohortCase(
                reference=reference,
                level_of_need=_label(p["level_of_need"]),
                age_band=p["age_band"],
                gender=_label(p["gender"]),
                ethnicity=p["ethnicity"],
                send=_label(p["send"]),
                agencies=tuple(names),
            )
            for reference, p in zip(references, profiles, strict=True)
        ),
        agency_names=tuple((c, AGENCY_NAMES[c]) for c in codes),
        theme_labels=THEMES,
    )


# --- the bare python-docx script: what a document holds, and writing it back -----------------


@dataclass(frozen=True)
class Para:
    text: str
    style: str | None
    """None for the default paragraph style, as a script would leave it."""
    page_break: bool = False


@dataclass(frozen=True)
class Picture:
    png: bytes
    width: int
    """EMU, as the drawing's extent records it."""


@dataclass(frozen=True)
class Grid:
    style: str | None
    rows: tuple[tuple[str, ...], ...]


Block = Para | Picture | Grid


def blocks(docx: bytes) -> list[Block]:
    """The body of a .docx as paragraphs (text and style), tables (cells) and pictures."""
    document = Document(io.BytesIO(docx))
    part = document.part
    names = {style.style_id: style.name for style in document.styles}
    out: list[Block] = []
    for child in document.element.body.iterchildren():
        if child.tag == qn("w:p"):
            embeds = child.xpath(".//a:blip/@r:embed")
            if embeds:
                extents = child.xpath(".//wp:extent/@cx")
                out.extend(
                    Picture(part.related_parts[rid].blob, int(cx))
                    for rid, cx in zip(embeds, extents, strict=True)
                )
                continue
            paragraph = Paragraph(child, document._body)
            style_id = child.style
            style = names.get(style_id) if style_id else None
            breaks = child.xpath('.//w:br[@w:type="page"]')
            out.append(Para(paragraph.text, None if style == "Normal" else style, bool(breaks)))
        elif child.tag == qn("w:tbl"):
            grid = Table(child, document._body)
            style_name = grid.style.name if grid.style is not None else None
            out.append(
                Grid(style_name, tuple(tuple(c.text for c in row.cells) for row in grid.rows))
            )
    return out


def write_bare(script: Sequence[Block], pngs: Sequence[bytes] | None = None) -> bytes:
    """The blocks written with python-docx's public API and nothing else, then saved; the
    pictures' PNGs, when given, in place of those the blocks hold (in the same order)."""
    document: DocxDocument = Document()
    drawn = iter(pngs or ())
    for block in script:
        if isinstance(block, Para):
            if block.page_break and not block.text:
                document.add_page_break()  # type: ignore[no-untyped-call]
            else:
                document.add_paragraph(block.text, style=block.style)
        elif isinstance(block, Picture):
            png = next(drawn) if pngs is not None else block.png
            document.add_picture(io.BytesIO(png), width=Emu(block.width))
        else:
            header, *rows = block.rows
            grid = document.add_table(rows=1, cols=len(header))
            if block.style is not None:
                grid.style = block.style
            for cell, text in zip(grid.rows[0].cells, header, strict=True):
                cell.text = text
            for values in rows:
                cells = grid.add_row().cells
                for cell, text in zip(cells, values, strict=True):
                    cell.text = text
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def script_of(rendered: bytes, what: str) -> list[Block]:
    """The rendered file's blocks, once the bare script is seen to write exactly those."""
    script = blocks(rendered)
    if blocks(write_bare(script)) != script:
        raise RuntimeError(f"{what}: the bare python-docx script does not write the same blocks")
    return script


def describe(script: Sequence[Block]) -> str:
    paragraphs = sum(1 for b in script if isinstance(b, Para))
    tables = [b for b in script if isinstance(b, Grid)]
    pictures = sum(1 for b in script if isinstance(b, Picture))
    cells = sum(len(row) for t in tables for row in t.rows)
    return f"{paragraphs:,} paragraphs, {len(tables)} tables ({cells:,} cells), {pictures} pictures"


def charts(data: AuditReportData) -> list[bytes]:
    """The report's two charts, drawn with the calls and arguments the renderer uses."""
    from exports.charts import grade_distribution_chart, theme_frequency_chart

    return [
        grade_distribution_chart([*data.by_agency, data.overall], data.scale),
        theme_frequency_chart(data.themes, data.cohort.cases),
    ]


def run(quick: bool) -> Figure:
    from exports.audit_report import audit_report_docx

    cases, agency_count = (QUICK_CASES, QUICK_AGENCY_COUNT) if quick else (CASES, AGENCY_COUNT)
    repeats = 3 if quick else 7
    print(
        f"  building report data: {cases} cases x {agency_count} agencies x {CRITERIA} criteria",
        file=sys.stderr,
    )
    data = report_data(cases, agency_count)
    # Read the baseline's script off the report, then check it writes the same document and
    # draws the very PNGs the report embeds.
    rendered = audit_report_docx(data)
    script = script_of(rendered, NAME)
    embedded = [b.png for b in script if isinstance(b, Picture)]
    if charts(data) != embedded or len(embedded) != 2:
        raise RuntimeError(f"{NAME}: the baseline's charts are not the report's two charts")

    chart_seconds: list[float] = []

    def bare() -> float:
        start = time.perf_counter()
        pngs = charts(data)
        drawn = time.perf_counter()
        write_bare(script, pngs)
        chart_seconds.append(drawn - start)
        return time.perf_counter() - start

    medians = compare(lambda: stopwatch(lambda: audit_report_docx(data)), bare, repeats=repeats)
    drawing = statistics.median(chart_seconds)
    findings = cases * agency_count * CRITERIA
    return Figure(
        name=NAME,
        measures=(
            f"audit_report_docx: {cases} cases x {agency_count} agencies x {CRITERIA} criteria "
            f"({findings:,} findings), both charts drawn; {describe(script)}, "
            f"{len(rendered) / 1024:,.0f} KiB"
        ),
        baseline_measures=(
            "bare python-docx (Document, add_paragraph, add_table + cell.text, add_picture, "
            "save) writing the same paragraphs, tables and pictures, the two charts drawn by "
            "the same exports.charts calls"
        ),
        value=medians.value,
        baseline=medians.baseline,
        target=TARGET,
        repeats=medians.repeats,
        note=(
            f"drawing the two charts takes {seconds(drawing)} of each run; against a baseline "
            f"that embeds them pre-drawn the ratio would be "
            f"{medians.value / max(medians.baseline - drawing, 1e-9):.2f}x"
        ),
        limit=LIMIT,
    )
