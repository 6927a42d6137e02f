"""The audit report as a Word document, in DOMAIN.md's order, from data already counted.

Every figure comes from AuditReportData as the services computed it; this module only
words and lays it out. Cases appear by pseudonymous reference only. A section with nothing
to show says so in a sentence, so a reader can tell "none" from "left out".
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from pathlib import Path

from docx.document import Document as DocxDocument
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.shared import Pt, RGBColor
from docx.table import Table
from docx.text.paragraph import Paragraph

from exports import document as house
from exports.charts import grade_distribution_chart, theme_frequency_chart
from schemas.learning import (
    ActionOut,
    AgreementFigure,
    AgreementReport,
    AuditComparison,
    CriterionComparison,
    LearningItemOut,
    RecommendationOut,
    kappa_band,
)
from schemas.reports import AuditReportData, Excerpt, GradeRow, Tally

SOURCE_GREY = RGBColor(0x59, 0x59, 0x59)
TEXT_WIDTH_CM = 16.6  # A4 less the house margins
SMALL = Pt(9)
_NUMBER = re.compile(r"^-?\d+(\.\d+)?%?$")
DASH = "—"

COMPARISON_WORDS = {
    "double-grading": "First and second grader (double grading)",
    "agency-vs-moderated": "Each agency's own grade and the panel's moderated grade",
}
CHANGE_ORDER = ("improved", "declined", "unchanged")


def audit_report_docx(data: AuditReportData, template: Path | None = None) -> bytes:
    """The whole report: title page, contents, sections 1 to 12 and the cohort appendix."""
    document = house.new_document(data.meta, template)
    house.title_page(document, data.meta)
    _paragraph(
        document,
        "This report refers to children and families by pseudonymous case reference only; "
        "it contains no names, addresses or dates of birth.",
    )
    _page_break(document)
    house.table_of_contents(document)
    _purpose(document, data)
    _method_and_cohort(document, data)
    _grade_distribution(document, data)
    _moderated(document, data)
    _strengths(document, data)
    _areas_for_development(document, data)
    _themes(document, data)
    _voices(document, data)
    _agreement(document, data)
    _learning(document, data)
    _recommendations(document, data)
    _action_plan(document, data)
    _appendix_cohort(document, data)
    return house.to_bytes(document)


# --- small pieces ----------------------------------------------------------------------------


def _paragraph(document: DocxDocument, text: str, style: str | None = None) -> Paragraph:
    return house.add_paragraph(document, text, style)


def _intro(document: DocxDocument, text: str) -> Paragraph:
    """A sentence introducing the table or list below it, kept on the same page."""
    paragraph = _paragraph(document, text)
    paragraph.paragraph_format.keep_with_next = True
    return paragraph


def _page_break(document: DocxDocument) -> None:
    house.add_page_break(document)


def _heading(document: DocxDocument, text: str, level: int, *, new_page: bool = False) -> Paragraph:
    heading = house.add_heading(document, text, level)
    if new_page:
        heading.paragraph_format.page_break_before = True
    return heading


def _date(day: dt.date | None) -> str:
    return f"{day.day} {day:%B %Y}" if day is not None else "not set"


def _short_date(day: dt.date) -> str:
    return f"{day.day} {day:%b %Y}"


def _share(value: float | None) -> str:
    return DASH if value is None else f"{value * 100:.0f}%"


def _plural(count: int, one: str, many: str | None = None) -> str:
    return f"{count} {one if count == 1 else (many or one + 's')}"


def _joined(words: Sequence[str]) -> str:
    if not words:
        return ""
    if len(words) == 1:
        return words[0]
    return ", ".join(words[:-1]) + " and " + words[-1]


def _align_numbers(grid: Table) -> Table:
    """Numbers right-aligned, so they read down a column."""
    for row in grid.rows[1:]:
        for cell in row.cells:
            if _NUMBER.match(cell.text):
                cell.paragraphs[0].alignment = WD_ALIGN_PARAGRAPH.RIGHT
    return grid


def _small(grid: Table) -> None:
    """Wide tables of figures in a smaller size, so long level labels wrap at word breaks."""
    _align_numbers(grid)
    for row in grid.rows:
        for cell in row.cells:
            for paragraph in cell.paragraphs:
                for run in paragraph.runs:
                    run.font.size = SMALL


def _sentence(text: str) -> str:
    """A service's note ('no earlier audit of ...') as a sentence of the report."""
    text = text.strip().rstrip(".")
    return text[:1].upper() + text[1:] + "."


