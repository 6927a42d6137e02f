"""The learning log as a partnership keeps it: a Word document, an Excel workbook or a CSV file.

Every output carries the same items in the same words (DOMAIN.md's learning log item), so a
log shared as a spreadsheet and one shared as a document agree line for line. Spreadsheet
cells that a spreadsheet program would run as a formula are written as text.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import zipfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from docx.document import Document as DocxDocument
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Pt
from docx.table import Table, _Cell
from docx.text.paragraph import Paragraph
from docx.text.run import Run
from lxml import etree  # type: ignore[import-untyped]
from openpyxl import Workbook  # type: ignore[import-untyped]
from openpyxl.cell import Cell, WriteOnlyCell  # type: ignore[import-untyped]
from openpyxl.styles import Alignment, Font  # type: ignore[import-untyped]
from openpyxl.utils import get_column_letter  # type: ignore[import-untyped]
from openpyxl.utils.datetime import to_excel  # type: ignore[import-untyped]
from openpyxl.worksheet.properties import PageSetupProperties  # type: ignore[import-untyped]
from openpyxl.writer.excel import ExcelWriter  # type: ignore[import-untyped]

from exports.document import (
    add_page_break,
    add_paragraph,
    add_text,
    new_document,
    style_id,
    table,
    title_page,
    to_bytes,
)
from schemas.learning import ActionOut, ActionStatus, LearningStatus, RecommendationOut
from schemas.reports import DocumentMeta, LearningLogData, LearningLogEntry

SHEET_TITLE = "Learning log"
ABOUT_SHEET_TITLE = "About"
DATE_FORMAT = "d mmm yyyy"
A4_PAPER = 9  # SpreadsheetML's code for A4
# OWASP's list: a spreadsheet program treats a cell starting with one of these as a formula.
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
# Characters XML 1.0 cannot hold. A vertical tab or form feed is how Word pastes a line or page
# break, so those become a new line; the rest are dropped rather than refuse the whole export.
_BREAKS = re.compile(r"[\x0b\x0c]")
_NOT_XML = re.compile("[\x00-\x08\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
# The RAG cell is shaded as well as worded: the word carries the meaning, the colour helps.
_RAG_FILL = {"Red": "F4C7C3", "Amber": "FCE8B2", "Green": "B7E1CD"}
# The spreadsheet's looks: a bold header, and every value at the top of its cell (a row is as
# tall as its longest wrapped text), wrapped in the columns of long text.
BOLD = Font(bold=True)
TOP = Alignment(vertical="top")
WRAPPED = Alignment(vertical="top", wrap_text=True)


# --- words shared by every output ---------------------------------------------------------------


def clean(text: str) -> str:
    """The text as a Word or Excel file can hold it (no control characters but tab and newline)."""
    return _NOT_XML.sub("", _BREAKS.sub("\n", text))


def day(value: dt.date | None, missing: str = "Not set") -> str:
    """'3 Mar 2026', the way the documents write a date."""
    return missing if value is None else f"{value.day} {value:%b %Y}"


def plural(count: int, one: str, many: str | None = None) -> str:
    return f"{count} {one if count == 1 else (many or one + 's')}"


def status_label(status: LearningStatus) -> str:
    return status.value.replace("-", " ").capitalize()


def recommendation_line(recommendation: RecommendationOut) -> str:
    return f"Recommendation {recommendation.number}: {recommendation.text}"


def action_line(action: ActionOut, agencies: Mapping[str, str]) -> str:
    """One action as a spreadsheet cell holds it: what, owner, due, RAG."""
    agency = agencies.get(action.owner_agency, action.owner_agency)
    overdue = ", overdue" if action.overdue else ""
    return (
        f"{action.description} — {action.owner_name} ({agency}), "
        f"due {action.due_on.isoformat()}, {action.status.rag}{overdue}"
    )


def evidence_text(entry: LearningLogEntry, agencies: Mapping[str, str]) -> str:
    """The evidence as written, then the findings it rests on (anonymised)."""
    lines = [entry.item.evidence] if entry.item.evidence else []
    lines += [
        f"Case {link.case_reference}, {agencies.get(link.agency, link.agency)}, "
        f"{link.criterion_id}: {link.grade or 'not graded'}"
        for link in entry.item.evidence_links
    ]
    return "\n".join(lines)


def shared_text(entry: LearningLogEntry, separator: str) -> str:
    return separator.join(how.value.capitalize() for how in entry.item.shared_how)


# --- the columns of the spreadsheet and the CSV file ----------------------------------------------

Value = str | dt.date | None


@dataclass(frozen=True)
class Column:
    header: str
    width: float
    value: Callable[[LearningLogEntry, Mapping[str, str]], Value]
    wrap: bool = False
    date: bool = False


def _joined(values: Sequence[str]) -> str:
    return "; ".join(values)


COLUMNS: tuple[Column, ...] = (
    Column("Reference", 14, lambda e, _: e.item.reference),
    Column("Raised on", 12, lambda e, _: e.item.raised_on, date=True),
    Column("Source", 20, lambda e, _: e.item.source.label),
    Column("Themes", 26, lambda e, _: _joined(e.theme_labels), wrap=True),
    Column("Learning", 60, lambda e, _: e.item.learning, wrap=True),
    Column("Evidence", 60, evidence_text, wrap=True),
    Column("Agencies", 26, lambda e, _: _joined(e.agency_names), wrap=True),
    Column(
        "Recommendations",
        50,
        lambda e, _: _joined([recommendation_line(r) for r in e.recommendations]),
        wrap=True,
    ),
    Column("Actions", 60, lambda e, n: _joined([action_line(a, n) for a in e.actions]), wrap=True),
    Column("How shared", 20, lambda e, _: shared_text(e, "; "), wrap=True),
    Column("Evidence of impact", 50, lambda e, _: e.item.impact_evidence, wrap=True),
    Column("Re-audit date", 13, lambda e, _: e.item.reaudit_on, date=True),
    Column("Status", 12, lambda e, _: status_label(e.item.status)),
    Column("Signed off by", 20, lambda e, _: e.item.signed_off_by),
    Column("Signed off on", 13, lambda e, _: e.item.signed_off_on, date=True),
)
HEADERS = tuple(column.header for column in COLUMNS)


def is_formula_like(text: str) -> bool:
    return text.startswith(FORMULA_TRIGGERS)


def row_values(entry: LearningLogEntry, agencies: Mapping[str, str]) -> list[Value]:
    """One item's row: text cleaned, an empty text as None, dates as dates."""
    values: list[Value] = []
    for column in COLUMNS:
        value = column.value(entry, agencies)
        if isinstance(value, str):
            value = clean(value) or None
        values.append(value)
    return values


