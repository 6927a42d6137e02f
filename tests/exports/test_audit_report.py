"""The audit report read back as a reader would: headings, tables, captions, properties.

Expected cells are worked out here from the hand-built data, not from exports/, so a
table that drops a row or mislabels a level fails.
"""

from __future__ import annotations

import io
import json
import re
import struct
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from docx import Document
from docx.document import Document as DocxDocument
from docx.oxml.ns import qn
from docx.shared import Cm, Pt, RGBColor

from exports.audit_report import audit_report_docx, kappa_words
from exports.charts import grade_distribution_chart, theme_frequency_chart
from exports.document import TemplateError
from schemas.learning import RecommendationOut
from schemas.reports import AuditReportData, Excerpt
from tests.exports import (
    captions,
    headings,
    reopen,
    table_texts,
    tables_after,
    texts_by_section,
)
from tests.exports.conftest import MARKING, STRENGTH_SENTINEL, VOICE_SENTINEL

SECTIONS = [
    "1. Purpose and scope",
    "2. Method and cohort",
    "3. Grade distribution",
    "4. Moderated grades per case",
    "5. Strengths",
    "6. Areas for development",
    "7. Key learning themes",
    "8. Voice of the child and family",
    "9. Agreement between graders",
    "10. Learning",
    "11. Recommendations",
    "12. Action plan",
    "Appendix A: The cohort",
]


# Built once per module: the tests only read the document.
@pytest.fixture(scope="module")
def report(report_data: AuditReportData) -> DocxDocument:
    return reopen(audit_report_docx(report_data))


@pytest.fixture(scope="module")
def empty_report(empty_report_data: AuditReportData) -> DocxDocument:
    return reopen(audit_report_docx(empty_report_data))


def _percent(share: float | None) -> str:
    return "—" if share is None else f"{round(share * 100)}%"


# --- structure -------------------------------------------------------------------------------


def test_sections_come_in_domain_order(report: DocxDocument, report_data: AuditReportData) -> None:
    assert headings(report, 1) == SECTIONS
    first = report.paragraphs[0]
    assert first.style.name == "Title"
    assert first.text == report_data.meta.title


def test_subsections_follow_the_data(report: DocxDocument, report_data: AuditReportData) -> None:
    expected = [
        "The cohort",
        "Agencies taking part",
        *(f"Case {case.reference} ({case.level_of_need})" for case in report_data.moderated),
        *(s.title for s in report_data.sections if s.strengths),
        *(s.title for s in report_data.sections if s.areas_for_development),
        "Compared with the previous audit",
        "Each agency's own grade and the panel's moderated grade",
        "First and second grader (double grading)",
    ]
    assert headings(report, 2) == expected


def test_contents_is_a_toc_field_listing_the_headings(report: DocxDocument) -> None:
    body = report.element.body
    instructions = [i.text.strip() for i in body.iter(qn("w:instrText"))]
    assert any(i.startswith("TOC ") for i in instructions)
    contents = [p.text for p in report.paragraphs if p.style.name == "TOC Heading"]
    assert contents == ["Contents"]
    # The cached entries (what a reader sees before Word updates the field) are the headings.
    texts = [p.text for p in report.paragraphs]
    start = texts.index("Contents") + 2
    listed = texts[start : start + len(headings(report, 1, 2))]
    assert listed == headings(report, 1, 2)
    update = report.settings.element.find(qn("w:updateFields"))
    assert update is not None
    assert update.get(qn("w:val")) == "true"


def test_an_empty_section_says_so_rather_than_vanishing(empty_report: DocxDocument) -> None:
    assert headings(empty_report, 1) == SECTIONS
    sections = texts_by_section(empty_report)
    for title in SECTIONS[3:]:
        sentences = [t for t in sections[title][1:] if t.strip()]
        assert sentences, title
        assert tables_after(empty_report, title) == [], title
    assert "There is no previous audit to compare with" in " ".join(sections[SECTIONS[5]])
    assert "no earlier audit of Child sexual exploitation audit tool" in " ".join(
        sections[SECTIONS[5]]
    )
    assert sections["11. Recommendations"][1:] == ["The panel made no recommendations."]
    assert sections["12. Action plan"][1:] == ["No actions have been agreed."]
    assert len(empty_report.inline_shapes) == 1  # the grade chart; no themes, no theme chart


