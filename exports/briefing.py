"""The one-page lessons learnt / 7-minute briefing for one audit, as a Word document.

Six headed blocks in DOMAIN.md's order, set compactly (10pt body) so the page can be
printed, pinned up or read aloud at a team meeting in seven minutes.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from docx.document import Document as DocxDocument
from docx.shared import Cm, Pt

from exports import document as house
from schemas.reports import BriefingData

BODY_SIZE = Pt(10)
MARGIN = Cm(1.8)
NOTHING = "Nothing recorded."


def briefing_docx(data: BriefingData, template: Path | None = None) -> bytes:
    document = house.new_document(data.meta, template)
    _compact(document)
    house.add_paragraph(document, data.meta.title, "Title")
    when = f"{data.meta.created.day} {data.meta.created:%B %Y}"
    facts = [data.meta.subtitle or "7-minute briefing", data.audit_title, data.meta.partnership]
    house.add_paragraph(document, " · ".join([*(f for f in facts if f), when]))
    _block(document, "Why it matters", [data.why_it_matters] if data.why_it_matters else [])
    _block(document, "What we found", data.what_we_found, bulleted=True)
    _block(document, "What good looks like", data.what_good_looks_like, bulleted=True)
    _block(document, "What to do differently", data.what_to_do_differently, bulleted=True)
    _block(
        document,
        "Questions for reflection",
        data.questions_for_reflection,
        bulleted=True,
        style="List Number",
    )
    _block(document, "Where to find more", data.where_to_find_more, bulleted=True)
    return house.to_bytes(document)


def _compact(document: DocxDocument) -> None:
    """A tighter type scale and margins for this one document; the house and template styles
    elsewhere are untouched."""
    for section in document.sections:
        for side in ("left_margin", "right_margin", "top_margin", "bottom_margin"):
            setattr(section, side, MARGIN)
    styles = document.styles
    normal = styles["Normal"]
    normal.font.size = BODY_SIZE
    normal.paragraph_format.space_after = Pt(3)
    normal.paragraph_format.space_before = Pt(0)
    for name in ("List Bullet", "List Number"):
        if name in styles:
            styles[name].paragraph_format.space_after = Pt(0)
            styles[name].font.size = BODY_SIZE
    heading = styles["Heading 1"]
    heading.font.size = Pt(12)
    heading.paragraph_format.space_before = Pt(7)
    heading.paragraph_format.space_after = Pt(2)
    title = styles["Title"]
    title.font.size = Pt(20)
    title.paragraph_format.space_after = Pt(4)


def _block(
    document: DocxDocument,
    heading: str,
    lines: Sequence[str],
    *,
    bulleted: bool = False,
    style: str = "List Bullet",
) -> None:
    house.add_heading(document, heading, 1)
    if not lines:
        house.add_paragraph(document, NOTHING)
        return
    for line in lines:
        house.add_paragraph(document, line, style if bulleted else None)