# --- CSV ----------------------------------------------------------------------------------------


def learning_log_csv(data: LearningLogData) -> bytes:
    """One row per item, UTF-8 with a byte-order mark so Excel reads it as UTF-8; ISO dates."""
    agencies = dict(data.agency_names)
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer)
    writer.writerow(HEADERS)
    for entry in data.entries:
        writer.writerow([_csv_cell(value) for value in row_values(entry, agencies)])
    return buffer.getvalue().encode("utf-8-sig")


def _csv_cell(value: Value) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.date):
        return value.isoformat()
    # A leading quote is how a spreadsheet program is told "this is text, not a formula".
    return f"'{value}" if is_formula_like(value) else value


# --- Excel --------------------------------------------------------------------------------------


def learning_log_xlsx(data: LearningLogData) -> bytes:
    """A filterable sheet, one row per item, and an 'About' sheet saying what it holds."""
    agencies = dict(data.agency_names)
    workbook = Workbook(write_only=True)
    _xlsx_properties(workbook, data.meta)
    sheet = workbook.create_sheet(SHEET_TITLE)
    looks = _CellLooks(sheet)
    # A write-only sheet takes its layout before its first row. Each column also carries its
    # cells' look, so an empty cell (written as no cell at all) takes the same alignment and
    # date format as its neighbours when someone types into it.
    for index, column in enumerate(COLUMNS, start=1):
        dimension = sheet.column_dimensions[get_column_letter(index)]
        dimension.width = column.width
        dimension.alignment = WRAPPED if column.wrap else TOP
        if column.date:
            dimension.number_format = DATE_FORMAT
    sheet.freeze_panes = "A2"
    sheet.auto_filter.ref = f"A1:{get_column_letter(len(COLUMNS))}{len(data.entries) + 1}"
    sheet.print_title_rows = "1:1"
    sheet.page_setup.orientation = "landscape"
    sheet.page_setup.paperSize = A4_PAPER
    sheet.page_setup.fitToWidth = 1
    sheet.page_setup.fitToHeight = 0
    sheet.sheet_properties.pageSetUpPr = PageSetupProperties(fitToPage=True)
    _mark_sheet(sheet, data.meta.protective_marking)

    sheet.append([looks.label(header) for header in HEADERS])
    rows = _item_rows([row_values(entry, agencies) for entry in data.entries], looks)
    _about_sheet(workbook, data)
    return _saved(workbook, data.meta.created, extra_rows=[(sheet, rows)])