# --- tables ----------------------------------------------------------------------------------


def test_purpose_and_scope(report: DocxDocument, report_data: AuditReportData) -> None:
    section = texts_by_section(report)["1. Purpose and scope"]
    assert section[1:3] == [
        "To learn how well agencies recognised and responded to CSE together.",
        "The findings inform the partnership's CSE strategy.",
    ]
    [facts] = tables_after(report, "1. Purpose and scope")
    rows = dict((row[0], row[1]) for row in table_texts(facts))
    audit = report_data.audit
    assert rows["Audit"] == audit.title
    assert rows["Audit tool"] == f"{audit.tool_title} (version {audit.tool_version})"
    assert rows["Look-back period"] == audit.look_back
    assert rows["Audit day"] == "12 March 2026"
    assert rows["Agencies taking part"] == "Children's social care, Police, School and CAMHS"


def test_cohort_table_counts_by_characteristic(
    report: DocxDocument, report_data: AuditReportData
) -> None:
    [cohort] = tables_after(report, "2. Method and cohort")
    c = report_data.cohort
    expected = [["Characteristic", "Group", "Cases"]]
    for name, tallies in (
        ("Level of need", c.by_level_of_need),
        ("Age band", c.by_age_band),
        ("Gender", c.by_gender),
        ("Ethnicity", c.by_ethnicity),
        ("SEND", c.by_send),
    ):
        for index, tally in enumerate(tallies):
            expected.append([name if index == 0 else "", tally.label, str(tally.count)])
    assert table_texts(cohort) == expected
    # Each characteristic accounts for every case.
    assert sum(t.count for t in c.by_level_of_need) == c.cases
    section = texts_by_section(report)["2. Method and cohort"]
    assert section[1].startswith("4 cases were audited.")
    assert [p for p in section if p in c.agencies] == list(c.agencies)


def test_grade_table_per_agency_and_overall(
    report: DocxDocument, report_data: AuditReportData
) -> None:
    [grades] = tables_after(report, "3. Grade distribution")
    scale = report_data.scale
    cells = table_texts(grades)
    assert cells[0] == [
        "Agency",
        "Outstanding",
        "Good",
        "Requires improvement to be good",
        "Inadequate",
        "Graded",
        "Not applicable",
        "Not evidenced in the record",
    ]
    assert [level.label for level in scale.levels] == cells[0][1:5]
    expected = [
        [
            row.label,
            *(str(n) for n in row.counts),
            str(sum(row.counts)),
            str(row.not_applicable),
            str(row.not_evidenced),
        ]
        for row in (*report_data.by_agency, report_data.overall)
    ]
    assert cells[1:] == expected
    assert [row[0] for row in cells[1:]] == [
        "Children's social care",
        "Police",
        "School",
        "CAMHS",
        "All agencies",
    ]
    # The overall row is the column sums of the agency rows.
    agency_rows, overall = cells[1:-1], cells[-1]
    for column in range(1, len(overall)):
        assert int(overall[column]) == sum(int(row[column]) for row in agency_rows)
    assert cells[-1] == ["All agencies", "3", "14", "10", "4", "31", "7", "6"]
    text = " ".join(texts_by_section(report)["3. Grade distribution"])
    assert "counted apart" in text
    assert "never added together" in text


def test_moderated_grades_per_case(report: DocxDocument, report_data: AuditReportData) -> None:
    tables = tables_after(report, "4. Moderated grades per case")
    assert len(tables) == len(report_data.moderated)
    header = ["Heading", "Agencies' own grades", "Moderated grade", "Reasons"]
    first, second = (table_texts(t) for t in tables)
    assert first == [
        header,
        [
            "Recognition of need and risk",
            "Police: 2 Good; School: 4 Inad.",
            "Requires improvement to be good",
            "Screening tool completed late after the second missing episode.",
        ],
        ["Voice of the child", "—", "Not graded", "—"],
    ]
    assert second[1] == [
        "Joint working and information sharing",
        "Children's social care: 2 Good; CAMHS: 2 Good",
        "Good",
        "Strategy meeting held within two days with all agencies.",
    ]