def _excerpts(document: DocxDocument, excerpts: Sequence[Excerpt]) -> None:
    """One bullet per distinct note, with every return it came from: agencies often record
    the same practice in the same words, and a report that repeats them hides the rest."""
    grouped: dict[str, tuple[str, list[Excerpt]]] = {}
    for excerpt in excerpts:
        text = " ".join(excerpt.text.split())
        grouped.setdefault(text.casefold(), (text, []))[1].append(excerpt)
    for text, sources in grouped.values():
        paragraph = _paragraph(document, text, style="List Bullet")
        where = "; ".join(f"{e.case_reference}, {e.agency}, {e.criterion_id}" for e in sources)
        source = house.add_text(paragraph, f" ({where})")
        source.italic = True
        source.font.color.rgb = SOURCE_GREY


# --- 1 and 2 ---------------------------------------------------------------------------------


def _purpose(document: DocxDocument, data: AuditReportData) -> None:
    audit = data.audit
    _heading(document, "1. Purpose and scope", 1, new_page=True)
    for block in [b.strip() for b in data.purpose.split("\n\n") if b.strip()] or [
        "No statement of purpose was recorded for this audit."
    ]:
        _paragraph(document, block)
    house.table(
        document,
        ("Audit", audit.title),
        [
            ("Theme", audit.theme),
            ("Audit tool", f"{audit.tool_title} (version {audit.tool_version})"),
            ("Scope", audit.scope),
            ("Look-back period", audit.look_back),
            ("Audit day", _date(audit.audit_day)),
            ("Panel chair", audit.chair),
            ("Agencies taking part", _joined(audit.agencies)),
            ("Grade scale", data.scale.title),
        ],
        title="The audit at a glance",
        widths=(4.5, 12.0),
    )


_COHORT_TALLIES = (
    ("Level of need", "by_level_of_need"),
    ("Age band", "by_age_band"),
    ("Gender", "by_gender"),
    ("Ethnicity", "by_ethnicity"),
    ("SEND", "by_send"),
)


def _method_and_cohort(document: DocxDocument, data: AuditReportData) -> None:
    audit, cohort = data.audit, data.cohort
    _heading(document, "2. Method and cohort", 1)
    day = f" on {_date(audit.audit_day)}" if audit.audit_day else ""
    chair = f", chaired by {audit.chair}," if audit.chair else ""
    _paragraph(
        document,
        f"{_plural(cohort.cases, 'case')} {'was' if cohort.cases == 1 else 'were'} audited. "
        f"Each agency involved audited its own records with the {audit.tool_title} "
        f"(version {audit.tool_version}), grading each criterion on the {data.scale.title} "
        "and recording evidence, strengths and areas for development. "
        f"The panel{chair} met{day} to moderate a grade for each case under each heading, "
        "keeping each agency's own grade beside it.",
    )
    _heading(document, "The cohort", 2)
    if cohort.cases == 0:
        _paragraph(document, "No cases were selected for this audit.")
    else:
        rows: list[tuple[str, str, str]] = []
        for characteristic, field in _COHORT_TALLIES:
            tallies: tuple[Tally, ...] = getattr(cohort, field)
            for index, tally in enumerate(tallies):
                rows.append((characteristic if index == 0 else "", tally.label, str(tally.count)))
        cohort_table = house.table(
            document,
            ("Characteristic", "Group", "Cases"),
            rows,
            title=f"The {_plural(cohort.cases, 'case')} by level of need, age band, gender, "
            "ethnicity and SEND",
            widths=(4.0, 9.0, 3.0),
        )
        _align_numbers(cohort_table)
    _heading(document, "Agencies taking part", 2)
    if cohort.agencies:
        house.bullets(document, cohort.agencies)
    else:
        _paragraph(document, "No agency returns were recorded for this audit.")


