"""The six-monthly subgroup summary, reopened with python-docx and read section by section.

The data is built by hand; expected text is written out from it, not computed by the code.
"""

from __future__ import annotations

import datetime as dt
import io

import pytest
from docx import Document
from docx.document import Document as DocxDocument
from docx.table import Table

from exports.subgroup_summary import subgroup_summary_docx
from schemas.learning import (
    ActionOut,
    ActionStatus,
    LearningItemOut,
    LearningSource,
    LearningStatus,
)
from schemas.reports import AuditDone, DocumentMeta, PlannedAudit, SubgroupSummaryData

MARKING = "OFFICIAL"  # not the default, so a fixed marking fails
CREATED = dt.datetime(2026, 10, 2, 9, 15)
SECTIONS = [
    "1 Audits completed and what each found",
    "2 Facilitated discussions",
    "3 Learning added to the log",
    "4 Actions and their status",
    "5 The forward plan (next six months)",
    "6 For the full board and other boards",
]


def _meta() -> DocumentMeta:
    return DocumentMeta(
        title="Learning and Improvement subgroup: six-monthly summary",
        partnership="Northshire Safeguarding Children Partnership",
        author="Aoife Ní Bhriain",
        prepared_for="Safeguarding Children Partnership board",
        protective_marking=MARKING,
        created=CREATED,
    )


def _audit(title: str, **changes: object) -> AuditDone:
    fields: dict[str, object] = {
        "title": title,
        "tool_title": "Child sexual exploitation",
        "kind": "Multi-agency audit",
        "audit_day": dt.date(2026, 5, 12),
        "status": "Closed",
        "cases": 6,
        "agencies": 7,
        "favourable_share": 0.6,
        "favourable_label": "Good or better",
        "top_themes": ("Missing children", "Voice of the child"),
        "recommendations": ("Offer return-home interviews within 72 hours.",),
    }
    fields.update(changes)
    return AuditDone.model_validate(fields)


def _action(
    number: int,
    status: ActionStatus,
    due: dt.date,
    *,
    overdue: bool = False,
    days_overdue: int = 0,
) -> ActionOut:
    return ActionOut(
        id=number,
        audit_id=3,
        audit_title="CSE audit, spring 2026",
        recommendation_id=None,
        recommendation_number=None,
        description=f"Action {number}: refresh the CSE screening tool training",
        owner_name="Zoë Okafor",
        owner_agency="police",
        due_on=due,
        status=status,
        evidence_of_impact="",
        escalation_route="MASH board",
        created_by="Lead",
        overdue=overdue,
        days_overdue=days_overdue,
    )


def _learning(item_id: int, reference: str, learning: str, **changes: object) -> LearningItemOut:
    fields: dict[str, object] = {
        "id": item_id,
        "reference": reference,
        "raised_on": dt.date(2026, 6, 1),
        "source": LearningSource.CASE_AUDIT,
        "audit_id": 3,
        "audit_title": "CSE audit, spring 2026",
        "learning": learning,
        "evidence": "",
        "themes": ("missing", "cse"),
        "agencies": ("police",),
        "shared_how": (),
        "impact_evidence": "",
        "reaudit_on": None,
        "status": LearningStatus.SHARED,
        "signed_off_by": None,
        "signed_off_on": None,
        "created_by": "Lead",
    }
    fields.update(changes)
    return LearningItemOut.model_validate(fields)