def test_strengths_and_areas_carry_their_source(
    report: DocxDocument, report_data: AuditReportData
) -> None:
    sections = texts_by_section(report)
    bullets = [p.text for p in report.paragraphs if p.style.name == "List Bullet"]
    for section in report_data.sections:
        for excerpt in (*section.strengths, *section.areas_for_development):
            line = (
                f"{excerpt.text} ({excerpt.case_reference}, {excerpt.agency}, "
                f"{excerpt.criterion_id})"
            )
            assert line in bullets
    assert any("Exclusions not seen as a risk." in t for t in sections["6. Areas for development"])
    assert not any("Exclusions not seen" in t for t in sections["5. Strengths"])


def test_comparison_with_the_previous_audit(
    report: DocxDocument, report_data: AuditReportData
) -> None:
    [table] = tables_after(report, "6. Areas for development")
    cells = table_texts(table)
    assert cells[0] == ["Change", "Criterion", "Good or better, then → now"]
    criteria = {c.change: c for c in report_data.comparison.criteria}
    expected = [
        [
            change.capitalize(),
            f"{criteria[change].criterion_id} {criteria[change].question}",
            f"{_percent(criteria[change].favourable_before)} → "
            f"{_percent(criteria[change].favourable_now)}",
        ]
        for change in ("improved", "declined", "unchanged")
    ]
    assert cells[1:] == expected
    assert cells[1][2] == "50% → 75%"
    text = " ".join(texts_by_section(report)["6. Areas for development"])
    assert "Compared with CSE audit 2024" in text
    assert "could not be compared" in text
    assert "c3.2" in text


def test_themes_table_and_chart(report: DocxDocument, report_data: AuditReportData) -> None:
    [table] = tables_after(report, "7. Key learning themes")
    before = {t.code: str(t.cases_before) for t in report_data.comparison.themes}
    assert table_texts(table) == [
        [
            "Theme",
            "Cases (of 4)",
            "Agencies",
            "Findings",
            "Voices",
            "Moderation",
            "Cases in the previous audit",
        ],
        *(
            [
                t.label,
                str(t.cases),
                str(t.agencies),
                str(t.findings),
                str(t.voices),
                str(t.moderation),
                before.get(t.code, "—"),
            ]
            for t in report_data.themes
        ),
    ]
    assert table_texts(table)[2][-1] == "—"  # no exclusion theme in the previous audit


def test_voices_are_quoted_with_their_source(
    report: DocxDocument, report_data: AuditReportData
) -> None:
    section = texts_by_section(report)["8. Voice of the child and family"]
    for quote in report_data.voices:
        assert f"“{quote.text}”" in section
        assert f"{quote.source}, case {quote.case_reference}" in section
    quoted = [p for p in report.paragraphs if p.style.name == "Quote"]
    assert len(quoted) == len(report_data.voices)


def test_agreement_tables_use_landis_and_koch_words(report: DocxDocument) -> None:
    by_agency, by_item = tables_after(report, "9. Agreement between graders")
    assert table_texts(by_agency) == [
        ["Agency", "Pairs", "Agreed", "Agreement", "Kappa", "N/A", "Not ev.", "Blank"],
        ["Police", "4", "3", "75%", "0.71 (substantial)", "1", "2", "0"],
        ["School", "2", "1", "50%", "-0.20 (poor)", "1", "2", "0"],
    ]
    assert table_texts(by_item)[1] == [
        "Recognition of need and risk",
        "6",
        "4",
        "67%",
        "0.52 (moderate)",
        "1",
        "2",
        "0",
    ]
    section = texts_by_section(report)["9. Agreement between graders"]
    assert (
        "Overall: 4 of 6 pairs agreed (67%); kappa 0.52 (moderate). Left out: 1 not "
        "applicable, 2 not evidenced, 0 unanswered." in section
    )
    assert "No criterion was graded twice." in section


@pytest.mark.parametrize(
    ("kappa", "words"),
    [
        (None, ""),
        (-0.01, "poor"),
        (0.0, "slight"),
        (0.2, "slight"),
        (0.21, "fair"),
        (0.4, "fair"),
        (0.41, "moderate"),
        (0.6, "moderate"),
        (0.61, "substantial"),
        (0.8, "substantial"),
        (0.81, "almost perfect"),
        (1.0, "almost perfect"),
    ],
)
def test_kappa_bands(kappa: float | None, words: str) -> None:
    assert kappa_words(kappa) == words


