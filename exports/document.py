"""The house style every Word export shares: A4, real styles, the protective marking in the
header, page numbers in the footer, document properties, captioned tables and figures.

A partnership's own template .docx (its styles, logo, fonts) replaces the default one: its
body is cleared and its headers, footers and styles are kept, so the marking and the page
numbers are added to whatever the template already shows.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from pathlib import Path

from docx import Document
from docx.document import Document as DocxDocument
from docx.enum.section import WD_ORIENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.section import _Footer, _Header
from docx.shared import Cm, Pt
from docx.table import Table, _Row
from docx.text.paragraph import Paragraph

from schemas.reports import DocumentMeta

A4_WIDTH = Cm(21.0)
A4_HEIGHT = Cm(29.7)
MARGIN = Cm(2.2)
TABLE_STYLE = "Light Grid Accent 1"
FALLBACK_TABLE_STYLE = "Table Grid"


class TemplateError(ValueError):
    """The partnership's template cannot be used; the message names the file."""


def new_document(meta: DocumentMeta, template: Path | None = None) -> DocxDocument:
    """A blank A4 document in the house style (or the template's), marked and numbered."""
    if template is None:
        document = Document()
    else:
        try:
            document = Document(str(template))
        except Exception as exc:  # python-docx raises several kinds for a bad package
            raise TemplateError(f"{template}: not a Word template we can use ({exc})") from None
        _clear_body(document)
    for section in document.sections:
        section.orientation = WD_ORIENT.PORTRAIT
        section.page_width, section.page_height = A4_WIDTH, A4_HEIGHT
        for side in ("left_margin", "right_margin", "top_margin", "bottom_margin"):
            setattr(section, side, MARGIN)
        _mark_header(section.header, meta.protective_marking)
        _mark_footer(section.footer, meta.protective_marking)
    _properties(document, meta)
    return document


def _clear_body(document: DocxDocument) -> None:
    # Keep the final section properties (page size, headers): they are the template's layout.
    body = document.element.body
    for child in list(body):
        if child.tag != qn("w:sectPr"):
            body.remove(child)


def _free_paragraph(part: _Header | _Footer) -> Paragraph:
    # A new header or footer holds one empty paragraph: use it rather than leave a blank line.
    last = part.paragraphs[-1] if part.paragraphs else None
    if last is not None and not last.text and not last.runs:
        free: Paragraph = last
        return free
    added: Paragraph = part.add_paragraph()
    return added


def _mark_header(header: _Header, marking: str) -> None:
    paragraph = _free_paragraph(header)
    paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
    run = paragraph.add_run(marking)
    run.bold = True
    run.font.size = Pt(10)


def _mark_footer(footer: _Footer, marking: str) -> None:
    paragraph = _free_paragraph(footer)
    paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
    run = paragraph.add_run(f"{marking} · Page ")
    run.font.size = Pt(9)
    _field(paragraph, "PAGE")
    tail = paragraph.add_run(" of ")
    tail.font.size = Pt(9)
    _field(paragraph, "NUMPAGES")


def _field(paragraph: Paragraph, instruction: str) -> None:
    """A Word field (PAGE, NUMPAGES, TOC): Word and LibreOffice compute it when they open."""
    field = OxmlElement("w:fldSimple")
    field.set(qn("w:instr"), instruction)
    run = OxmlElement("w:r")
    text = OxmlElement("w:t")
    text.text = "1"
    run.append(text)
    field.append(run)
    paragraph._p.append(field)


def _properties(document: DocxDocument, meta: DocumentMeta) -> None:
    props = document.core_properties
    props.title = meta.title
    props.subject = meta.subject or meta.subtitle
    props.author = meta.author
    props.last_modified_by = meta.author
    props.category = meta.protective_marking
    props.keywords = ", ".join(meta.keywords)
    props.comments = f"Prepared for {meta.prepared_for}" if meta.prepared_for else ""
    props.created = meta.created
    props.modified = meta.created
    props.revision = 1