@pytest.fixture
def data() -> SubgroupSummaryData:
    return SubgroupSummaryData(
        meta=_meta(),
        period_start=dt.date(2026, 4, 1),
        period_end=dt.date(2026, 9, 30),
        audits=(
            _audit("CSE audit, spring 2026"),
            _audit(
                "GP reports to conference",
                tool_title="GP reports (single agency)",
                kind="Single-agency audit",
                audit_day=None,
                status="Reporting",
                cases=1,
                agencies=1,
                favourable_share=None,
                top_themes=(),
                recommendations=(),
            ),
        ),
        facilitated_discussions=(
            _audit(
                "Neglect in adolescence — facilitated discussion",
                tool_title="Facilitated discussion",
                kind="Facilitated discussion",
                audit_day=dt.date(2026, 7, 3),
                cases=2,
                agencies=4,
                favourable_share=None,
                top_themes=("Adolescent neglect",),
                recommendations=("Ask housing to join the neglect pathway group.",),
            ),
        ),
        learning=(
            _learning(
                1,
                "LL-2026-004",
                "Return-home interviews weren't offered within 72 hours.",
            ),
            _learning(
                2,
                "LL-2026-005",
                "Practitioners asked for a single chronology template.",
                source=LearningSource.PRACTITIONER_FEEDBACK,
                audit_id=None,
                audit_title=None,
                raised_on=dt.date(2026, 8, 19),
                status=LearningStatus.OPEN,
                themes=(),
            ),
        ),
        actions=(
            _action(1, ActionStatus.AT_RISK, dt.date(2026, 8, 31), overdue=True, days_overdue=32),
            _action(
                2, ActionStatus.NOT_STARTED, dt.date(2026, 9, 29), overdue=True, days_overdue=1
            ),
            _action(3, ActionStatus.ON_TRACK, dt.date(2026, 12, 1)),
            _action(4, ActionStatus.COMPLETE, dt.date(2026, 6, 30)),
            _action(5, ActionStatus.ON_TRACK, dt.date(2027, 1, 15)),
        ),
        forward_plan=(
            PlannedAudit(
                title="Domestic abuse audit, winter 2026",
                tool_title="Domestic abuse",
                audit_day=dt.date(2026, 12, 8),
                returns_due=dt.date(2026, 11, 24),
                status="Planning",
            ),
            PlannedAudit(
                title="Early help and exclusions",
                tool_title="Early help and primary school exclusions",
                audit_day=None,
                returns_due=None,
                status="Planning",
            ),
        ),
        for_the_board=(
            "Escalate to the MASH board: action 1 is 32 days overdue.",
            "Tell the Community Safety Partnership about the missing-episode pattern.",
        ),
        agency_names=(("police", "Police"), ("csc", "Children's social care")),
        # 'cse' is left out on purpose: a code without a label is shown as the code.
        theme_labels=(("missing", "Missing children"), ("neglect", "Adolescent neglect")),
    )


def _open(content: bytes) -> DocxDocument:
    return Document(io.BytesIO(content))


def _headings(document: DocxDocument) -> list[tuple[str, str]]:
    return [
        (p.style.name, p.text)
        for p in document.paragraphs
        if p.style is not None and p.style.name.startswith(("Heading", "Title", "TOC"))
    ]


def _rows(grid: Table) -> list[list[str]]:
    return [[cell.text for cell in row.cells] for row in grid.rows]


def _texts(document: DocxDocument) -> list[str]:
    return [p.text for p in document.paragraphs]


def _heading_index(document: DocxDocument, text: str) -> int:
    # The contents list repeats each heading's words, so look for the heading itself.
    return next(
        index
        for index, p in enumerate(document.paragraphs)
        if p.text == text and p.style is not None and p.style.name == "Heading 1"
    )


def _section(document: DocxDocument, number: int) -> list[str]:
    """The paragraphs between section `number`'s heading and the next one."""
    texts = _texts(document)
    start = _heading_index(document, SECTIONS[number - 1])
    end = _heading_index(document, SECTIONS[number]) if number < len(SECTIONS) else len(texts)
    return texts[start + 1 : end]


def test_headings_in_order(data: SubgroupSummaryData) -> None:
    document = _open(subgroup_summary_docx(data))
    assert _headings(document) == [
        ("Title", "Learning and Improvement subgroup: six-monthly summary"),
        ("TOC Heading", "Contents"),
        ("Heading 1", SECTIONS[0]),
        ("Heading 2", "CSE audit, spring 2026"),
        ("Heading 2", "GP reports to conference"),
        ("Heading 1", SECTIONS[1]),
        ("Heading 2", "Neglect in adolescence — facilitated discussion"),
        ("Heading 1", SECTIONS[2]),
        ("Heading 1", SECTIONS[3]),
        ("Heading 1", SECTIONS[4]),
        ("Heading 1", SECTIONS[5]),
    ]