# --- 3 and 4: grades -------------------------------------------------------------------------


def _grade_widths(levels: int) -> tuple[float, ...]:
    # Label, the levels, Graded, not applicable, not evidenced, filling the A4 text width.
    fixed = (2.6, 1.4, 1.8, 1.9)
    level = max(1.2, (TEXT_WIDTH_CM - sum(fixed)) / max(levels, 1))
    return (fixed[0], *([level] * levels), *fixed[1:])


def _grade_cells(row: GradeRow, levels: int) -> list[str]:
    counts = list(row.counts) + [0] * (levels - len(row.counts))
    return [
        row.label,
        *(str(count) for count in counts[:levels]),
        str(row.graded),
        str(row.not_applicable),
        str(row.not_evidenced),
    ]


def _grade_distribution(document: DocxDocument, data: AuditReportData) -> None:
    scale = data.scale
    _heading(document, "3. Grade distribution", 1)
    _intro(
        document,
        f"Each agency graded each criterion for its own records on the {scale.title}. "
        "The table counts those grades by agency, best level first.",
    )
    rows = [*data.by_agency, data.overall]
    if not data.by_agency and not data.overall.graded:
        _paragraph(document, "No grades were recorded for this audit.")
    else:
        levels = len(scale.levels)
        grades = house.table(
            document,
            (
                "Agency",
                *(level.label for level in scale.levels),
                "Graded",
                scale.not_applicable_label,
                scale.not_evidenced_label,
            ),
            [_grade_cells(row, levels) for row in rows],
            title=f"Grades by agency on the {scale.title} (counts of findings)",
            widths=_grade_widths(levels),
        )
        _small(grades)
        for cell in grades.rows[-1].cells:
            for run in cell.paragraphs[0].runs:
                run.bold = True
        house.figure(
            document,
            grade_distribution_chart(rows, scale),
            f"Grades by agency on the {scale.title}, as shares of each agency's graded findings",
        )
    _paragraph(
        document,
        f"“{scale.not_applicable_label}” and “{scale.not_evidenced_label}” are answers, not "
        "grades: they are counted apart and left out of the graded totals and the shares. "
        f"Every grade in this report is on the {scale.title}; grades from different scales "
        "are never added together.",
    )


def _moderated(document: DocxDocument, data: AuditReportData) -> None:
    _heading(document, "4. Moderated grades per case", 1)
    if not data.moderated:
        _paragraph(document, "No case has been moderated yet.")
        return
    _intro(
        document,
        "For each case the panel agreed a moderated grade under each heading, with its "
        "reasons. Each agency's own grade is shown beside it, unchanged.",
    )
    # Short level names keep a case's table to a page: the key to them is in section 3.
    shorts = {level.label: level.short for level in data.scale.levels}
    for case in data.moderated:
        _heading(document, f"Case {case.reference} ({case.level_of_need})", 2)
        if not case.headings:
            _paragraph(document, "No headings were moderated for this case.")
            continue
        house.table(
            document,
            ("Heading", "Agencies' own grades", "Moderated grade", "Reasons"),
            [
                (
                    heading.heading,
                    "; ".join(
                        f"{agency}: {shorts.get(grade, grade)}"
                        for agency, grade in heading.agency_grades
                    )
                    or DASH,
                    heading.grade if heading.grade is not None else "Not graded",
                    heading.reasons or DASH,
                )
                for heading in case.headings
            ],
            title=f"Moderated grades for case {case.reference}",
            widths=(3.6, 4.4, 3.0, 5.6),
        )


# --- 5 and 6: findings -----------------------------------------------------------------------


def _strengths(document: DocxDocument, data: AuditReportData) -> None:
    _heading(document, "5. Strengths", 1)
    sections = [s for s in data.sections if s.strengths]
    if not sections:
        _paragraph(document, "No strengths were recorded in the returns.")
        return
    _intro(
        document,
        "Good practice the agencies recorded, by section of the tool; each note gives the "
        "case, agency and criterion it came from.",
    )
    for section in sections:
        _heading(document, section.title, 2)
        _excerpts(document, section.strengths)