def test_learning_recommendations_and_actions(
    report: DocxDocument, report_data: AuditReportData
) -> None:
    [learning] = tables_after(report, "10. Learning")
    assert table_texts(learning) == [
        ["Reference", "Learning", "Evidence", "Status"],
        [
            "LL-2026-004",
            "Return-home interviews came too late to inform the plan.",
            "Seen in two of the four cases.\n1 finding linked as evidence",
            "Open",
        ],
        [
            "LL-2026-005",
            "Schools saw exclusion as discipline only.",
            "Seen in two of the four cases.",
            "Open",
        ],
    ]
    numbered = [p.text for p in report.paragraphs if p.style.name == "List Number"]
    assert numbered == [
        "Commission independent return-home interviews within 72 hours. (learning: LL-2026-004)",
        "Add exclusion to the CSE screening tool.",
    ]
    [plan] = tables_after(report, "12. Action plan")
    assert table_texts(plan) == [
        ["Rec.", "Action", "Owner", "Agency", "Due", "Status"],
        [
            "1",
            "Re-tender the return-home interview service",
            "Alex Owner",
            "Children's social care",
            "30 Jun 2026",
            "On track (Green)",
        ],
        [
            "2",
            "Brief head teachers on exclusion as a risk indicator",
            "Pat Head",
            "School",
            "1 Mar 2026",
            "At risk (Red), 19 days overdue",
        ],
        [
            "—",
            "Re-audit CSE in a year",
            "Jo Lead",
            "partnership",
            "1 Mar 2027",
            "Not started (Amber)",
        ],
    ]
    assert [row[2] for row in table_texts(plan)[1:]] == [a.owner_name for a in report_data.actions]


def test_recommendation_numbers_with_gaps_are_written_out(report_data: AuditReportData) -> None:
    gapped = report_data.model_copy(
        update={
            "recommendations": (
                RecommendationOut(id=1, audit_id=7, number=1, text="First.", learning_item_ids=()),
                RecommendationOut(id=3, audit_id=7, number=3, text="Third.", learning_item_ids=()),
            )
        }
    )
    document = reopen(audit_report_docx(gapped))
    assert [p.text for p in document.paragraphs if p.style.name == "List Number"] == []
    section = texts_by_section(document)["11. Recommendations"]
    assert section[1:] == ["1. First.", "3. Third."]


def test_appendix_holds_only_the_cohort_fields(
    report: DocxDocument, report_data: AuditReportData
) -> None:
    [appendix] = tables_after(report, "Appendix A: The cohort")
    assert table_texts(appendix) == [
        ["Reference", "Level of need", "Age band", "Gender", "Ethnicity", "SEND", "Agencies"],
        *(
            [
                c.reference,
                c.level_of_need,
                c.age_band,
                c.gender,
                c.ethnicity,
                c.send,
                ", ".join(c.agencies),
            ]
            for c in report_data.cohort_cases
        ),
    ]


# --- captions, figures, house style ----------------------------------------------------------


def test_tables_and_figures_are_captioned_and_numbered(report: DocxDocument) -> None:
    found = captions(report)
    tables = [c for c in found if c.startswith("Table ")]
    figures = [c for c in found if c.startswith("Figure ")]
    assert len(tables) == len(report.tables)
    numbers = [int(re.match(r"Table (\d+): ", c).group(1)) for c in tables]  # type: ignore[union-attr]
    assert numbers == list(range(1, len(tables) + 1))
    assert [c.split(":")[0] for c in figures] == ["Figure 1", "Figure 2"]
    assert figures[0].startswith("Figure 1: Grades by agency on the Ofsted four-point scale")
    assert figures[1] == "Figure 2: In how many of the 4 cases each theme recurred"
    # A table's caption sits straight above it.
    for table in report.tables:
        caption = table._tbl.getprevious()
        assert caption.style == "Caption"
        assert "".join(caption.itertext()).startswith("Table ")