def title_page(document: DocxDocument, meta: DocumentMeta) -> None:
    document.add_paragraph(meta.title, style="Title")
    if meta.subtitle:
        document.add_paragraph(meta.subtitle, style="Subtitle")
    lines = [meta.partnership, f"{meta.created:%d %B %Y}"]
    if meta.prepared_for:
        lines.append(f"Prepared for {meta.prepared_for}")
    for line in lines:
        document.add_paragraph(line)


def table_of_contents(document: DocxDocument) -> None:
    """A TOC field over the heading styles: Word fills it in when the document opens."""
    style = "TOC Heading" if _has_style(document, "TOC Heading") else "Heading 1"
    document.add_paragraph("Contents", style=style)
    _field(document.add_paragraph(), 'TOC \\o "1-3" \\h \\z \\u')


def _has_style(document: DocxDocument, name: str) -> bool:
    return any(style.name == name for style in document.styles)


def caption(document: DocxDocument, kind: str, text: str) -> Paragraph:
    """'Table 3: ...' in Word's Caption style, numbered by a SEQ field as Word numbers them."""
    paragraph = document.add_paragraph(style="Caption")
    paragraph.add_run(f"{kind} ")
    _seq(paragraph, kind)
    paragraph.add_run(f": {text}")
    return paragraph


_SEQ_COUNTERS: dict[int, dict[str, int]] = {}


def _seq(paragraph: Paragraph, kind: str) -> None:
    # The cached result is the right number, so readers that do not update fields (and tests)
    # see the same numbering Word computes.
    counters = _SEQ_COUNTERS.setdefault(id(paragraph.part), {})
    counters[kind] = counters.get(kind, 0) + 1
    field = OxmlElement("w:fldSimple")
    field.set(qn("w:instr"), f"SEQ {kind} \\* ARABIC")
    run = OxmlElement("w:r")
    text = OxmlElement("w:t")
    text.text = str(counters[kind])
    run.append(text)
    field.append(run)
    paragraph._p.append(field)


def table(
    document: DocxDocument,
    headers: Sequence[str],
    rows: Sequence[Sequence[object]],
    *,
    title: str,
    widths: Sequence[float] | None = None,
) -> Table:
    """A captioned table with a header row that repeats on every page."""
    caption(document, "Table", title)
    grid: Table = document.add_table(rows=1, cols=len(headers))
    grid.style = TABLE_STYLE if _has_style(document, TABLE_STYLE) else FALLBACK_TABLE_STYLE
    header = grid.rows[0]
    _repeat_header(header)
    for cell, text in zip(header.cells, headers, strict=True):
        cell.text = str(text)
        for run in cell.paragraphs[0].runs:
            run.bold = True
    for values in rows:
        cells = grid.add_row().cells  # type: ignore[no-untyped-call]
        for cell, value in zip(cells, values, strict=True):
            cell.text = "" if value is None else str(value)
    if widths:
        for row in grid.rows:
            for cell, width in zip(row.cells, widths, strict=False):
                cell.width = Cm(width)
    return grid


def _repeat_header(row: _Row) -> None:
    tr_pr = row._tr.get_or_add_trPr()
    flag = OxmlElement("w:tblHeader")
    flag.set(qn("w:val"), "true")
    tr_pr.append(flag)


def figure(document: DocxDocument, png: bytes, title: str, width_cm: float = 15.5) -> None:
    document.add_picture(io.BytesIO(png), width=Cm(width_cm))
    caption(document, "Figure", title)


def bullets(document: DocxDocument, items: Sequence[str]) -> None:
    for item in items:
        document.add_paragraph(item, style="List Bullet")


def to_bytes(document: DocxDocument) -> bytes:
    buffer = io.BytesIO()
    document.save(buffer)
    _SEQ_COUNTERS.pop(id(document.part), None)
    return buffer.getvalue()