class _CellLooks:
    """The few looks a sheet's cells take (a bold label; a value at the top of its cell,
    wrapped or not, as text, a date or quoted text), each registered with the workbook once.

    Setting a cell's font, alignment or number format registers that style object with the
    workbook again, hashing it, on every cell: over a log of a thousand items that was much
    of the export's time. Each look is set once here, through those same setters, on a
    prototype cell; a cell of that look starts from the prototype's style ids.
    """

    def __init__(self, sheet: Any) -> None:
        self.sheet = sheet
        self._prototypes: dict[tuple[str, bool], Any] = {}

    def _prototype(self, kind: str, wrap: bool) -> Any:
        prototype = self._prototypes.get((kind, wrap))
        if prototype is None:
            prototype = WriteOnlyCell(self.sheet)
            if kind == "label":
                prototype.font = BOLD
            else:
                prototype.alignment = WRAPPED if wrap else TOP
            if kind == "date":
                prototype.number_format = DATE_FORMAT
            elif kind == "quoted":
                prototype.quotePrefix = True
            self._prototypes[(kind, wrap)] = prototype
        return prototype

    def style_id(self, kind: str, wrap: bool) -> str:
        """The look's index among the workbook's cell formats: a cell's s attribute."""
        return str(self._prototype(kind, wrap).style_id)

    def _cell(self, value: object, kind: str, wrap: bool) -> Cell:
        return Cell(self.sheet, 1, 1, value=value, style_array=self._prototype(kind, wrap)._style)

    def label(self, text: str) -> Cell:
        """A bold header or label cell."""
        return self._cell(text, "label", False)

    def cell(self, value: Value | int, wrap: bool) -> Cell | None:
        """A value's cell; none for an empty value, which looks no different."""
        if value is None or value == "":
            return None
        if isinstance(value, dt.date):
            return self._cell(value, "date", wrap)
        if isinstance(value, str) and is_formula_like(value):
            cell = self._cell(value, "quoted", wrap)
            # Stored as a string, never a formula, and flagged so that editing keeps it text.
            cell.data_type = "s"
            return cell
        return self._cell(value, "text", wrap)


_XML_SPACE = "{http://www.w3.org/XML/1998/namespace}space"
_MAX_CELL_TEXT = 32_767  # Excel's limit; openpyxl cuts a longer text to it


def _item_rows(rows: Sequence[Sequence[Value]], looks: _CellLooks) -> bytes:
    """The items' rows, from row 2, as the sheet's XML: the very <row> and <c> elements
    openpyxl writes for those cells (an inline string or a date serial, the look's format
    index, no element for an empty value).

    openpyxl writes a styled cell of a write-only sheet through a slow path (it first tries
    the cell as a value, then copies and registers its style) at several times the cost of a
    bare value, and every non-empty cell here is styled, since a value sits at the top of its
    row; the rows are written here instead and spliced into the sheet when it is saved
    (_saved). The looks are still registered with openpyxl, which writes the styles part.
    """
    ids: dict[tuple[str, bool], str] = {}

    def style(kind: str, wrap: bool) -> str:
        if (kind, wrap) not in ids:
            ids[(kind, wrap)] = looks.style_id(kind, wrap)
        return ids[(kind, wrap)]

    epoch = looks.sheet.parent.epoch
    letters = [get_column_letter(index) for index in range(1, len(COLUMNS) + 1)]
    wraps = [column.wrap for column in COLUMNS]
    chunks: list[bytes] = []
    for number, values in enumerate(rows, start=2):
        row = etree.Element("row", r=str(number))
        for letter, wrap, value in zip(letters, wraps, values, strict=True):
            if value is None or value == "":
                continue
            reference = f"{letter}{number}"
            if isinstance(value, dt.date):
                cell = etree.SubElement(row, "c", r=reference, s=style("date", wrap), t="n")
                # The serial as openpyxl writes a number (safe_string).
                etree.SubElement(cell, "v").text = f"{to_excel(value, epoch):.16g}"
                continue
            # Text is always a string, never a formula: formula-like text is flagged as text
            # (quotePrefix) so that editing it keeps it text.
            kind = "quoted" if is_formula_like(value) else "text"
            cell = etree.SubElement(row, "c", r=reference, s=style(kind, wrap), t="inlineStr")
            text = etree.SubElement(etree.SubElement(cell, "is"), "t")
            value = value[:_MAX_CELL_TEXT]
            if value != value.strip():
                text.set(_XML_SPACE, "preserve")
            text.text = value
        chunks.append(etree.tostring(row))
    return b"".join(chunks)