def test_house_style_properties_marking_page_numbers_a4(
    report: DocxDocument, report_data: AuditReportData
) -> None:
    props = report.core_properties
    assert props.title == report_data.meta.title
    assert props.author == "Jo Lead"
    assert props.category == MARKING
    for section in report.sections:
        assert MARKING in " ".join(p.text for p in section.header.paragraphs)
        footer = section.footer.paragraphs[0]
        assert MARKING in footer.text
        instructions = [i.text.strip() for i in footer._p.iter(qn("w:instrText"))]
        assert "PAGE" in instructions
        assert "NUMPAGES" in instructions
        assert abs(section.page_width - Cm(21)) < Cm(0.05)
        assert abs(section.page_height - Cm(29.7)) < Cm(0.05)
    assert len(report.inline_shapes) == 2
    for shape in report.inline_shapes:
        blip = shape._inline.graphic.graphicData.pic.blipFill.blip
        image = report.part.related_parts[blip.embed]
        assert image.blob.startswith(b"\x89PNG")
    styles = {p.style.name for p in report.paragraphs}
    assert {"Title", "Heading 1", "Heading 2", "Caption", "List Bullet", "List Number"} <= styles


def test_sentinels_appear_only_in_their_sections(report: DocxDocument) -> None:
    where = {
        title: [t for t in texts if sentinel in t]
        for title, texts in texts_by_section(report).items()
        for sentinel in (STRENGTH_SENTINEL,)
    }
    assert [title for title, hits in where.items() if hits] == ["5. Strengths"]
    voice = [
        title
        for title, texts in texts_by_section(report).items()
        if any(VOICE_SENTINEL in t for t in texts)
    ]
    assert voice == ["8. Voice of the child and family"]
    for section in report.sections:
        for part in (section.header, section.footer):
            text = " ".join(p.text for p in part.paragraphs)
            assert STRENGTH_SENTINEL not in text
            assert VOICE_SENTINEL not in text
    assert STRENGTH_SENTINEL not in (report.core_properties.title or "")


def test_every_case_reference_is_pseudonymous_and_known(
    report: DocxDocument, report_data: AuditReportData
) -> None:
    known = {c.reference for c in report_data.cohort_cases}
    every = " ".join(t for texts in texts_by_section(report).values() for t in texts)
    assert set(re.findall(r"CSE-\d\d-\d\d", every)) == known


# --- templates -------------------------------------------------------------------------------


def _template(path: Path, *, drop: tuple[str, ...] = ()) -> Path:
    document = Document()
    document.styles["Normal"].font.name = "Arial"
    heading = document.styles["Heading 1"]
    heading.font.name = "Georgia"
    heading.font.color.rgb = RGBColor(0x7A, 0x1F, 0x5C)
    section = document.sections[0]
    section.page_width, section.page_height = Cm(21.59), Cm(27.94)  # US Letter: ours wins
    section.header.paragraphs[0].text = "PARTNERSHIP LOGO"
    document.add_paragraph("Template placeholder body text")
    for name in drop:
        document.styles[name].delete()
    document.save(str(path))
    return path


def test_template_keeps_its_header_and_styles_and_takes_our_body(
    tmp_path: Path, report_data: AuditReportData
) -> None:
    template = _template(tmp_path / "partnership.docx")
    document = reopen(audit_report_docx(report_data, template))
    header = [p.text for p in document.sections[0].header.paragraphs]
    assert header[0] == "PARTNERSHIP LOGO"
    assert MARKING in header
    heading = document.styles["Heading 1"]
    assert heading.font.name == "Georgia"
    assert heading.font.color.rgb == RGBColor(0x7A, 0x1F, 0x5C)
    assert document.styles["Normal"].font.name == "Arial"
    assert headings(document, 1) == SECTIONS
    assert "Template placeholder body text" not in [p.text for p in document.paragraphs]
    assert abs(document.sections[0].page_width - Cm(21)) < Cm(0.05)


def test_template_without_caption_or_list_styles_still_works(
    tmp_path: Path, report_data: AuditReportData
) -> None:
    """Word saves only the styles a document used: a real template often lacks these."""
    dropped = ("Caption", "List Bullet", "List Number", "Quote", "Light Grid Accent 1")
    template = _template(tmp_path / "plain.docx", drop=dropped)
    document = reopen(audit_report_docx(report_data, template))
    assert headings(document, 1) == SECTIONS
    assert captions(document)[0].startswith("Table 1: ")
    assert all(t.style is not None and t.style.name == "Table Grid" for t in document.tables)