def _areas_for_development(document: DocxDocument, data: AuditReportData) -> None:
    _heading(document, "6. Areas for development", 1)
    sections = [s for s in data.sections if s.areas_for_development]
    if not sections:
        _paragraph(document, "No areas for development were recorded in the returns.")
    for section in sections:
        _heading(document, section.title, 2)
        _excerpts(document, section.areas_for_development)
    _heading(document, "Compared with the previous audit", 2)
    _comparison(document, data.comparison, data.scale.favourable_label)


def _comparison(document: DocxDocument, comparison: AuditComparison, favourable: str) -> None:
    if comparison.previous_audit_id is None:
        reason = f" ({comparison.note.rstrip('.')})" if comparison.note else ""
        _paragraph(document, f"There is no previous audit to compare with{reason}.")
        return
    grouped = {change: comparison.with_change(change) for change in CHANGE_ORDER}
    not_comparable = comparison.with_change("not comparable")
    counts = [_plural(len(grouped[c]), "criterion", "criteria") + f" {c}" for c in CHANGE_ORDER]
    _paragraph(
        document,
        f"Compared with {comparison.previous_title}: {_joined(counts)}, by the share of "
        f"graded findings at “{favourable}”.",
    )
    if comparison.note:
        _paragraph(document, _sentence(comparison.note))
    rows: list[tuple[str, ...]] = []
    for change in CHANGE_ORDER:
        rows.extend(_comparison_row(change, criterion) for criterion in grouped[change])
    if rows:
        house.table(
            document,
            ("Change", "Criterion", f"{favourable}, then → now"),
            rows,
            title=f"Criteria compared with {comparison.previous_title}",
            widths=(2.6, 10.4, 3.6),
        )
    if not_comparable:
        ids = _joined([c.criterion_id for c in not_comparable])
        note = _paragraph(
            document,
            f"{_plural(len(not_comparable), 'criterion', 'criteria')} could not be compared "
            f"because {'it was' if len(not_comparable) == 1 else 'they were'} not graded in "
            f"both audits: {ids}.",
        )
        note.paragraph_format.space_before = Pt(6)


def _comparison_row(change: str, criterion: CriterionComparison) -> tuple[str, ...]:
    return (
        change.capitalize(),
        f"{criterion.criterion_id} {criterion.question}",
        f"{_share(criterion.favourable_before)} → {_share(criterion.favourable_now)}",
    )


# --- 7 and 8 ---------------------------------------------------------------------------------


def _themes(document: DocxDocument, data: AuditReportData) -> None:
    _heading(document, "7. Key learning themes", 1)
    if not data.themes:
        _paragraph(document, "No themes were tagged on this audit's findings.")
        return
    cases = data.cohort.cases
    _intro(
        document,
        "Themes the panel tagged on findings, the voices of children and families and the "
        f"moderation, with the number of cases (of {cases}) and agencies in which each recurred.",
    )
    before = {t.code: t.cases_before for t in data.comparison.themes}
    compared = data.comparison.previous_audit_id is not None
    headers = ["Theme", f"Cases (of {cases})", "Agencies", "Findings", "Voices", "Moderation"]
    if compared:
        headers.append("Cases in the previous audit")
    rows: list[list[str]] = []
    for theme in data.themes:
        row = [
            theme.label,
            str(theme.cases),
            str(theme.agencies),
            str(theme.findings),
            str(theme.voices),
            str(theme.moderation),
        ]
        if compared:
            row.append(str(before[theme.code]) if theme.code in before else DASH)
        rows.append(row)
    widths = (4.6, 2.0, 2.0, 2.0, 1.8, 2.2, 2.0) if compared else (6.6, 2.0, 2.0, 2.0, 1.8, 2.2)
    _small(
        house.table(
            document, headers, rows, title="Recurring themes, most frequent first", widths=widths
        )
    )
    house.figure(
        document,
        theme_frequency_chart(data.themes, cases),
        f"In how many of the {_plural(cases, 'case')} each theme recurred",
    )