def _mark_sheet(sheet: Any, marking: str) -> None:
    header_footer = sheet.HeaderFooter
    for part in (header_footer.oddHeader, header_footer.evenHeader, header_footer.firstHeader):
        part.center.text = marking
        part.center.font = ",Bold"
    for part in (header_footer.oddFooter, header_footer.evenFooter, header_footer.firstFooter):
        part.center.text = f"{marking} · Page &P of &N"


def _about_sheet(workbook: Workbook, data: LearningLogData) -> None:
    """What the file contains and for whom: a spreadsheet travels without its covering note."""
    meta = data.meta
    sheet = workbook.create_sheet(ABOUT_SHEET_TITLE)
    sheet.column_dimensions["A"].width = 22
    sheet.column_dimensions["B"].width = 80
    _mark_sheet(sheet, meta.protective_marking)
    rows: list[tuple[str, Value | int]] = [
        ("Title", meta.title),
        ("Partnership", meta.partnership),
        ("Protective marking", meta.protective_marking),
        ("Selection", data.description or "All items"),
        ("Items", len(data.entries)),
        ("Prepared by", meta.author),
        ("Prepared for", meta.prepared_for),
        ("Created", meta.created.date()),
        ("Note", "Cases appear by pseudonymous reference only."),
    ]
    looks = _CellLooks(sheet)
    for label, value in rows:
        if isinstance(value, str):
            value = clean(value) or None
        sheet.append([looks.label(label), looks.cell(value, True)])


def _xlsx_properties(workbook: Workbook, meta: DocumentMeta) -> None:
    props = workbook.properties
    props.title = meta.title
    props.subject = meta.subject or meta.subtitle or None
    props.creator = meta.author
    props.lastModifiedBy = meta.author
    props.category = meta.protective_marking
    props.keywords = ", ".join(meta.keywords) or None
    props.description = f"Prepared for {meta.prepared_for}" if meta.prepared_for else None
    created = _utc_naive(meta.created)
    props.created = created
    props.modified = created


def _utc_naive(moment: dt.datetime) -> dt.datetime:
    # openpyxl writes these times as UTC and wants them naive.
    if moment.tzinfo is None:
        return moment
    return moment.astimezone(dt.UTC).replace(tzinfo=None)


def _saved(
    workbook: Workbook, created: dt.datetime, extra_rows: Sequence[tuple[Any, bytes]] = ()
) -> bytes:
    """The workbook's bytes: the same bytes for the same data.

    Workbook.save stamps 'modified' with the clock, and zip entries carry the time they were
    written; both are pinned to the document's own date instead. The first archive is only
    read back, so it is stored uncompressed: the parts are compressed once, in the second.
    `extra_rows` are rows' XML to add at the end of a sheet's data, with the sheet.
    """
    raw = io.BytesIO()
    with zipfile.ZipFile(raw, "w", zipfile.ZIP_STORED) as archive:
        ExcelWriter(workbook, archive).save()
    # A sheet's part name is known once it is saved.
    rows_by_part = {sheet.path.lstrip("/"): rows for sheet, rows in extra_rows}
    stamp = max(created.timetuple()[:6], (1980, 1, 1, 0, 0, 0))
    pinned = io.BytesIO()
    with (
        zipfile.ZipFile(raw) as source,
        zipfile.ZipFile(pinned, "w", zipfile.ZIP_DEFLATED) as target,
    ):
        for info in source.infolist():
            entry = zipfile.ZipInfo(info.filename, date_time=stamp)
            entry.compress_type = zipfile.ZIP_DEFLATED
            entry.external_attr = 0o600 << 16
            part = source.read(info.filename)
            if info.filename in rows_by_part:
                part = _with_rows(part, rows_by_part.pop(info.filename))
            target.writestr(entry, part)
    if rows_by_part:
        raise ValueError(f"no sheet {', '.join(rows_by_part)} to add rows to")
    return pinned.getvalue()