@pytest.mark.parametrize("content", [b"this is not a Word file", None])
def test_a_broken_template_names_the_file(
    tmp_path: Path, report_data: AuditReportData, content: bytes | None
) -> None:
    path = tmp_path / "broken-template.docx"
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(TemplateError, match=r"broken-template\.docx"):
        audit_report_docx(report_data, path)


# --- charts ----------------------------------------------------------------------------------


def _png_size(png: bytes) -> tuple[int, int]:
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", png[16:24])
    return width, height


def _text_chunks(png: bytes) -> list[bytes]:
    chunks, offset = [], 8
    while offset < len(png):
        (length,) = struct.unpack(">I", png[offset : offset + 4])
        kind = png[offset + 4 : offset + 8]
        if kind in (b"tEXt", b"iTXt", b"zTXt"):
            chunks.append(png[offset + 8 : offset + 8 + length])
        offset += 12 + length
    return chunks


def test_charts_are_deterministic_pngs_without_metadata(report_data: AuditReportData) -> None:
    rows = (*report_data.by_agency, report_data.overall)
    first = grade_distribution_chart(rows, report_data.scale)
    assert grade_distribution_chart(rows, report_data.scale) == first
    assert _png_size(first)[0] == 1050  # 7 inches at 150 dpi
    assert not any(b"Software" in chunk or b"matplotlib" in chunk for chunk in _text_chunks(first))
    themes = theme_frequency_chart(report_data.themes, 4)
    assert theme_frequency_chart(report_data.themes, 4) == themes
    assert _png_size(themes)[0] == 1050
    assert theme_frequency_chart(report_data.themes[:1], 4) != themes


def test_charts_draw_the_same_on_any_thread(report_data: AuditReportData) -> None:
    rows = (*report_data.by_agency, report_data.overall)
    expected = grade_distribution_chart(rows, report_data.scale)
    with ThreadPoolExecutor(max_workers=3) as pool:
        drawn = list(
            pool.map(lambda _: grade_distribution_chart(rows, report_data.scale), range(3))
        )
    assert drawn == [expected] * 3


def test_charts_cope_with_nothing_to_draw(report_data: AuditReportData) -> None:
    empty = report_data.overall.model_copy(update={"counts": (0, 0, 0, 0)})
    assert _png_size(grade_distribution_chart((empty,), report_data.scale))[0] == 1050
    assert _png_size(theme_frequency_chart((), 0))[0] == 1050


def test_exports_load_matplotlib_only_when_drawing() -> None:
    code = (
        "import json, sys\n"
        "import exports.audit_report, exports.briefing, exports.charts\n"
        "print(json.dumps(sorted({m.split('.')[0] for m in sys.modules} & "
        "{'matplotlib', 'sqlalchemy', 'textual', 'workbench'})))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert json.loads(result.stdout) == []


def test_the_report_keeps_the_house_body_size(report: DocxDocument) -> None:
    assert report.styles["Normal"].font.size != Pt(10)  # only the briefing is compact


def test_the_same_note_from_several_returns_is_one_bullet_naming_each(
    report_data: AuditReportData,
) -> None:
    [first, *rest] = report_data.sections
    same = "Strategy meeting held within  two days."
    repeated = first.model_copy(
        update={
            "strengths": (
                Excerpt(case_reference="C-01", agency="Police", criterion_id="c1.1", text=same),
                Excerpt(
                    case_reference="C-02",
                    agency="School",
                    criterion_id="c1.1",
                    text="strategy meeting held within two days.",
                ),
                Excerpt(case_reference="C-02", agency="GP", criterion_id="c1.2", text="Other."),
            )
        }
    )
    data = report_data.model_copy(update={"sections": (repeated, *rest)})
    document = Document(io.BytesIO(audit_report_docx(data)))
    bullets = [p.text for p in document.paragraphs if p.style.name == "List Bullet"]
    assert (
        "Strategy meeting held within two days. (C-01, Police, c1.1; C-02, School, c1.1)" in bullets
    )
    assert "Other. (C-02, GP, c1.2)" in bullets
    assert not any(b.startswith("strategy meeting") for b in bullets)
