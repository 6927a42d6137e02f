"""The learning log as .docx, .xlsx and .csv, reopened the way a reader would open it.

The data is built by hand and every expected value below is written out from that data,
not computed by the code under test.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import zipfile
from pathlib import Path

import pytest
from docx import Document
from docx.document import Document as DocxDocument
from docx.table import Table
from openpyxl import load_workbook  # type: ignore[import-untyped]

from exports.learning_log import learning_log_csv, learning_log_docx, learning_log_xlsx
from schemas.learning import (
    ActionOut,
    ActionStatus,
    EvidenceLink,
    LearningItemOut,
    LearningSource,
    LearningStatus,
    RecommendationOut,
    SharedHow,
)
from schemas.reports import DocumentMeta, LearningLogData, LearningLogEntry

MARKING = "OFFICIAL-SENSITIVE PERSONAL"  # not the default, so a fixed marking fails
CREATED = dt.datetime(2026, 3, 4, 10, 30, 0)
LONG_LEARNING = " ".join(
    f"Sentence {n}: practitioners did not revisit the plan after the {n}th missing episode."
    for n in range(1, 41)
)
INJECTED_LEARNING = '=HYPERLINK("http://example.invalid","Click for the log")'
INJECTED_EVIDENCE = "@SUM(1+1) was written in the supervision notes"
INJECTED_IMPACT = "-12% re-referrals after the briefing"
INJECTED_SHARED_BY = "+Chair of the subgroup"

COLUMNS = [
    "Reference",
    "Raised on",
    "Source",
    "Themes",
    "Learning",
    "Evidence",
    "Agencies",
    "Recommendations",
    "Actions",
    "How shared",
    "Evidence of impact",
    "Re-audit date",
    "Status",
    "Signed off by",
    "Signed off on",
]
# What each status means on the log, written out rather than read from ActionStatus.rag.
RAG = {"not_started": "Amber", "on_track": "Green", "at_risk": "Red", "complete": "Complete"}


def _meta(**changes: object) -> DocumentMeta:
    fields: dict[str, object] = {
        "title": "Learning log: missing children",
        "subtitle": "Items raised January to March 2026",
        "partnership": "Northshire Safeguarding Children Partnership",
        "author": "Aoife Ní Bhriain",
        "prepared_for": "Learning and Improvement subgroup",
        "protective_marking": MARKING,
        "created": CREATED,
        "subject": "Learning log",
        "keywords": ("learning log", "missing children"),
    }
    fields.update(changes)
    return DocumentMeta.model_validate(fields)


def _action(
    number: int,
    status: ActionStatus,
    due: dt.date,
    *,
    owner: str = "Zoë Okafor",
    agency: str = "police",
    overdue: bool = False,
    days_overdue: int = 0,
    description: str = "",
) -> ActionOut:
    return ActionOut(
        id=number,
        audit_id=7,
        audit_title="Missing children audit, winter 2026",
        recommendation_id=1,
        recommendation_number=1,
        description=description or f"Action {number}: review return-home interviews",
        owner_name=owner,
        owner_agency=agency,
        due_on=due,
        status=status,
        evidence_of_impact="",
        escalation_route="",
        created_by="Lead",
        overdue=overdue,
        days_overdue=days_overdue,
    )


def _item(
    item_id: int,
    reference: str,
    *,
    raised_on: dt.date,
    source: LearningSource,
    learning: str,
    **changes: object,
) -> LearningItemOut:
    fields: dict[str, object] = {
        "id": item_id,
        "reference": reference,
        "raised_on": raised_on,
        "source": source,
        "audit_id": None,
        "audit_title": None,
        "learning": learning,
        "evidence": "",
        "themes": (),
        "agencies": (),
        "shared_how": (),
        "impact_evidence": "",
        "reaudit_on": None,
        "status": LearningStatus.OPEN,
        "signed_off_by": None,
        "signed_off_on": None,
        "created_by": "Lead",
    }
    fields.update(changes)
    return LearningItemOut.model_validate(fields)


def _full_entry() -> LearningLogEntry:
    """An audit item with everything filled in: evidence links, recommendations, actions."""
    item = _item(
        1,
        "LL-2026-001",
        raised_on=dt.date(2026, 1, 14),
        source=LearningSource.CASE_AUDIT,
        learning="Return-home interviews weren't offered within 72 hours — the child's view "
        "was missing from every plan.",
        audit_id=7,
        audit_title="Missing children audit, winter 2026",
        evidence="Three of five cases had no interview recorded.\nPolice and school agreed.",
        themes=("missing", "cse"),
        agencies=("police", "csc"),
        shared_how=(SharedHow.BRIEFING, SharedHow.TRAINING),
        impact_evidence="Re-audit sample: 4 of 5 interviews within 72 hours.",
        reaudit_on=dt.date(2026, 9, 30),
        status=LearningStatus.SIGNED_OFF,
        signed_off_by="Dr Siân Llewellyn",
        signed_off_on=dt.date(2026, 2, 27),
        evidence_links=(
            EvidenceLink(
                finding_id=11,
                case_reference="MC-26-01",
                agency="police",
                criterion_id="cse.rhi",
                grade="requires_improvement",
            ),
            EvidenceLink(
                finding_id=12,
                case_reference="MC-26-04",
                agency="csc",
                criterion_id="cse.voice",
                grade=None,
            ),
        ),
        recommendations=(1, 2),
    )
    return LearningLogEntry(
        item=item,
        theme_labels=("Missing children", "Child sexual exploitation"),
        agency_names=("Police", "Children's social care"),
        recommendations=(
            RecommendationOut(
                id=1,
                audit_id=7,
                number=1,
                text="Offer every child a return-home interview within 72 hours.",
                learning_item_ids=(1,),
            ),
            RecommendationOut(
                id=2, audit_id=7, number=4, text="Record the child's words.", learning_item_ids=(1,)
            ),
        ),
        actions=(
            _action(1, ActionStatus.ON_TRACK, dt.date(2026, 5, 31)),
            _action(
                2,
                ActionStatus.AT_RISK,
                dt.date(2026, 2, 1),
                owner="Priya Shah",
                agency="csc",
                overdue=True,
                days_overdue=31,
            ),
            _action(3, ActionStatus.NOT_STARTED, dt.date(2026, 6, 30)),
            _action(4, ActionStatus.COMPLETE, dt.date(2026, 1, 31)),
        ),
    )


def _bare_entry() -> LearningLogEntry:
    """Practitioner feedback with every optional field empty, no actions, and a formula."""
    item = _item(
        2,
        "LL-2026-002",
        raised_on=dt.date(2026, 2, 3),
        source=LearningSource.PRACTITIONER_FEEDBACK,
        learning=INJECTED_LEARNING,
    )
    return LearningLogEntry(
        item=item, theme_labels=(), agency_names=(), recommendations=(), actions=()
    )


def _long_entry() -> LearningLogEntry:
    item = _item(
        3,
        "LL-2026-003",
        raised_on=dt.date(2026, 3, 1),
        source=LearningSource.CASE_REVIEW,
        learning=LONG_LEARNING,
        evidence=INJECTED_EVIDENCE + "\x0bpasted from Word",
        themes=("neglect",),
        agencies=("housing",),
        shared_how=(SharedHow.NEWSLETTER,),
        impact_evidence=INJECTED_IMPACT,
        status=LearningStatus.EMBEDDED,
        signed_off_by=INJECTED_SHARED_BY,
    )
    return LearningLogEntry(
        item=item,
        theme_labels=("Adolescent neglect",),
        agency_names=("Housing",),
        recommendations=(),
        actions=(
            _action(
                5,
                ActionStatus.NOT_STARTED,
                dt.date(2026, 4, 15),
                owner="Tomás García",
                agency="housing",
                description="Share the tenancy-risk checklist",
            ),
        ),
    )


@pytest.fixture
def data() -> LearningLogData:
    return LearningLogData(
        meta=_meta(),
        description="theme: Missing children; 2026",
        entries=(_full_entry(), _bare_entry(), _long_entry()),
        # 'housing' is left out on purpose: a code without a name is shown as the code.
        agency_names=(("police", "Police"), ("csc", "Children's social care")),
    )


def _open_docx(content: bytes) -> DocxDocument:
    return Document(io.BytesIO(content))


def _headings(document: DocxDocument) -> list[tuple[str, str]]:
    return [
        (p.style.name, p.text)
        for p in document.paragraphs
        if p.style is not None and p.style.name.startswith(("Heading", "Title"))
    ]


def _rows(grid: Table) -> list[list[str]]:
    return [[cell.text for cell in row.cells] for row in grid.rows]


def _texts(document: DocxDocument) -> list[str]:
    return [p.text for p in document.paragraphs]


def _captions(document: DocxDocument) -> list[str]:
    return [
        p.text for p in document.paragraphs if p.style is not None and p.style.name == "Caption"
    ]


# --- Word ---------------------------------------------------------------------------------------


def test_docx_headings_follow_the_items_in_order(data: LearningLogData) -> None:
    document = _open_docx(learning_log_docx(data))
    assert _headings(document) == [
        ("Title", "Learning log: missing children"),
        ("Heading 1", "Summary of items"),
        ("Heading 1", "The items"),
        ("Heading 2", "LL-2026-001 · Missing children, Child sexual exploitation"),
        ("Heading 2", "LL-2026-002"),
        ("Heading 2", "LL-2026-003 · Adolescent neglect"),
    ]


def test_docx_title_page_says_what_it_holds(data: LearningLogData) -> None:
    texts = _texts(_open_docx(learning_log_docx(data)))
    assert "Northshire Safeguarding Children Partnership" in texts
    assert "04 March 2026" in texts
    assert "Prepared for Learning and Improvement subgroup" in texts
    assert (
        "3 learning log items (theme: Missing children; 2026). "
        "Cases appear by pseudonymous reference only."
    ) in texts


def test_docx_summary_table_has_one_row_per_item(data: LearningLogData) -> None:
    document = _open_docx(learning_log_docx(data))
    assert _rows(document.tables[0]) == [
        ["Reference", "Date", "Source", "Themes", "Status"],
        [
            "LL-2026-001",
            "14 Jan 2026",
            "Case audit",
            "Missing children, Child sexual exploitation",
            "Signed off",
        ],
        ["LL-2026-002", "3 Feb 2026", "Practitioner feedback", "None", "Open"],
        ["LL-2026-003", "1 Mar 2026", "Case review", "Adolescent neglect", "Embedded"],
    ]
    assert _captions(document)[0] == "Table 1: Learning log items"


def test_docx_item_with_everything(data: LearningLogData) -> None:
    document = _open_docx(learning_log_docx(data))
    texts = _texts(document)
    start = texts.index("LL-2026-001 · Missing children, Child sexual exploitation")
    end = texts.index("LL-2026-002")
    section = texts[start + 1 : end]
    assert section[0] == (
        "Raised: 14 Jan 2026 · Case audit: Missing children audit, winter 2026 · Signed off"
    )
    assert (
        "The learning: Return-home interviews weren't offered within 72 hours — the child's "
        in (section[1])
    )
    assert section[2] == (
        "Evidence: Three of five cases had no interview recorded.\nPolice and school agreed."
    )
    assert "Agencies affected: Police, Children's social care" in section
    assert "Offer every child a return-home interview within 72 hours." in " ".join(section)
    assert "Recommendation 4: Record the child's words." in section
    assert "How it was shared: Briefing, Training" in section
    assert "Evidence of impact: Re-audit sample: 4 of 5 interviews within 72 hours." in section
    assert "Re-audit date: 30 Sep 2026" in section
    assert "Sign-off: Signed off by Dr Siân Llewellyn on 27 Feb 2026." in section
    raised = next(p for p in document.paragraphs if p.text.startswith("Raised: 14 Jan"))
    assert [(run.text, run.bold) for run in raised.runs] == [
        ("Raised: ", True),
        ("14 Jan 2026 · Case audit: Missing children audit, winter 2026 · Signed off", None),
    ]

    evidence, actions = document.tables[1], document.tables[2]
    assert _rows(evidence) == [
        ["Case", "Agency", "Criterion", "Grade"],
        ["MC-26-01", "Police", "cse.rhi", "requires_improvement"],
        ["MC-26-04", "Children's social care", "cse.voice", "Not graded"],
    ]
    rows = _rows(actions)
    assert rows[0] == ["Action", "Owner", "Agency", "Due", "Status", "RAG"]
    assert rows[1:] == [
        [
            "Action 1: review return-home interviews",
            "Zoë Okafor",
            "Police",
            "31 May 2026",
            "On track",
            RAG["on_track"],
        ],
        [
            "Action 2: review return-home interviews",
            "Priya Shah",
            "Children's social care",
            "1 Feb 2026",
            "At risk",
            RAG["at_risk"],
        ],
        [
            "Action 3: review return-home interviews",
            "Zoë Okafor",
            "Police",
            "30 Jun 2026",
            "Not started",
            RAG["not_started"],
        ],
        [
            "Action 4: review return-home interviews",
            "Zoë Okafor",
            "Police",
            "31 Jan 2026",
            "Complete",
            RAG["complete"],
        ],
    ]
    captions = _captions(document)
    assert captions[1:3] == [
        "Table 2: Findings behind LL-2026-001",
        "Table 3: Actions for LL-2026-001",
    ]


def test_docx_item_without_actions_or_optional_fields_says_so(data: LearningLogData) -> None:
    document = _open_docx(learning_log_docx(data))
    texts = _texts(document)
    start = texts.index("LL-2026-002")
    end = texts.index("LL-2026-003 · Adolescent neglect")
    assert texts[start + 1 : end] == [
        "Raised: 3 Feb 2026 · Practitioner feedback · Open",
        f"The learning: {INJECTED_LEARNING}",
        "Evidence: No evidence written.",
        "Agencies affected: None named.",
        "Recommendations: None linked.",
        "Actions: None linked.",
        "How it was shared: Not shared yet.",
        "Evidence of impact: None recorded yet.",
        "Re-audit date: Not set",
        "Sign-off: Not signed off.",
    ]
    # Four tables in all: the summary, item 1's evidence and actions, item 3's actions.
    assert len(document.tables) == 4


def test_docx_long_text_and_word_line_breaks_survive(data: LearningLogData) -> None:
    document = _open_docx(learning_log_docx(data))
    texts = _texts(document)
    assert f"The learning: {LONG_LEARNING}" in texts
    # A vertical tab (Word's line break when pasted) becomes a line break, not an error.
    assert f"Evidence: {INJECTED_EVIDENCE}\npasted from Word" in texts
    # The document ends with the last item's sign-off: nothing left behind after it.
    assert texts[-1] == f"Sign-off: Signed off by {INJECTED_SHARED_BY}."
    assert _rows(document.tables[3])[1] == [
        "Share the tenancy-risk checklist",
        "Tomás García",
        "housing",
        "15 Apr 2026",
        "Not started",
        "Amber",
    ]


def test_docx_is_marked_and_carries_properties(data: LearningLogData) -> None:
    document = _open_docx(learning_log_docx(data))
    section = document.sections[0]
    assert section.header.paragraphs[0].text == MARKING
    assert section.footer.paragraphs[0].text.startswith(f"{MARKING} · Page ")
    props = document.core_properties
    assert props.title == "Learning log: missing children"
    assert props.author == "Aoife Ní Bhriain"
    assert props.category == MARKING
    # Word keeps times in UTC; a naive time is taken as UTC.
    assert props.created == CREATED.replace(tzinfo=dt.UTC)
    assert props.keywords == "learning log, missing children"


def test_docx_single_item(data: LearningLogData) -> None:
    one = data.model_copy(update={"entries": data.entries[:1], "description": ""})
    document = _open_docx(learning_log_docx(one))
    assert [text for _, text in _headings(document)][1:] == [
        "Summary of items",
        "The items",
        "LL-2026-001 · Missing children, Child sexual exploitation",
    ]
    assert len(_rows(document.tables[0])) == 2
    assert "1 learning log item. Cases appear by pseudonymous reference only." in _texts(document)


def test_docx_empty_selection_says_so(data: LearningLogData) -> None:
    empty = data.model_copy(update={"entries": ()})
    document = _open_docx(learning_log_docx(empty))
    assert "No learning log items match this selection." in _texts(document)
    assert document.tables == []


def test_docx_uses_a_partnership_template(data: LearningLogData, tmp_path: Path) -> None:
    template = Document()
    template.sections[0].header.paragraphs[0].text = "Northshire logo"
    template.add_paragraph("Template body, cleared on use")
    path = tmp_path / "house.docx"
    template.save(str(path))
    document = _open_docx(learning_log_docx(data, template=path))
    assert [p.text for p in document.sections[0].header.paragraphs] == ["Northshire logo", MARKING]
    assert "Template body, cleared on use" not in _texts(document)


# --- Excel --------------------------------------------------------------------------------------


def _sheet(content: bytes, name: str = "Learning log"):  # type: ignore[no-untyped-def]
    return load_workbook(io.BytesIO(content))[name]


def test_xlsx_has_one_row_per_item_under_a_bold_frozen_filtered_header(
    data: LearningLogData,
) -> None:
    workbook = load_workbook(io.BytesIO(learning_log_xlsx(data)))
    assert workbook.sheetnames == ["Learning log", "About"]
    sheet = workbook["Learning log"]
    assert [cell.value for cell in sheet[1]] == COLUMNS
    assert all(cell.font.bold for cell in sheet[1])
    assert sheet.max_row == 1 + len(data.entries)
    assert sheet.freeze_panes == "A2"
    assert sheet.auto_filter.ref == "A1:O4"
    assert sheet.column_dimensions["A"].width == 14
    assert sheet.column_dimensions["E"].width == 60
    assert sheet["E4"].alignment.wrap_text
    assert [row[0].value for row in sheet.iter_rows(min_row=2)] == [
        "LL-2026-001",
        "LL-2026-002",
        "LL-2026-003",
    ]


def test_xlsx_full_row_values(data: LearningLogData) -> None:
    sheet = _sheet(learning_log_xlsx(data))
    row = {header: cell.value for header, cell in zip(COLUMNS, sheet[2], strict=True)}
    assert row == {
        "Reference": "LL-2026-001",
        "Raised on": dt.datetime(2026, 1, 14),
        "Source": "Case audit",
        "Themes": "Missing children; Child sexual exploitation",
        "Learning": "Return-home interviews weren't offered within 72 hours — the child's view "
        "was missing from every plan.",
        "Evidence": "Three of five cases had no interview recorded.\nPolice and school agreed.\n"
        "Case MC-26-01, Police, cse.rhi: requires_improvement\n"
        "Case MC-26-04, Children's social care, cse.voice: not graded",
        "Agencies": "Police; Children's social care",
        "Recommendations": "Recommendation 1: Offer every child a return-home interview within "
        "72 hours.; Recommendation 4: Record the child's words.",
        "Actions": "; ".join(
            [
                "Action 1: review return-home interviews — Zoë Okafor (Police), due 2026-05-31, "
                + RAG["on_track"],
                "Action 2: review return-home interviews — Priya Shah (Children's social care), "
                "due 2026-02-01, " + RAG["at_risk"] + ", overdue",
                "Action 3: review return-home interviews — Zoë Okafor (Police), due 2026-06-30, "
                + RAG["not_started"],
                "Action 4: review return-home interviews — Zoë Okafor (Police), due 2026-01-31, "
                + RAG["complete"],
            ]
        ),
        "How shared": "Briefing; Training",
        "Evidence of impact": "Re-audit sample: 4 of 5 interviews within 72 hours.",
        "Re-audit date": dt.datetime(2026, 9, 30),
        "Status": "Signed off",
        "Signed off by": "Dr Siân Llewellyn",
        "Signed off on": dt.datetime(2026, 2, 27),
    }


def test_xlsx_dates_are_real_dates(data: LearningLogData) -> None:
    sheet = _sheet(learning_log_xlsx(data))
    for coordinate in ("B2", "L2", "O2", "B3", "B4"):
        cell = sheet[coordinate]
        assert cell.is_date, coordinate
        assert cell.data_type == "d" or isinstance(cell.value, dt.datetime)
        assert "yy" in cell.number_format
    assert sheet["B3"].value == dt.datetime(2026, 2, 3)
    # Empty optional fields are empty cells, not the word "None".
    assert sheet["L3"].value is None
    assert sheet["N3"].value is None
    assert sheet["I3"].value is None


def test_xlsx_formula_like_text_stays_text(data: LearningLogData) -> None:
    content = learning_log_xlsx(data)
    sheet = _sheet(content)
    injected = {
        "E3": INJECTED_LEARNING,
        "F4": INJECTED_EVIDENCE + "\npasted from Word",
        "K4": INJECTED_IMPACT,
        "N4": INJECTED_SHARED_BY,
    }
    for coordinate, text in injected.items():
        cell = sheet[coordinate]
        assert cell.value == text, coordinate
        assert cell.data_type == "s", coordinate
        assert cell.quotePrefix, coordinate
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        xml = archive.read("xl/worksheets/sheet1.xml").decode()
    assert "<f>" not in xml
    assert "<f " not in xml


def test_xlsx_properties_marking_and_about_sheet(data: LearningLogData) -> None:
    workbook = load_workbook(io.BytesIO(learning_log_xlsx(data)))
    props = workbook.properties
    assert props.title == "Learning log: missing children"
    assert props.creator == "Aoife Ní Bhriain"
    assert props.category == MARKING
    assert props.created == CREATED
    assert props.modified == CREATED
    sheet = workbook["Learning log"]
    assert sheet.oddHeader.center.text == MARKING
    assert MARKING in sheet.oddFooter.center.text
    about = {row[0].value: row[1].value for row in workbook["About"].iter_rows()}
    assert about["Selection"] == "theme: Missing children; 2026"
    assert about["Items"] == 3
    assert about["Prepared for"] == "Learning and Improvement subgroup"
    assert about["Protective marking"] == MARKING


def test_xlsx_is_the_same_bytes_for_the_same_data(data: LearningLogData) -> None:
    first = learning_log_xlsx(data)
    with zipfile.ZipFile(io.BytesIO(first)) as archive:
        assert {info.date_time for info in archive.infolist()} == {(2026, 3, 4, 10, 30, 0)}
    assert learning_log_xlsx(data) == first


def test_xlsx_aware_created_time_is_written_as_utc(data: LearningLogData) -> None:
    london_summer = dt.timezone(dt.timedelta(hours=1))
    meta = _meta(created=dt.datetime(2026, 7, 1, 9, 0, tzinfo=london_summer))
    content = learning_log_xlsx(data.model_copy(update={"meta": meta}))
    assert load_workbook(io.BytesIO(content)).properties.created == dt.datetime(2026, 7, 1, 8, 0)


def test_xlsx_empty_selection_keeps_the_header(data: LearningLogData) -> None:
    sheet = _sheet(learning_log_xlsx(data.model_copy(update={"entries": ()})))
    assert [cell.value for cell in sheet[1]] == COLUMNS
    assert sheet.max_row == 1


# --- CSV ----------------------------------------------------------------------------------------


def _csv_rows(content: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(content.decode("utf-8-sig"), newline="")))


def test_csv_is_utf8_with_bom_and_crlf(data: LearningLogData) -> None:
    content = learning_log_csv(data)
    assert content.startswith(b"\xef\xbb\xbf")
    header_line = content[3:].split(b"\r\n", 1)[0].decode()
    assert header_line == ",".join(COLUMNS)
    # Every record ends in CRLF; line breaks inside a quoted cell stay as written.
    assert content.endswith(b"\r\n")
    assert content.count(b"\r\n") == 1 + len(data.entries)


def test_csv_rows_match_the_items(data: LearningLogData) -> None:
    rows = _csv_rows(learning_log_csv(data))
    assert rows[0] == COLUMNS
    assert len(rows) == 1 + len(data.entries)
    full = dict(zip(COLUMNS, rows[1], strict=True))
    assert full["Raised on"] == "2026-01-14"
    assert full["Re-audit date"] == "2026-09-30"
    assert full["Signed off on"] == "2026-02-27"
    assert full["Themes"] == "Missing children; Child sexual exploitation"
    assert full["Agencies"] == "Police; Children's social care"
    assert full["Actions"].split("; ")[1] == (
        "Action 2: review return-home interviews — Priya Shah (Children's social care), "
        "due 2026-02-01, Red, overdue"
    )
    bare = dict(zip(COLUMNS, rows[2], strict=True))
    assert bare == {
        "Reference": "LL-2026-002",
        "Raised on": "2026-02-03",
        "Source": "Practitioner feedback",
        "Themes": "",
        "Learning": "'" + INJECTED_LEARNING,
        "Evidence": "",
        "Agencies": "",
        "Recommendations": "",
        "Actions": "",
        "How shared": "",
        "Evidence of impact": "",
        "Re-audit date": "",
        "Status": "Open",
        "Signed off by": "",
        "Signed off on": "",
    }
    long = dict(zip(COLUMNS, rows[3], strict=True))
    assert long["Learning"] == LONG_LEARNING
    assert long["Source"] == "Case review"
    assert long["Actions"] == (
        "Share the tenancy-risk checklist — Tomás García (housing), due 2026-04-15, Amber"
    )


def test_csv_formula_like_text_gets_a_leading_quote(data: LearningLogData) -> None:
    rows = _csv_rows(learning_log_csv(data))
    long = dict(zip(COLUMNS, rows[3], strict=True))
    assert long["Evidence"] == "'" + INJECTED_EVIDENCE + "\npasted from Word"
    assert long["Evidence of impact"] == "'" + INJECTED_IMPACT
    assert long["Signed off by"] == "'" + INJECTED_SHARED_BY
    # Ordinary text is left alone.
    assert long["Status"] == "Embedded"