def _with_rows(sheet_xml: bytes, rows: bytes) -> bytes:
    # After the rows openpyxl wrote (the header), at the end of the sheet's one <sheetData>.
    head, end, tail = sheet_xml.rpartition(b"</sheetData>")
    if not end:
        raise ValueError("a sheet without <sheetData> to add rows to")
    return head + rows + end + tail


# --- Word ---------------------------------------------------------------------------------------


class BodyWriter:
    """Adds paragraphs at the end of a document in constant time.

    python-docx's add_paragraph scans the whole body for its closing section properties and
    resolves the style by name on every call; over a thousand items that made a log take
    seconds per hundred items. Paragraphs go in before an anchor kept at the end instead,
    with each style's id looked up once per document (the house style's `style_id`). Tables
    still come from the house style's `table`.
    """

    def __init__(self, document: DocxDocument) -> None:
        self.document = document
        self._anchor = add_paragraph(document)
        self._after_table = False

    def paragraph(self, text: str = "", style: str | None = None) -> Paragraph:
        paragraph = self._anchor.insert_paragraph_before()
        if text:
            self.run(paragraph, text)
        if style is not None:
            paragraph._p.style = style_id(self.document, style)
        elif self._after_table:
            # A table has no space below it: keep the next line of text off its last row.
            paragraph.paragraph_format.space_before = Pt(8)
        self._after_table = False
        return paragraph

    def heading(self, text: str, level: int) -> Paragraph:
        return self.paragraph(text, f"Heading {level}")

    def run(self, paragraph: Paragraph, text: str, *, bold: bool = False) -> Run:
        """A run of the text, cleaned (see the house style's `add_text`)."""
        run = add_text(paragraph, clean(text))
        if bold:
            # What run.bold = True writes, without its search through every run property.
            properties = OxmlElement("w:rPr")
            properties.append(OxmlElement("w:b"))
            run._r.insert(0, properties)
        return run

    def labelled(self, label: str, text: str) -> Paragraph:
        """'Label: text' with the label in bold."""
        paragraph = self.paragraph()
        self.run(paragraph, f"{label}: " if text else f"{label}:", bold=True)
        if text:
            self.run(paragraph, text)
        return paragraph

    def bullets(self, items: Sequence[str]) -> None:
        for item in items:
            self.paragraph(item, "List Bullet")

    def table(self, build: Callable[[DocxDocument], Table]) -> Table:
        """A table (and its caption) from the house style, with the anchor moved past it."""
        grid = build(self.document)
        grid._tbl.addnext(self._anchor._p)
        self._after_table = True
        return grid

    def close(self) -> None:
        anchor = self._anchor._p
        parent = anchor.getparent()
        if parent is not None:
            parent.remove(anchor)


def learning_log_docx(data: LearningLogData, template: Path | None = None) -> bytes:
    """Title page, a summary table of the items, then one section per item."""
    agencies = dict(data.agency_names)
    document = new_document(data.meta, template)
    title_page(document, data.meta)
    selection = f" ({data.description})" if data.description else ""
    add_paragraph(
        document,
        clean(
            f"{plural(len(data.entries), 'learning log item')}{selection}. "
            "Cases appear by pseudonymous reference only."
        ),
    )
    add_page_break(document)
    body = BodyWriter(document)
    body.heading("Summary of items", 1)
    if not data.entries:
        body.paragraph("No learning log items match this selection.")
        body.close()
        return to_bytes(document)
    summary = [
        (
            e.item.reference,
            day(e.item.raised_on),
            e.item.source.label,
            clean(", ".join(e.theme_labels)) or "None",
            status_label(e.item.status),
        )
        for e in data.entries
    ]
    body.table(
        lambda d: table(
            d,
            ("Reference", "Date", "Source", "Themes", "Status"),
            summary,
            title="Learning log items",
            widths=(3.0, 2.6, 3.6, 5.0, 2.4),
        )
    )
    body.heading("The items", 1)
    for entry in data.entries:
        _item_section(body, entry, agencies)
    body.close()
    return to_bytes(document)