def test_title_page_names_the_period_and_contents_is_a_field(data: SubgroupSummaryData) -> None:
    document = _open(subgroup_summary_docx(data))
    texts = _texts(document)
    # With no subtitle of its own, the period is the subtitle.
    subtitle = document.paragraphs[1].style
    assert subtitle is not None
    assert subtitle.name == "Subtitle"
    assert document.paragraphs[1].text == "Period: 1 Apr 2026 to 30 Sep 2026"
    assert "Prepared for Safeguarding Children Partnership board" in texts
    assert "02 October 2026" in texts
    assert 'TOC \\o "1-2"' in document.element.xml
    # Until Word rebuilds it, the contents list shows the headings (both levels) in order.
    toc_end = _heading_index(document, SECTIONS[0])
    contents = [t for t in texts[texts.index("Contents") + 1 : toc_end] if t]
    assert contents == [
        SECTIONS[0],
        "CSE audit, spring 2026",
        "GP reports to conference",
        SECTIONS[1],
        "Neglect in adolescence — facilitated discussion",
        *SECTIONS[2:],
    ]


def test_a_given_subtitle_keeps_the_period_on_the_title_page(data: SubgroupSummaryData) -> None:
    meta = data.meta.model_copy(update={"subtitle": "April to September 2026"})
    document = _open(subgroup_summary_docx(data.model_copy(update={"meta": meta})))
    assert [p.text for p in document.paragraphs[:6]] == [
        "Learning and Improvement subgroup: six-monthly summary",
        "April to September 2026",
        "Northshire Safeguarding Children Partnership",
        "02 October 2026",
        "Prepared for Safeguarding Children Partnership board",
        "Period: 1 Apr 2026 to 30 Sep 2026",
    ]


def test_audits_table_and_a_paragraph_per_audit(data: SubgroupSummaryData) -> None:
    document = _open(subgroup_summary_docx(data))
    assert _rows(document.tables[0]) == [
        ["Audit", "Tool", "Kind", "Audit day", "Status", "Cases", "Agencies", "Favourable"],
        [
            "CSE audit, spring 2026",
            "Child sexual exploitation",
            "Multi-agency audit",
            "12 May 2026",
            "Closed",
            "6",
            "7",
            "60% Good or better",
        ],
        [
            "GP reports to conference",
            "GP reports (single agency)",
            "Single-agency audit",
            "Not set",
            "Reporting",
            "1",
            "1",
            "Not graded",
        ],
    ]
    section = _section(document, 1)
    assert (
        "CSE audit, spring 2026 (Child sexual exploitation, audit day 12 May 2026) looked at "
        "6 cases across 7 agencies. 60% of graded findings were good or better. Themes that "
        "recurred: Missing children, Voice of the child."
    ) in section
    assert "Offer return-home interviews within 72 hours." in section
    assert (
        "GP reports to conference (GP reports (single agency)) looked at 1 case across "
        "1 agency. No recurring themes were recorded."
    ) in section
    assert "No recommendations were made." in section


def test_facilitated_discussions(data: SubgroupSummaryData) -> None:
    document = _open(subgroup_summary_docx(data))
    assert _rows(document.tables[1])[1][:4] == [
        "Neglect in adolescence — facilitated discussion",
        "Facilitated discussion",
        "Facilitated discussion",
        "3 Jul 2026",
    ]
    section = _section(document, 2)
    assert "Ask housing to join the neglect pathway group." in section


def test_learning_added(data: SubgroupSummaryData) -> None:
    document = _open(subgroup_summary_docx(data))
    assert "2 items added to the learning log in this period." in _section(document, 3)
    assert _rows(document.tables[2]) == [
        ["Reference", "Raised", "Source", "Themes", "Learning", "Status"],
        [
            "LL-2026-004",
            "1 Jun 2026",
            "Case audit: CSE audit, spring 2026",
            "Missing children, cse",
            "Return-home interviews weren't offered within 72 hours.",
            "Shared",
        ],
        [
            "LL-2026-005",
            "19 Aug 2026",
            "Practitioner feedback",
            "None",
            "Practitioners asked for a single chronology template.",
            "Open",
        ],
    ]


