"""The one-page briefing read back: its six blocks in order, each holding the data's lines."""

from __future__ import annotations

from pathlib import Path

import pytest
from docx import Document
from docx.document import Document as DocxDocument
from docx.oxml.ns import qn
from docx.shared import Cm, Pt
from docx.text.paragraph import Paragraph

from exports.briefing import briefing_docx
from exports.document import TemplateError
from schemas.reports import BriefingData
from tests.exports import blocks, headings, reopen
from tests.exports.conftest import MARKING

BLOCKS = [
    "Why it matters",
    "What we found",
    "What good looks like",
    "What to do differently",
    "Questions for reflection",
    "Where to find more",
]


@pytest.fixture(scope="module")
def briefing(briefing_data: BriefingData) -> DocxDocument:
    return reopen(briefing_docx(briefing_data))


def _under(document: DocxDocument) -> dict[str, list[Paragraph]]:
    found: dict[str, list[Paragraph]] = {"": []}
    current = ""
    for block in blocks(document):
        assert isinstance(block, Paragraph), "the briefing is headed blocks, not tables"
        if block.style is not None and block.style.name == "Heading 1":
            current = block.text
            found[current] = []
        else:
            found[current].append(block)
    return found


def test_every_heading_in_order(briefing: DocxDocument) -> None:
    assert headings(briefing, 1, 2, 3) == BLOCKS


def test_each_block_holds_the_data(briefing: DocxDocument, briefing_data: BriefingData) -> None:
    found = _under(briefing)
    assert [p.text for p in found["Why it matters"]] == [briefing_data.why_it_matters]
    expected = {
        "What we found": briefing_data.what_we_found,
        "What good looks like": briefing_data.what_good_looks_like,
        "What to do differently": briefing_data.what_to_do_differently,
        "Where to find more": briefing_data.where_to_find_more,
    }
    for heading, lines in expected.items():
        assert [p.text for p in found[heading]] == list(lines), heading
        assert {p.style.name for p in found[heading]} == {"List Bullet"}, heading
    questions = found["Questions for reflection"]
    assert [p.text for p in questions] == list(briefing_data.questions_for_reflection)
    assert {p.style.name for p in questions} == {"List Number"}


def test_title_and_what_it_is_about(briefing: DocxDocument, briefing_data: BriefingData) -> None:
    top = _under(briefing)[""]
    assert top[0].style.name == "Title"
    assert top[0].text == briefing_data.meta.title
    assert top[1].text == (
        "7-minute briefing · CSE audit 2026 · Northshire Safeguarding Children Partnership · "
        "20 March 2026"
    )
    assert len(top) == 2


def test_compact_body_in_this_document_only(briefing: DocxDocument) -> None:
    assert briefing.styles["Normal"].font.size == Pt(10)
    assert Document().styles["Normal"].font.size != Pt(10)  # python-docx's default untouched


def test_house_style(briefing: DocxDocument, briefing_data: BriefingData) -> None:
    props = briefing.core_properties
    assert props.title == briefing_data.meta.title
    assert props.author == briefing_data.meta.author
    assert props.category == MARKING
    [section] = briefing.sections
    assert MARKING in " ".join(p.text for p in section.header.paragraphs)
    instructions = [i.text.strip() for i in section.footer._element.iter(qn("w:instrText"))]
    assert "PAGE" in instructions
    assert abs(section.page_width - Cm(21)) < Cm(0.05)
    assert abs(section.page_height - Cm(29.7)) < Cm(0.05)
    assert len(briefing.inline_shapes) == 0
    assert briefing.tables == []


def test_an_empty_block_says_so(briefing_data: BriefingData) -> None:
    bare = briefing_data.model_copy(
        update={"why_it_matters": "", "what_good_looks_like": (), "where_to_find_more": ()}
    )
    document = reopen(briefing_docx(bare))
    assert headings(document, 1) == BLOCKS
    found = _under(document)
    for heading in ("Why it matters", "What good looks like", "Where to find more"):
        assert [p.text for p in found[heading]] == ["Nothing recorded."], heading


def test_template_header_and_styles_survive(tmp_path: Path, briefing_data: BriefingData) -> None:
    template = Document()
    template.styles["Heading 1"].font.name = "Georgia"
    template.sections[0].header.paragraphs[0].text = "PARTNERSHIP LOGO"
    template.add_paragraph("Template placeholder body text")
    path = tmp_path / "partnership.docx"
    template.save(str(path))
    briefing = reopen(briefing_docx(briefing_data, path))
    header = [p.text for p in briefing.sections[0].header.paragraphs]
    assert header == ["PARTNERSHIP LOGO", MARKING]
    assert briefing.styles["Heading 1"].font.name == "Georgia"
    assert headings(briefing, 1) == BLOCKS
    assert "Template placeholder body text" not in [p.text for p in briefing.paragraphs]


def test_a_broken_template_names_the_file(tmp_path: Path, briefing_data: BriefingData) -> None:
    path = tmp_path / "letterhead.docx"
    path.write_text("not a zip")
    with pytest.raises(TemplateError, match=r"letterhead\.docx"):
        briefing_docx(briefing_data, path)