def _voices(document: DocxDocument, data: AuditReportData) -> None:
    _heading(document, "8. Voice of the child and family", 1)
    if not data.voices:
        _paragraph(document, "No views of children, families or practitioners were recorded.")
        return
    style = "Quote" if _has_style(document, "Quote") else None
    for quote in data.voices:
        _paragraph(document, f"“{quote.text}”", style=style)
        source = _paragraph(document, f"{quote.source}, case {quote.case_reference}")
        source.paragraph_format.left_indent = Pt(36)
        for run in source.runs:
            run.italic = True
            run.font.color.rgb = SOURCE_GREY


def _has_style(document: DocxDocument, name: str) -> bool:
    return any(style.name == name for style in document.styles)


# --- 9: agreement ----------------------------------------------------------------------------


def kappa_words(kappa: float | None) -> str:
    """Landis & Koch's words for a kappa ('moderate'); '' when undefined."""
    return kappa_band(kappa)


def kappa_text(kappa: float | None) -> str:
    return DASH if kappa is None else f"{kappa:.2f} ({kappa_words(kappa)})"


def _percent(value: float | None) -> str:
    return DASH if value is None else f"{value:.0f}%"


def _figure_cells(figure: AgreementFigure) -> tuple[str, ...]:
    return (
        figure.group,
        str(figure.pairs),
        str(figure.agreed),
        _percent(figure.percent_agreement),
        kappa_text(figure.kappa),
        str(figure.not_applicable),
        str(figure.not_evidenced),
        str(figure.unanswered),
    )


def _agreement(document: DocxDocument, data: AuditReportData) -> None:
    _heading(document, "9. Agreement between graders", 1)
    if not data.agreement:
        _paragraph(document, "No grades were compared for agreement in this audit.")
        return
    scale = data.scale
    _paragraph(
        document,
        "Agreement is the share of paired grades at the same level; kappa is Cohen's kappa "
        "with quadratic weights, which allows for agreement by chance and counts near misses "
        "on an ordered scale, described in Landis and Koch's words. A pair is left out when "
        f"either grade is “{scale.not_applicable_label}”, “{scale.not_evidenced_label}” or "
        "unanswered; the left-out pairs are counted in the last three columns.",
    )
    for report in data.agreement:
        _agreement_report(document, report)


def _agreement_report(document: DocxDocument, report: AgreementReport) -> None:
    title = COMPARISON_WORDS.get(report.comparison, report.comparison)
    _heading(document, title, 2)
    if report.note:
        _paragraph(document, _sentence(report.note))
    overall = report.overall
    if overall is not None:
        _paragraph(
            document,
            f"Overall: {overall.agreed} of {_plural(overall.pairs, 'pair')} agreed "
            f"({_percent(overall.percent_agreement)}); kappa {kappa_text(overall.kappa)}. "
            f"Left out: {overall.not_applicable} not applicable, {overall.not_evidenced} "
            f"not evidenced, {overall.unanswered} unanswered.",
        )
    headers = ("", "Pairs", "Agreed", "Agreement", "Kappa", "N/A", "Not ev.", "Blank")
    widths = (4.4, 1.5, 1.6, 2.0, 3.2, 1.2, 1.4, 1.3)
    if report.by_agency:
        _small(
            house.table(
                document,
                ("Agency", *headers[1:]),
                [_figure_cells(f) for f in report.by_agency],
                title=f"{title}: agreement by agency",
                widths=widths,
            )
        )
    if report.by_item:
        _small(
            house.table(
                document,
                ("Criterion or heading", *headers[1:]),
                [_figure_cells(f) for f in report.by_item],
                title=f"{title}: agreement by criterion or heading",
                widths=widths,
            )
        )
    if overall is None and not report.by_agency and not report.by_item and not report.note:
        _paragraph(document, "There were no paired grades to compare.")


# --- 10 to 12 --------------------------------------------------------------------------------


