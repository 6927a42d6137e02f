"""Figures: a learning log of 1,000 items as .docx and as .xlsx, each against a bare script.

The log is built here by hand (seeded, no database) with the mix a partnership's log holds
after a few years: items from every source strand, most linked to findings, many with
recommendations and actions, some signed off.

- learning-log-docx: exports.learning_log.learning_log_docx against python-docx's public API
  writing the same paragraphs (text and style) and tables (cells), read off the rendered
  document before timing and checked to give the same blocks (report_export.blocks).
- learning-log-xlsx: exports.learning_log.learning_log_xlsx against a bare openpyxl
  write-only workbook appending the same cell values to the same two sheets, read off the
  rendered workbook before timing and checked to read back the same.
"""

from __future__ import annotations

import datetime as dt
import io
import random
import sys
from collections.abc import Sequence

from openpyxl import Workbook, load_workbook  # type: ignore[import-untyped]

from benchmarks.report import Figure
from benchmarks.report_export import AGENCY_NAMES, THEMES, describe, meta, script_of, write_bare
from benchmarks.timing import compare, stopwatch
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
from schemas.reports import LearningLogData, LearningLogEntry

DOCX_NAME = "learning-log-docx"
XLSX_NAME = "learning-log-xlsx"
TARGET = 1.5
ITEMS = 1_000
QUICK_ITEMS = 100
SEED = 2027
FIRST_DAY = dt.date(2022, 1, 10)

_LEARNING = (
    "Indicators of exploitation were recorded by several agencies but not brought together, "
    "so no single agency saw the pattern until the risk was significant.",
    "Return home interviews were offered late or not at all, and what children said in them "
    "did not reach the social worker or the police missing person coordinator.",
    "Where the child's own words were recorded, plans were more specific and the child "
    "stayed engaged with the worker who knew them.",
    "Supervision rarely challenged drift: plans stayed unchanged for months while new "
    "incidents were logged by police and school.",
    "Health practitioners were not invited to strategy meetings, so repeat attendances at "
    "sexual health and A&E were never considered alongside the missing episodes.",
    "Threshold decisions at the front door were not explained to referrers, who stopped "
    "referring concerns they judged would not meet the threshold.",
    "Language in records sometimes implied the child chose the risk ('putting herself at "
    "risk'), which shaped how later practitioners saw her.",
    "Chronologies were not kept up to date, so the escalation of risk over the summer was "
    "only visible when the panel pieced it together on the day.",
)
_EVIDENCE = (
    "Seen in seven of the ten cases audited; in four the indicators were recorded by two or "
    "more agencies within the same month.",
    "The panel found no return home interview on file in five cases and late interviews in "
    "two; none of the interview records reached the social worker.",
    "Practitioner feedback sessions in three localities described the same gap.",
    "Performance data for the last two quarters shows the same pattern across the area.",
    "Two rapid reviews and one child safeguarding practice review reached the same finding.",
    "",
)
_IMPACT = (
    "",
    "",
    "Re-audit sample: four of five interviews within 72 hours of the child's return.",
    "Referrer feedback letters now sent in 90% of cases; repeat referrals fell by a fifth.",
    "Strategy meeting attendance by health rose from 40% to 85% over two quarters.",
)
_RECOMMENDATIONS = (
    "Agree a single exploitation screening tool and review it after every missing episode.",
    "Share missing information with the allocated social worker the same working day.",
    "Record the child's voice in supervision and test the plan against new incidents.",
    "Tell referrers what was decided and why within three working days.",
    "Invite the school and health to every strategy meeting about the child.",
)
_ACTIONS = (
    "Publish the revised screening tool and guidance on the partnership website",
    "Add a same-day missing notification to the police and social care protocol",
    "Run two multi-agency workshops on recording the child's voice",
    "Audit ten supervision records per agency for challenge of drift",
    "Introduce referrer feedback letters at the front door",
    "Add health to the standing strategy meeting invitation list",
)
_PEOPLE = ("J. Patel", "S. Okafor", "M. Nowak", "R. Hughes", "L. Byrne", "A. Clarke")
_CODES = tuple(AGENCY_NAMES)
_SOURCES = tuple(LearningSource)
# Most items come from case audits, as in most partnerships' logs.
_SOURCE_WEIGHTS = (10, 3, 2, 3, 2, 2, 1)