def test_actions_with_counts_rag_and_overdue_flags(data: SubgroupSummaryData) -> None:
    document = _open(subgroup_summary_docx(data))
    assert "5 actions, 2 of them overdue (due before today and not complete)." in _section(
        document, 4
    )
    assert _rows(document.tables[3]) == [
        ["Status", "RAG", "Actions"],
        ["Not started", "Amber", "1"],
        ["On track", "Green", "2"],
        ["At risk", "Red", "1"],
        ["Complete", "Complete", "1"],
    ]
    rows = _rows(document.tables[4])
    assert rows[0] == ["Action", "Owner", "Agency", "Due", "Status", "RAG", "Overdue"]
    assert [row[3:] for row in rows[1:]] == [
        ["31 Aug 2026", "At risk", "Red", "Yes, 32 days"],
        ["29 Sep 2026", "Not started", "Amber", "Yes, 1 day"],
        ["1 Dec 2026", "On track", "Green", "No"],
        ["30 Jun 2026", "Complete", "Complete", "No"],
        ["15 Jan 2027", "On track", "Green", "No"],
    ]
    assert rows[1][:3] == [
        "Action 1: refresh the CSE screening tool training",
        "Zoë Okafor",
        "Police",
    ]


def test_forward_plan_and_the_board(data: SubgroupSummaryData) -> None:
    document = _open(subgroup_summary_docx(data))
    assert _rows(document.tables[5]) == [
        ["Audit", "Tool", "Audit day", "Returns due", "Status"],
        [
            "Domestic abuse audit, winter 2026",
            "Domestic abuse",
            "8 Dec 2026",
            "24 Nov 2026",
            "Planning",
        ],
        [
            "Early help and exclusions",
            "Early help and primary school exclusions",
            "To be set",
            "To be set",
            "Planning",
        ],
    ]
    board = document.paragraphs[_heading_index(document, SECTIONS[5]) + 1 :]
    assert [(p.style.name if p.style else "", p.text) for p in board] == [
        ("List Bullet", "Escalate to the MASH board: action 1 is 32 days overdue."),
        (
            "List Bullet",
            "Tell the Community Safety Partnership about the missing-episode pattern.",
        ),
    ]


def test_captions_number_the_tables_in_order(data: SubgroupSummaryData) -> None:
    document = _open(subgroup_summary_docx(data))
    captions = [
        p.text for p in document.paragraphs if p.style is not None and p.style.name == "Caption"
    ]
    assert captions == [
        "Table 1: Audits completed, 1 Apr 2026 to 30 Sep 2026",
        "Table 2: Facilitated discussions, 1 Apr 2026 to 30 Sep 2026",
        "Table 3: Learning added, 1 Apr 2026 to 30 Sep 2026",
        "Table 4: Actions by status",
        "Table 5: Actions and their status",
        "Table 6: Audits planned for the next six months",
    ]


def test_empty_sections_say_so(data: SubgroupSummaryData) -> None:
    empty = data.model_copy(
        update={
            "audits": (),
            "facilitated_discussions": (),
            "learning": (),
            "actions": (),
            "forward_plan": (),
            "for_the_board": (),
        }
    )
    document = _open(subgroup_summary_docx(empty))
    assert document.tables == []
    assert [text for _, text in _headings(document)][2:] == SECTIONS
    assert [_section(document, n) for n in range(1, 7)] == [
        ["No audits were completed in this period."],
        ["No facilitated discussions were held in this period."],
        ["No learning was added to the log in this period."],
        ["No actions were open or due in this period."],
        ["No audits are planned for the next six months yet."],
        ["Nothing needs to go to the full board or other boards this time."],
    ]


def test_marking_and_properties(data: SubgroupSummaryData) -> None:
    document = _open(subgroup_summary_docx(data))
    for section in document.sections:
        assert section.header.paragraphs[0].text == MARKING
        assert section.footer.paragraphs[0].text.startswith(f"{MARKING} · Page ")
    props = document.core_properties
    assert props.title == "Learning and Improvement subgroup: six-monthly summary"
    assert props.author == "Aoife Ní Bhriain"
    assert props.category == MARKING
    assert props.comments == "Prepared for Safeguarding Children Partnership board"
    assert props.created == CREATED.replace(tzinfo=dt.UTC)