def item_heading(entry: LearningLogEntry) -> str:
    """'LL-2026-001 · Missing children, CSE': the reference and the item's themes."""
    themes = ", ".join(entry.theme_labels)
    return f"{entry.item.reference} · {themes}" if themes else entry.item.reference


def _item_section(body: BodyWriter, entry: LearningLogEntry, agencies: Mapping[str, str]) -> None:
    item = entry.item
    body.heading(item_heading(entry), 2)
    origin = f"{item.source.label}: {item.audit_title}" if item.audit_title else item.source.label
    body.labelled("Raised", f"{day(item.raised_on)} · {origin} · {status_label(item.status)}")
    body.labelled("The learning", item.learning)
    body.labelled("Evidence", item.evidence or "No evidence written.")
    if item.evidence_links:
        links = [
            (
                link.case_reference,
                clean(agencies.get(link.agency, link.agency)),
                link.criterion_id,
                clean(link.grade or "Not graded"),
            )
            for link in item.evidence_links
        ]
        body.table(
            lambda d: table(
                d,
                ("Case", "Agency", "Criterion", "Grade"),
                links,
                title=f"Findings behind {item.reference}",
                widths=(3.2, 4.4, 4.6, 4.4),
            )
        )
    body.labelled("Agencies affected", ", ".join(entry.agency_names) or "None named.")
    if entry.recommendations:
        body.labelled("Recommendations", "")
        body.bullets([recommendation_line(r) for r in entry.recommendations])
    else:
        body.labelled("Recommendations", "None linked.")
    if entry.actions:
        body.table(
            lambda d: actions_table(
                d, entry.actions, agencies, title=f"Actions for {item.reference}"
            )
        )
    else:
        body.labelled("Actions", "None linked.")
    body.labelled("How it was shared", shared_text(entry, ", ") or "Not shared yet.")
    body.labelled("Evidence of impact", item.impact_evidence or "None recorded yet.")
    body.labelled("Re-audit date", day(item.reaudit_on))
    if item.signed_off_by:
        on = f" on {day(item.signed_off_on)}" if item.signed_off_on else ""
        body.labelled("Sign-off", f"Signed off by {item.signed_off_by}{on}.")
    else:
        body.labelled("Sign-off", "Not signed off.")


ACTION_HEADERS = ("Action", "Owner", "Agency", "Due", "Status", "RAG")


def actions_table(
    document: DocxDocument,
    actions: Sequence[ActionOut],
    agencies: Mapping[str, str],
    *,
    title: str,
    overdue_column: bool = False,
) -> Table:
    """Actions with owner, due date, status and RAG (the RAG cell shaded, its word kept)."""
    headers = ACTION_HEADERS + (("Overdue",) if overdue_column else ())
    rows = []
    for action in actions:
        row = [
            clean(action.description),
            clean(action.owner_name),
            clean(agencies.get(action.owner_agency, action.owner_agency)),
            day(action.due_on),
            action.status.label,
            action.status.rag,
        ]
        if overdue_column:
            row.append(overdue_text(action))
        rows.append(row)
    if overdue_column:
        widths: tuple[float, ...] = (3.6, 2.2, 2.0, 2.2, 2.2, 2.2, 2.2)
    else:
        widths = (4.4, 2.6, 2.6, 2.4, 2.3, 2.3)
    grid = table(document, headers, rows, title=title, widths=widths)
    rag_column = ACTION_HEADERS.index("RAG")
    for row_cells, action in zip(grid.rows[1:], actions, strict=True):
        _shade(row_cells.cells[rag_column], _RAG_FILL.get(action.status.rag))
    return grid


def overdue_text(action: ActionOut) -> str:
    if not action.overdue:
        return "No"
    if action.days_overdue:
        return f"Yes, {plural(action.days_overdue, 'day')}"
    return "Yes"


def _shade(cell: _Cell, fill: str | None) -> None:
    if fill is None:
        return
    shading = OxmlElement("w:shd")
    shading.set(qn("w:val"), "clear")
    shading.set(qn("w:color"), "auto")
    shading.set(qn("w:fill"), fill)
    cell._tc.get_or_add_tcPr().append(shading)


def rag_counts(actions: Sequence[ActionOut]) -> list[tuple[ActionStatus, int]]:
    """How many actions at each status, every status listed (zero included)."""
    return [(status, sum(1 for a in actions if a.status is status)) for status in ActionStatus]
