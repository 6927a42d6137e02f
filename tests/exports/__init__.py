"""Export tests: hand-built report data in, Word files reopened and read as a reader would."""

from __future__ import annotations

import io
from collections.abc import Iterator

from docx import Document
from docx.document import Document as DocxDocument
from docx.table import Table
from docx.text.paragraph import Paragraph


def reopen(data: bytes) -> DocxDocument:
    document: DocxDocument = Document(io.BytesIO(data))
    return document


def blocks(document: DocxDocument) -> Iterator[Paragraph | Table]:
    """The body's paragraphs and tables in reading order."""
    yield from document.iter_inner_content()


def headings(document: DocxDocument, *levels: int) -> list[str]:
    names = {f"Heading {level}" for level in levels or (1, 2, 3)}
    return [p.text for p in document.paragraphs if p.style is not None and p.style.name in names]


def table_texts(table: Table) -> list[list[str]]:
    return [[cell.text for cell in row.cells] for row in table.rows]


def texts_by_section(document: DocxDocument) -> dict[str, list[str]]:
    """Every piece of body text (paragraphs and table cells) under the Heading 1 it follows;
    text before the first heading is under ''."""
    found: dict[str, list[str]] = {"": []}
    current = ""
    for block in blocks(document):
        if isinstance(block, Paragraph):
            if block.style is not None and block.style.name == "Heading 1":
                current = block.text
                found.setdefault(current, [])
            found[current].append(block.text)
        else:
            found[current].extend(cell.text for row in block.rows for cell in row.cells)
    return found


def tables_after(document: DocxDocument, heading: str) -> list[Table]:
    """The tables between a Heading 1 and the next Heading 1."""
    tables: list[Table] = []
    inside = False
    for block in blocks(document):
        if isinstance(block, Paragraph):
            if block.style is not None and block.style.name == "Heading 1":
                inside = block.text == heading
        elif inside:
            tables.append(block)
    return tables


def captions(document: DocxDocument) -> list[str]:
    return [
        p.text for p in document.paragraphs if p.style is not None and p.style.name == "Caption"
    ]


def caption_before(document: DocxDocument, table: Table) -> str:
    """The caption paragraph straight above a table."""
    previous = table._tbl.getprevious()
    return Paragraph(previous, table._parent).text
