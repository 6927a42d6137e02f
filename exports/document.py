"""The house style every Word export shares: A4, real styles, the protective marking in the
header, page numbers in the footer, document properties, captioned tables and figures.

A partnership's own template .docx (its styles, logo, fonts) replaces the default one: its
body is cleared and its headers, footers and styles are kept, so the marking and the page
numbers are added to whatever the template already shows.
"""

from __future__ import annotations

import io
import re
import threading
import weakref
from collections.abc import Sequence
from pathlib import Path
from typing import Any, cast

from docx import Document
from docx.document import Document as DocxDocument
from docx.enum.section import WD_ORIENT
from docx.enum.style import WD_STYLE_TYPE
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_BREAK
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.oxml.table import CT_Tbl
from docx.oxml.text.paragraph import CT_P
from docx.section import Section, _Footer, _Header
from docx.shared import Cm, Emu, Length, Pt
from docx.table import Table
from docx.text.paragraph import Paragraph
from docx.text.run import Run
from lxml.etree import SubElement  # type: ignore[import-untyped]

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
        _ensure_styles(document)
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


# The paragraph styles the exports use, with a plain look for any a template lacks: Word
# saves only the styles a document has used, so a partnership's own template often has no
# Caption or List Bullet, and python-docx refuses a style that is not defined.
_NEEDED_STYLES: dict[str, tuple[float, bool, bool]] = {
    # name: (size in points, bold, italic)
    "Title": (24, True, False),
    "Subtitle": (14, False, False),
    "Heading 1": (16, True, False),
    "Heading 2": (13, True, False),
    "Heading 3": (11, True, False),
    "Caption": (9, True, False),
    "List Bullet": (0, False, False),
    "List Number": (0, False, False),
    "Quote": (0, False, True),
}


def _ensure_styles(document: DocxDocument) -> None:
    styles = document.styles
    for name, (size, bold, italic) in _NEEDED_STYLES.items():
        if name in styles:
            continue
        style = styles.add_style(name, WD_STYLE_TYPE.PARAGRAPH)
        style.base_style = styles["Normal"]
        style.font.bold = bold or None
        style.font.italic = italic or None
        if size:
            style.font.size = Pt(size)
        if name.startswith("List"):
            style.paragraph_format.left_indent = Cm(0.75)
        if name.startswith(("Heading", "Title")):
            style.paragraph_format.space_before = Pt(12)
            style.paragraph_format.keep_with_next = True
            level = name.removeprefix("Heading ")
            if level.isdigit():
                # The outline level is what a TOC field and the navigation pane look for.
                outline = OxmlElement("w:outlineLvl")
                outline.set(qn("w:val"), str(int(level) - 1))
                style.element.get_or_add_pPr().append(outline)
    if TABLE_STYLE not in styles and FALLBACK_TABLE_STYLE not in styles:
        _add_grid_style(document)


def _add_grid_style(document: DocxDocument) -> None:
    grid = document.styles.add_style(FALLBACK_TABLE_STYLE, WD_STYLE_TYPE.TABLE)
    tbl_pr = OxmlElement("w:tblPr")
    borders = OxmlElement("w:tblBorders")
    for edge in ("top", "left", "bottom", "right", "insideH", "insideV"):
        line = OxmlElement(f"w:{edge}")
        line.set(qn("w:val"), "single")
        line.set(qn("w:sz"), "4")
        line.set(qn("w:space"), "0")
        line.set(qn("w:color"), "auto")
        borders.append(line)
    tbl_pr.append(borders)
    grid.element.append(tbl_pr)


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


def _field(paragraph: Paragraph, instruction: str, cached: str = "1") -> None:
    """A Word field (PAGE, NUMPAGES, SEQ): Word and LibreOffice compute it when they open.

    A complex field (begin, instruction, separate, result, end) rather than w:fldSimple:
    its cached result is an ordinary run, so readers that do not compute fields (python-docx,
    text extraction, the identifier scan) still see the number. Every run of the field takes
    the size of the words before it: LibreOffice draws the result in the begin run's format."""
    size = _last_size(paragraph)
    _field_begin(paragraph, instruction, size)
    _sized_run(paragraph, size, cached)
    _field_char(paragraph, "end", size)


def _last_size(paragraph: Paragraph) -> Length | None:
    sized = [run.font.size for run in paragraph.runs if run.font.size is not None]
    return sized[-1] if sized else None


def _sized_run(paragraph: Paragraph, size: Length | None, text: str = "") -> Run:
    run: Run = paragraph.add_run(text)
    if size is not None:
        run.font.size = size
    return run