def _audit_title(day: dt.date) -> str:
    return f"CSE multi-agency audit, {day:%B %Y}"


def learning_log_data(items: int, *, seed: int = SEED) -> LearningLogData:
    rng = random.Random(seed)
    entries: list[LearningLogEntry] = []
    for n in range(1, items + 1):
        raised = FIRST_DAY + dt.timedelta(days=n * 1_460 // max(items, 1))
        source = rng.choices(_SOURCES, _SOURCE_WEIGHTS)[0]
        from_audit = source is LearningSource.CASE_AUDIT
        status = rng.choice(list(LearningStatus))
        signed = status is LearningStatus.SIGNED_OFF
        themes = rng.sample(THEMES, rng.choice((1, 1, 2, 3)))
        agencies = rng.sample(_CODES, rng.randint(1, 3))
        links = (
            tuple(
                EvidenceLink(
                    finding_id=rng.randrange(1, 300_000),
                    case_reference=f"CSE-{raised:%y}-{rng.randint(1, 12):03d}",
                    agency=rng.choice(_CODES),
                    criterion_id=f"cse-{rng.randint(1, 6)}.{rng.randint(1, 3)}",
                    grade=rng.choice(("Good", "Requires improvement to be good", "Inadequate")),
                )
                for _ in range(rng.randint(1, 4))
            )
            if from_audit
            else ()
        )
        recommendations = tuple(
            RecommendationOut(
                id=n * 10 + r,
                audit_id=n,
                number=r,
                text=rng.choice(_RECOMMENDATIONS),
                learning_item_ids=(n,),
            )
            for r in range(1, (rng.randint(0, 2) if from_audit else 0) + 1)
        )
        actions = tuple(
            ActionOut(
                id=n * 10 + a,
                audit_id=n if from_audit else None,
                audit_title=_audit_title(raised) if from_audit else None,
                recommendation_id=recommendations[0].id if recommendations else None,
                recommendation_number=recommendations[0].number if recommendations else None,
                description=rng.choice(_ACTIONS),
                owner_name=rng.choice(_PEOPLE),
                owner_agency=rng.choice(agencies),
                due_on=raised + dt.timedelta(days=rng.randint(60, 300)),
                status=rng.choice(list(ActionStatus)),
                evidence_of_impact="",
                escalation_route="",
                created_by="partnership.manager",
                overdue=False,
                days_overdue=0,
            )
            for a in range(1, (rng.randint(0, 3) if recommendations else 0) + 1)
        )
        item = LearningItemOut(
            id=n,
            reference=f"LL-{raised:%Y}-{n:04d}",
            raised_on=raised,
            source=source,
            audit_id=n if from_audit else None,
            audit_title=_audit_title(raised) if from_audit else None,
            learning=" ".join(rng.sample(_LEARNING, rng.randint(1, 2))),
            evidence=rng.choice(_EVIDENCE),
            themes=tuple(code for code, _ in themes),
            agencies=tuple(agencies),
            shared_how=tuple(rng.sample(list(SharedHow), rng.randint(0, 2))),
            impact_evidence=rng.choice(_IMPACT),
            reaudit_on=raised + dt.timedelta(days=365) if rng.random() < 0.6 else None,
            status=status,
            signed_off_by=rng.choice(_PEOPLE) if signed else None,
            signed_off_on=raised + dt.timedelta(days=200) if signed else None,
            created_by="partnership.manager",
            evidence_links=links,
            recommendations=tuple(r.id for r in recommendations),
        )
        entries.append(
            LearningLogEntry(
                item=item,
                theme_labels=tuple(label for _, label in themes),
                agency_names=tuple(AGENCY_NAMES[code] for code in agencies),
                recommendations=recommendations,
                actions=actions,
            )
        )
    return LearningLogData(
        meta=meta("Learning log", "All items", "Learning log"),
        description="all items",
        entries=tuple(entries),
        agency_names=tuple(AGENCY_NAMES.items()),
    )


def _counts(data: LearningLogData) -> str:
    entries = data.entries
    links = sum(len(e.item.evidence_links) for e in entries)
    actions = sum(len(e.actions) for e in entries)
    return f"{len(entries):,} items ({links:,} evidence links, {actions:,} actions)"


def run_docx(quick: bool) -> Figure:
    from exports.learning_log import learning_log_docx

    items = QUICK_ITEMS if quick else ITEMS
    repeats = 3
    print(f"  building a learning log of {items:,} items", file=sys.stderr)
    data = learning_log_data(items)
    rendered = learning_log_docx(data)
    script = script_of(rendered, DOCX_NAME)
    medians = compare(
        lambda: stopwatch(lambda: learning_log_docx(data)),
        lambda: stopwatch(lambda: write_bare(script)),
        repeats=repeats,
    )
    return Figure(
        name=DOCX_NAME,
        measures=(
            f"learning_log_docx: {_counts(data)}; {describe(script)}, "
            f"{len(rendered) / 1024:,.0f} KiB"
        ),
        baseline_measures=(
            "bare python-docx (Document, add_paragraph, add_table + cell.text, save) writing "
            "the same paragraphs and tables"
        ),
        value=medians.value,
        baseline=medians.baseline,
        target=TARGET,
        repeats=medians.repeats,
    )


Sheets = list[tuple[str, list[list[object]]]]


def _trimmed(row: Sequence[object]) -> list[object]:
    # A reader pads each row to the sheet's widest: empty cells at the end are not content.
    values = list(row)
    while values and values[-1] is None:
        values.pop()
    return values


def sheets(xlsx: bytes) -> Sheets:
    """Every sheet's title and cell values, as a reader opening the file sees them."""
    workbook = load_workbook(io.BytesIO(xlsx), read_only=True)
    try:
        return [
            (sheet.title, [_trimmed(row) for row in sheet.iter_rows(values_only=True)])
            for sheet in workbook.worksheets
        ]
    finally:
        workbook.close()


def write_bare_xlsx(content: Sequence[tuple[str, Sequence[Sequence[object]]]]) -> bytes:
    """The same values in the same sheets: a write-only workbook, rows appended, saved."""
    workbook = Workbook(write_only=True)
    for title, rows in content:
        sheet = workbook.create_sheet(title)
        for row in rows:
            sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def run_xlsx(quick: bool) -> Figure:
    from exports.learning_log import learning_log_xlsx

    items = QUICK_ITEMS if quick else ITEMS
    repeats = 5
    print(f"  building a learning log of {items:,} items", file=sys.stderr)
    data = learning_log_data(items)
    rendered = learning_log_xlsx(data)
    content = sheets(rendered)
    if sheets(write_bare_xlsx(content)) != content:
        raise RuntimeError(f"{XLSX_NAME}: the bare openpyxl workbook reads back other cells")
    cells = sum(len(row) for _, rows in content for row in rows)
    medians = compare(
        lambda: stopwatch(lambda: learning_log_xlsx(data)),
        lambda: stopwatch(lambda: write_bare_xlsx(content)),
        repeats=repeats,
    )
    return Figure(
        name=XLSX_NAME,
        measures=(
            f"learning_log_xlsx: {_counts(data)}; {len(content)} sheets, {cells:,} cells, "
            f"{len(rendered) / 1024:,.0f} KiB"
        ),
        baseline_measures=(
            "bare openpyxl write-only workbook appending the same values to the same sheets "
            "(no styles, widths, filter, marking or pinned zip dates), saved"
        ),
        value=medians.value,
        baseline=medians.baseline,
        target=TARGET,
        repeats=medians.repeats,
        note=(
            "the value styles its cells (top alignment, wrapping, date format) once per look "
            "and leaves empty cells out, writing the item rows' XML itself; the baseline "
            "writes bare values"
        ),
    )