def _learning(document: DocxDocument, data: AuditReportData) -> None:
    _heading(document, "10. Learning", 1)
    if not data.learning:
        _paragraph(document, "No learning has been recorded in the learning log for this audit.")
        return
    _intro(
        document,
        "What the partnership has learnt from this audit, as recorded in its learning log.",
    )
    house.table(
        document,
        ("Reference", "Learning", "Evidence", "Status"),
        [_learning_row(item) for item in data.learning],
        title="Learning from this audit",
        widths=(2.8, 6.4, 5.2, 2.2),
    )


def _learning_row(item: LearningItemOut) -> tuple[str, ...]:
    evidence = item.evidence
    if item.evidence_links:
        # The links themselves are in the learning log export; here, how much it rests on.
        linked = _plural(len(item.evidence_links), "finding")
        evidence = f"{evidence}\n{linked} linked as evidence" if evidence else f"{linked} linked"
    status = item.status.value.replace("-", " ").capitalize()
    if item.signed_off_by and item.signed_off_on:
        status += f" by {item.signed_off_by}, {_date(item.signed_off_on)}"
    return (item.reference, item.learning, evidence or DASH, status)


def _recommendations(document: DocxDocument, data: AuditReportData) -> None:
    _heading(document, "11. Recommendations", 1)
    if not data.recommendations:
        _paragraph(document, "The panel made no recommendations.")
        return
    ordered = sorted(data.recommendations, key=lambda r: r.number)
    references = {item.id: item.reference for item in data.learning}
    # Word numbers a List Number list itself: use it when that gives the stored numbers.
    numbered = [r.number for r in ordered] == list(range(1, len(ordered) + 1))
    for recommendation in ordered:
        text = recommendation.text + _answers(recommendation, references)
        if numbered:
            _paragraph(document, text, style="List Number")
        else:
            _paragraph(document, f"{recommendation.number}. {text}")


def _answers(recommendation: RecommendationOut, references: dict[int, str]) -> str:
    linked = [references[i] for i in recommendation.learning_item_ids if i in references]
    return f" (learning: {', '.join(linked)})" if linked else ""


def _action_plan(document: DocxDocument, data: AuditReportData) -> None:
    _heading(document, "12. Action plan", 1)
    if not data.actions:
        _paragraph(document, "No actions have been agreed.")
        return
    house.table(
        document,
        ("Rec.", "Action", "Owner", "Agency", "Due", "Status"),
        [_action_row(action, dict(data.agency_names)) for action in data.actions],
        title="Action plan",
        widths=(1.2, 5.4, 2.4, 2.6, 2.4, 2.6),
    )


def _action_row(action: ActionOut, agency_names: dict[str, str]) -> tuple[str, ...]:
    status = f"{action.status.label} ({action.status.rag})"
    if action.status.rag == action.status.label:
        status = action.status.label
    if action.overdue:
        status += f", {_plural(action.days_overdue, 'day')} overdue"
    number = str(action.recommendation_number) if action.recommendation_number else DASH
    return (
        number,
        action.description,
        action.owner_name,
        agency_names.get(action.owner_agency, action.owner_agency),
        _short_date(action.due_on),
        status,
    )


# --- appendix --------------------------------------------------------------------------------


def _appendix_cohort(document: DocxDocument, data: AuditReportData) -> None:
    _heading(document, "Appendix A: The cohort", 1, new_page=True)
    if not data.cohort_cases:
        _paragraph(document, "No cases were selected for this audit.")
        return
    _intro(
        document,
        "The cases audited, by pseudonymous reference, with the characteristics the cohort "
        "was chosen by.",
    )
    appendix = house.table(
        document,
        ("Reference", "Level of need", "Age band", "Gender", "Ethnicity", "SEND", "Agencies"),
        [
            (
                case.reference,
                case.level_of_need,
                case.age_band,
                case.gender,
                case.ethnicity,
                case.send,
                ", ".join(case.agencies),
            )
            for case in data.cohort_cases
        ],
        title="The cohort",
        widths=(2.4, 2.6, 1.8, 1.8, 2.6, 1.8, 3.6),
    )
    _small(appendix)