def _field_begin(paragraph: Paragraph, instruction: str, size: Length | None = None) -> None:
    _field_char(paragraph, "begin", size)
    instr = OxmlElement("w:instrText")
    instr.set(qn("xml:space"), "preserve")
    instr.text = f" {instruction} "
    _sized_run(paragraph, size)._r.append(instr)
    _field_char(paragraph, "separate", size)


def _field_char(paragraph: Paragraph, kind: str, size: Length | None = None) -> None:
    char = OxmlElement("w:fldChar")
    char.set(qn("w:fldCharType"), kind)
    _sized_run(paragraph, size)._r.append(char)


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


# --- what the house style keeps about a document while it is built --------------------------


class _Built:
    """One document's style ids, looked up once each, and its caption counts."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.style_ids: dict[str, str | None] = {}
        self.captions: dict[str, int] = {}


# Keyed on the document's part, held weakly, rather than kept on the Document that
# new_document returns: the part is the one object every proxy of a document shares
# (python-docx makes a new Document proxy each time part.document is read), and the helpers
# also serve documents made elsewhere. No other document can share an entry, since each
# document opened has a part of its own (an id() could be reused once a document is gone);
# and the entry goes with its document, so nothing survives a build, failed or not, into the
# next. One lock guards the table and each entry's own lock its contents, so builds on other
# threads wait on one another only to find their entries.
_BUILT: weakref.WeakKeyDictionary[object, _Built] = weakref.WeakKeyDictionary()
_BUILT_LOCK = threading.Lock()


def _built(document: DocxDocument) -> _Built:
    part = document.part
    with _BUILT_LOCK:
        built = _BUILT.get(part)
        if built is None:
            built = _BUILT[part] = _Built()
    return built


def style_id(document: DocxDocument, name: str) -> str | None:
    """The id of the paragraph style `name` (None for the default style), as python-docx's
    add_paragraph(style=name) would resolve it, but looked up once per document: python-docx
    walks every style, and the default style, on each call. KeyError for a missing style."""
    built = _built(document)
    with built.lock:
        if name not in built.style_ids:
            found: str | None = document.part.get_style_id(  # type: ignore[no-untyped-call]
                name, WD_STYLE_TYPE.PARAGRAPH
            )
            built.style_ids[name] = found
        return built.style_ids[name]


_SECT_PR = qn("w:sectPr")


def _final_sect_pr(document: DocxDocument) -> Any:
    # The body's own section properties are its last child (the schema puts them there):
    # looked at directly rather than searched for among every paragraph before them.
    body = document.element.body
    try:
        last = body[-1]
    except IndexError:
        return None
    return last if last.tag == _SECT_PR else None


def _append_block(document: DocxDocument, element: Any) -> None:
    """Add a paragraph or table at the end of the body, where add_paragraph and add_table put
    it (before the body's section properties), in constant time."""
    sect_pr = _final_sect_pr(document)
    if sect_pr is not None:
        sect_pr.addprevious(element)
    else:
        document.element.body.append(element)


def add_paragraph(document: DocxDocument, text: str = "", style: str | None = None) -> Paragraph:
    """What document.add_paragraph(text, style) makes, the style resolved once per document
    and the paragraph added without a search of the body."""
    p = cast(CT_P, OxmlElement("w:p"))
    _append_block(document, p)
    added = Paragraph(p, document._body)
    if text:
        add_text(added, text)
    if style is not None:
        p.style = style_id(document, style)
    return added


def add_page_break(document: DocxDocument) -> Paragraph:
    """document.add_page_break(), as `add_paragraph` adds it."""
    added = add_paragraph(document)
    added.add_run().add_break(WD_BREAK.PAGE)
    return added


def add_heading(document: DocxDocument, text: str, level: int) -> Paragraph:
    """document.add_heading(text, level), as `add_paragraph` adds it."""
    if not 0 <= level <= 9:
        raise ValueError(f"level must be in range 0-9, got {level}")
    return add_paragraph(document, text, "Title" if level == 0 else f"Heading {level}")


_TAB_OR_BREAK = re.compile(r"[\t\n\r]")


def add_text(paragraph: Paragraph, text: str) -> Run:
    """What paragraph.add_run(text) makes. python-docx sets a run's text a character at a
    time, to turn tabs and line breaks into elements of their own; text without them goes
    straight into the one w:t that would give."""
    run: Run = paragraph.add_run()
    if _TAB_OR_BREAK.search(text):
        run.text = text
    else:
        run._r.add_t(text)
    return run


def title_page(document: DocxDocument, meta: DocumentMeta) -> None:
    add_paragraph(document, meta.title, "Title")
    if meta.subtitle:
        add_paragraph(document, meta.subtitle, "Subtitle")
    lines = [meta.partnership, f"{meta.created:%d %B %Y}"]
    if meta.prepared_for:
        lines.append(f"Prepared for {meta.prepared_for}")
    for line in lines:
        add_paragraph(document, line)


TOC_INSTRUCTION = 'TOC \\o "1-2" \\h \\z \\u'


def table_of_contents(document: DocxDocument) -> None:
    """A TOC field over the heading styles. Word rebuilds it, with page numbers, when the
    document opens (updateFields); until then, and in readers that never compute fields,
    its cached result lists the headings, filled in by to_bytes once they are all written."""
    style = "TOC Heading" if _has_style(document, "TOC Heading") else "Heading 1"
    add_paragraph(document, "Contents", style)
    _field_begin(add_paragraph(document), TOC_INSTRUCTION)
    _field_char(add_paragraph(document), "end")
    _update_fields_on_open(document)


def _fill_contents(document: DocxDocument) -> None:
    paragraphs = document.paragraphs
    starts = [
        index
        for index, paragraph in enumerate(paragraphs)
        if any(i.text.strip().startswith("TOC") for i in paragraph._p.xpath("./w:r/w:instrText"))
    ]
    if not starts:
        return
    index = starts[0]
    end = paragraphs[index + 1]
    if end.text:  # already filled
        return
    # By style id rather than p.style, which looks each paragraph's style up among them all.
    levels: dict[str, int] = {}
    for level in (1, 2):
        try:
            found = style_id(document, f"Heading {level}")
        except KeyError:  # a template without it: no heading can have it either
            continue
        if found is not None:
            levels[found] = level
    entries = [
        (p.text, levels[p._p.style])
        for p in paragraphs[index + 2 :]
        if p._p.style in levels and p.text
    ]
    for text, level in entries:
        entry = end.insert_paragraph_before(text)
        entry.paragraph_format.left_indent = Cm(0.8 * (level - 1))
        entry.paragraph_format.space_after = Pt(2)
        if level == 1:
            for run in entry.runs:
                run.bold = True


# CT_Settings is a sequence: w:updateFields must come before these, or Word may refuse the file.
_AFTER_UPDATE_FIELDS = (
    "hdrShapeDefaults", "footnotePr", "endnotePr", "compat", "docVars", "rsids", "mathPr",
    "attachedSchema", "themeFontLang", "clrSchemeMapping", "doNotIncludeSubdocsInStats",
    "doNotAutoCompressPictures", "forceUpgrade", "captions", "readModeInkLockDown",
    "smartTagType", "schemaLibrary", "shapeDefaults", "doNotEmbedSmartTags",
    "decimalSymbol", "listSeparator",
)  # fmt: skip


def _update_fields_on_open(document: DocxDocument) -> None:
    settings = document.settings.element
    if settings.find(qn("w:updateFields")) is not None:
        return
    flag = OxmlElement("w:updateFields")
    flag.set(qn("w:val"), "true")
    for child in settings:
        if child.tag.rsplit("}", 1)[-1] in _AFTER_UPDATE_FIELDS:
            child.addprevious(flag)
            return
    settings.append(flag)


def _has_style(document: DocxDocument, name: str) -> bool:
    return any(style.name == name for style in document.styles)


def caption(document: DocxDocument, kind: str, text: str) -> Paragraph:
    """'Table 3: ...' in Word's Caption style, numbered by a SEQ field as Word numbers them."""
    added = add_paragraph(document, style="Caption")
    add_text(added, f"{kind} ")
    _seq(document, added, kind)
    add_text(added, f": {text}")
    return added


def _seq(document: DocxDocument, paragraph: Paragraph, kind: str) -> None:
    # The cached result is the right number, so readers that do not update fields (and tests)
    # see the same numbering Word computes: the count of this document's SEQ fields of the
    # kind, plus one. The body is counted once, at the document's first caption of the kind
    # (a document may hold some already); after that the document's own count goes up by one
    # per caption, rather than the whole body being counted again for every caption.
    instruction = f"SEQ {kind} \\* ARABIC"
    built = _built(document)
    with built.lock:
        number = built.captions.get(instruction)
        if number is None:
            body = document.element.body
            number = sum(
                1 for i in body.iter(qn("w:instrText")) if (i.text or "").strip() == instruction
            )
        number += 1
        built.captions[instruction] = number
    _field(paragraph, instruction, cached=str(number))


def table(
    document: DocxDocument,
    headers: Sequence[str],
    rows: Sequence[Sequence[object]],
    *,
    title: str,
    widths: Sequence[float] | None = None,
) -> Table:
    """A captioned table with a header row that repeats on every page."""
    title_paragraph = caption(document, "Table", title)
    # The caption sits above its table: keep them on one page, apart from what went before.
    title_paragraph.paragraph_format.keep_with_next = True
    title_paragraph.paragraph_format.space_before = Pt(10)
    # What document.add_table(0, columns) makes, added without a search of the body.
    tbl = CT_Tbl.new_tbl(0, len(headers), _text_width(document))
    _append_block(document, tbl)
    grid = Table(tbl, document._body)
    tbl.tblStyle_val = _table_style_id(document)
    columns = tbl.tblGrid.gridCol_lst
    if widths:
        # LibreOffice lays a table out by its grid columns, Word by its cells: set both, and
        # fixed layout so neither stretches the columns back to equal widths.
        grid.autofit = False
        for column, width in zip(columns, widths, strict=False):
            column.w = Cm(width)
    # Rows go straight into the XML, the very elements add_row and cell.text would make
    # (each cell as wide as its grid column, its text in one run); python-docx builds them
    # one checked element at a time, which made tables most of a long document's time.
    cell_widths = [None if column.w is None else str(column.w.twips) for column in columns]
    _table_row(tbl, [str(text) for text in headers], cell_widths, header=True)
    for values in rows:
        if len(values) != len(headers):
            raise ValueError(f"a row of {len(values)} cells in a table of {len(headers)} columns")
        _table_row(tbl, ["" if v is None else str(v) for v in values], cell_widths)
    return grid


def _text_width(document: DocxDocument) -> Length:
    # What Document.add_table spreads the columns over, found without its search of the whole
    # body for section breaks, which grew with every paragraph of a long document. The body's
    # own sectPr is the last section's, whose width add_table takes.
    sect_pr = _final_sect_pr(document)
    if sect_pr is not None:
        section = Section(sect_pr, document.part)
        page, left, right = section.page_width, section.left_margin, section.right_margin
        if page is not None and left is not None and right is not None:
            return Emu(page - left - right)
    width: Length = document._block_width
    return width


def _table_style_id(document: DocxDocument) -> str:
    # One lookup by name, rather than the style setter's walk over every style.
    styles = document.styles.element
    for name in (TABLE_STYLE, FALLBACK_TABLE_STYLE):
        style = styles.get_by_name(name)
        if style is not None:
            return str(style.styleId)
    raise KeyError(f"no style with name '{FALLBACK_TABLE_STYLE}'")


_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
_SPACE = "{http://www.w3.org/XML/1998/namespace}space"
_RUN_BREAKS = re.compile(r"([\t\r\n])")


def _table_row(
    tbl: Any, texts: Sequence[str], widths: Sequence[str | None], *, header: bool = False
) -> None:
    tr = SubElement(tbl, f"{_W}tr")
    if header:
        # The header row repeats at the top of every page the table runs onto.
        SubElement(SubElement(tr, f"{_W}trPr"), f"{_W}tblHeader", {f"{_W}val": "true"})
    for text, width in zip(texts, widths, strict=True):
        tc = SubElement(tr, f"{_W}tc")
        if width is not None:
            SubElement(
                SubElement(tc, f"{_W}tcPr"), f"{_W}tcW", {f"{_W}w": width, f"{_W}type": "dxa"}
            )
        run = SubElement(SubElement(tc, f"{_W}p"), f"{_W}r")
        if header:
            SubElement(SubElement(run, f"{_W}rPr"), f"{_W}b")
        # As python-docx writes a run's text: a tab or a line break is an element of its own.
        for part in _RUN_BREAKS.split(text):
            if part == "\t":
                SubElement(run, f"{_W}tab")
            elif part in ("\r", "\n"):
                SubElement(run, f"{_W}br")
            elif part:
                t = SubElement(run, f"{_W}t")
                t.text = part
                if part.strip() != part:
                    t.set(_SPACE, "preserve")


def figure(document: DocxDocument, png: bytes, title: str, width_cm: float = 15.5) -> None:
    # What document.add_picture does: the picture in a run of a paragraph of its own.
    holder = add_paragraph(document)
    holder.add_run().add_picture(io.BytesIO(png), width=Cm(width_cm))
    holder.paragraph_format.keep_with_next = True  # the caption goes below
    caption(document, "Figure", title)


def bullets(document: DocxDocument, items: Sequence[str]) -> None:
    for item in items:
        add_paragraph(document, item, "List Bullet")


def to_bytes(document: DocxDocument) -> bytes:
    _fill_contents(document)
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()
