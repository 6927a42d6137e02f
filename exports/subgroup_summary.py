"""The six-monthly Learning and Improvement subgroup summary, as a Word document."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

from exports.document import (
    add_page_break,
    add_paragraph,
    new_document,
    table,
    table_of_contents,
    title_page,
    to_bytes,
)
from exports.learning_log import (
    BodyWriter,
    actions_table,
    clean,
    day,
    plural,
    rag_counts,
    status_label,
)
from schemas.reports import AuditDone, SubgroupSummaryData

SECTION_TITLES = (
    "1 Audits completed and what each found",
    "2 Facilitated discussions",
    "3 Learning added to the log",
    "4 Actions and their status",
    "5 The forward plan (next six months)",
    "6 For the full board and other boards",
)


def period_text(data: SubgroupSummaryData) -> str:
    return f"{day(data.period_start)} to {day(data.period_end)}"


def subgroup_summary_docx(data: SubgroupSummaryData, template: Path | None = None) -> bytes:
    """Title page with the period, contents, then the six sections; an empty one says so."""
    document = new_document(data.meta, template)
    period = f"Period: {period_text(data)}"
    if data.meta.subtitle:
        title_page(document, data.meta)
        add_paragraph(document, period)
    else:
        title_page(document, data.meta.model_copy(update={"subtitle": period}))
    add_paragraph(document, "Cases appear by pseudonymous reference only.")
    add_page_break(document)
    table_of_contents(document)
    add_page_break(document)
    body = BodyWriter(document)

    body.heading(SECTION_TITLES[0], 1)
    _audits(
        body,
        data.audits,
        title=f"Audits completed, {period_text(data)}",
        empty="No audits were completed in this period.",
    )
    body.heading(SECTION_TITLES[1], 1)
    _audits(
        body,
        data.facilitated_discussions,
        title=f"Facilitated discussions, {period_text(data)}",
        empty="No facilitated discussions were held in this period.",
    )
    body.heading(SECTION_TITLES[2], 1)
    _learning(body, data)
    body.heading(SECTION_TITLES[3], 1)
    _actions(body, data)
    body.heading(SECTION_TITLES[4], 1)
    _forward_plan(body, data)
    body.heading(SECTION_TITLES[5], 1)
    if data.for_the_board:
        body.bullets(data.for_the_board)
    else:
        body.paragraph("Nothing needs to go to the full board or other boards this time.")
    body.close()
    return to_bytes(document)


def favourable_text(audit: AuditDone) -> str:
    """'60% Good or better': the share of graded findings at a favourable level."""
    if audit.favourable_share is None:
        return "Not graded"
    return f"{audit.favourable_share:.0%} {audit.favourable_label}"


def audit_account(audit: AuditDone) -> str:
    """What one audit was and what it found, in a sentence or two."""
    when = f", audit day {day(audit.audit_day)}" if audit.audit_day else ""
    text = (
        f"{audit.title} ({audit.tool_title}{when}) looked at {plural(audit.cases, 'case')} "
        f"across {plural(audit.agencies, 'agency', 'agencies')}."
    )
    if audit.favourable_share is not None:
        text += (
            f" {audit.favourable_share:.0%} of graded findings were "
            f"{audit.favourable_label.lower()}."
        )
    if audit.top_themes:
        text += f" Themes that recurred: {', '.join(audit.top_themes)}."
    else:
        text += " No recurring themes were recorded."
    return text


def _audits(body: BodyWriter, audits: Sequence[AuditDone], *, title: str, empty: str) -> None:
    if not audits:
        body.paragraph(empty)
        return
    rows = [
        (
            clean(a.title),
            clean(a.tool_title),
            clean(a.kind),
            day(a.audit_day),
            clean(a.status),
            a.cases,
            a.agencies,
            clean(favourable_text(a)),
        )
        for a in audits
    ]
    body.table(
        lambda d: table(
            d,
            ("Audit", "Tool", "Kind", "Audit day", "Status", "Cases", "Agencies", "Favourable"),
            rows,
            title=title,
            widths=(3.2, 2.6, 2.0, 2.0, 1.8, 1.3, 1.7, 2.0),
        )
    )
    for audit in audits:
        body.heading(audit.title, 2)
        body.paragraph(audit_account(audit))
        if audit.recommendations:
            body.paragraph("Recommendations:")
            body.bullets(audit.recommendations)
        else:
            body.paragraph("No recommendations were made.")


def _labels(codes: Sequence[str], labels: Mapping[str, str]) -> str:
    return ", ".join(labels.get(code, code) for code in codes)


def _learning(body: BodyWriter, data: SubgroupSummaryData) -> None:
    if not data.learning:
        body.paragraph("No learning was added to the log in this period.")
        return
    body.paragraph(
        f"{plural(len(data.learning), 'item')} added to the learning log in this period."
    )
    themes = dict(data.theme_labels)
    rows = [
        (
            item.reference,
            day(item.raised_on),
            clean(f"{item.source.label}: {item.audit_title}")
            if item.audit_title
            else item.source.label,
            clean(_labels(item.themes, themes)) or "None",
            clean(item.learning),
            status_label(item.status),
        )
        for item in data.learning
    ]
    body.table(
        lambda d: table(
            d,
            ("Reference", "Raised", "Source", "Themes", "Learning", "Status"),
            rows,
            title=f"Learning added, {period_text(data)}",
            widths=(2.6, 2.2, 3.0, 2.8, 4.2, 1.8),
        )
    )


def _actions(body: BodyWriter, data: SubgroupSummaryData) -> None:
    if not data.actions:
        body.paragraph("No actions were open or due in this period.")
        return
    overdue = sum(1 for a in data.actions if a.overdue)
    body.paragraph(
        f"{plural(len(data.actions), 'action')}, {overdue} of them overdue "
        "(due before today and not complete)."
    )
    counts = [(status.label, status.rag, count) for status, count in rag_counts(data.actions)]
    body.table(
        lambda d: table(
            d, ("Status", "RAG", "Actions"), counts, title="Actions by status", widths=(4, 3, 2.4)
        )
    )
    agencies = dict(data.agency_names)
    body.table(
        lambda d: actions_table(
            d, data.actions, agencies, title="Actions and their status", overdue_column=True
        )
    )


def _forward_plan(body: BodyWriter, data: SubgroupSummaryData) -> None:
    if not data.forward_plan:
        body.paragraph("No audits are planned for the next six months yet.")
        return
    rows = [
        (
            clean(p.title),
            clean(p.tool_title),
            day(p.audit_day, "To be set"),
            day(p.returns_due, "To be set"),
            clean(p.status),
        )
        for p in data.forward_plan
    ]
    body.table(
        lambda d: table(
            d,
            ("Audit", "Tool", "Audit day", "Returns due", "Status"),
            rows,
            title="Audits planned for the next six months",
            widths=(5.0, 4.0, 2.6, 2.6, 2.4),
        )
    )
