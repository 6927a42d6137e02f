"""Agreement between graders: the view shows the figures the agreement service computes."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
from rich.text import Text
from sqlalchemy.orm import Session, sessionmaker
from textual.pilot import Pilot
from textual.widgets import DataTable, Static, Tabs

from audit_tools import ToolRegistry
from schemas.audit import Actor, AuditDetail, FindingChange, ModerationHeading
from tests.conftest import cse_plan
from tests.tui.pilot_helpers import settle
from workbench.config import Settings
from workbench.services import audits, casework, returns
from workbench.services.agreement import Comparison, agreement, record_second_grade
from workbench.tui.agreement_view import (
    UNDEFINED,
    AgreementView,
    figure_cells,
    kappa_band,
    kappa_text,
)
from workbench.tui.app import WorkbenchApp
from workbench.tui.matrix_screen import AuditScreen
from workbench.tui.moderation_screen import ModerationScreen

AGENCIES = ("gp", "police", "school")
AUDITOR = Actor(name="a.auditor", agency="police")
SECOND = Actor(name="s.second", agency="police")
LEAD = Actor(name="t.tester")
TODAY = dt.date(2026, 11, 23)
SIZE = (100, 36)
SnapCompare = Callable[..., bool]

# (agency, criterion): (the agency's own grade or None for no finding, the second grade).
# Police agree on every graded pair, across all four levels; one pair each is left out as
# not applicable, not evidenced and unanswered. The GP differs once.
DOUBLE_GRADED: dict[tuple[str, str], tuple[str | None, str]] = {
    ("police", "cse-1.1"): ("good", "good"),
    ("police", "cse-2.1"): ("outstanding", "outstanding"),
    ("police", "cse-2.2"): ("requires_improvement", "requires_improvement"),
    ("police", "cse-3.2"): ("inadequate", "inadequate"),
    ("police", "cse-4.2"): ("not_applicable", "good"),
    ("police", "cse-4.1"): ("not_evidenced", "good"),
    ("police", "cse-5.1"): (None, "good"),
    ("gp", "cse-1.1"): ("good", "requires_improvement"),
    ("gp", "cse-2.1"): ("outstanding", "outstanding"),
}


def seed(
    factory: sessionmaker[Session], registry: ToolRegistry, *, graded: bool = True
) -> AuditDetail:
    audit = audits.create_audit(
        factory,
        AUDITOR,
        registry,
        cse_plan(agencies=AGENCIES, cases=3).model_copy(
            update={"title": "CSE audit, spring 2026", "audit_day": dt.date(2026, 3, 31)}
        ),
    )
    if not graded:
        return audit
    first = audit.cases[0]
    for (agency, criterion), (own, second) in DOUBLE_GRADED.items():
        rid = returns.find_return(factory, audit.id, first.reference, agency)
        if own is not None:
            returns.record_finding(
                factory,
                AUDITOR,
                rid,
                criterion,
                FindingChange(grade=own, evidence=f"{agency} record for {criterion}"),
                expected_version=None,
            )
        record_second_grade(factory, SECOND, rid, criterion, second)
    rid = returns.find_return(factory, audit.id, first.reference, "school")
    returns.record_finding(
        factory,
        AUDITOR,
        rid,
        "cse-1.1",
        FindingChange(grade="inadequate", evidence="school record"),
        expected_version=None,
    )
    for heading, grade in (
        (ModerationHeading.OVERALL, "good"),
        (ModerationHeading.RECOGNITION, "requires_improvement"),
    ):
        casework.set_moderated_grade(
            factory,
            AUDITOR,
            first.id,
            heading,
            grade=grade,
            reasons="Panel view",
            expected_version=0,
        )
    return audit


@pytest.fixture
def audit(sqlite_factory: sessionmaker[Session], registry: ToolRegistry) -> AuditDetail:
    return seed(sqlite_factory, registry)


def app_for(
    settings: Settings, factory: sessionmaker[Session], registry: ToolRegistry
) -> WorkbenchApp:
    return WorkbenchApp(settings, factory, registry, database_label="workbench.db", today=TODAY)


def plain_rows(table: DataTable[Any]) -> dict[str, list[str]]:
    return {
        str(key.value): [c.plain if isinstance(c, Text) else str(c) for c in table.get_row(key)]
        for key in table.rows
    }


def text_of(screen: Any, selector: str) -> str:
    return str(screen.query_one(selector, Static).render())


# --- bands ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kappa", "words"),
    [
        (-0.3, "poor"),
        (0.0, "slight"),
        (0.2, "slight"),
        (0.204, "slight"),  # shown as 0.20, so read as 0.20
        (0.21, "fair"),
        (0.4, "fair"),
        (0.41, "moderate"),
        (0.6, "moderate"),
        (0.61, "substantial"),
        (0.8, "substantial"),
        (0.806, "almost perfect"),  # shown as 0.81
        (1.0, "almost perfect"),
        (None, ""),
    ],
)
def test_kappa_is_worded_in_landis_and_koch_bands(kappa: float | None, words: str) -> None:
    assert kappa_band(kappa) == words


def test_kappa_is_shown_to_two_decimals_or_as_a_dash() -> None:
    assert kappa_text(1.0) == "1.00 almost perfect"
    assert kappa_text(0.456) == "0.46 moderate"
    assert kappa_text(None) == UNDEFINED


# --- the view -------------------------------------------------------------------------------


async def test_double_grading_shows_the_figures_the_service_computes(
    settings: Settings,
    sqlite_factory: sessionmaker[Session],
    registry: ToolRegistry,
    audit: AuditDetail,
) -> None:
    app = app_for(settings, sqlite_factory, registry)
    async with app.run_test(size=SIZE) as pilot:
        await app.push_screen(AuditScreen(sqlite_factory, LEAD, audit.id))
        await settle(pilot)
        await pilot.press("k")
        await settle(pilot)
        view = app.screen
        assert isinstance(view, AgreementView)
        assert view.comparison is Comparison.AGENCY_VS_MODERATED
        await pilot.press("s")
        await settle(pilot)
        assert view.report is not None
        assert view.report.comparison == Comparison.DOUBLE_GRADING.value
        assert view.query_one("#comparisons", Tabs).active == Comparison.DOUBLE_GRADING.value

        # Seeded so the answer is known: the police agree on every graded pair.
        agencies = plain_rows(view.query_one("#by-agency", DataTable))
        assert agencies["police"] == [
            "police",
            "4",
            "4",
            "100%",
            "1.00 almost perfect",
            "1",
            "1",
            "1",
        ]
        assert agencies["gp"][:4] == ["gp", "2", "1", "50%"]
        items = plain_rows(view.query_one("#by-item", DataTable))
        # Both graders said outstanding, twice: full agreement, kappa undefined (one level).
        assert items["cse-2.1"] == ["cse-2.1", "2", "2", "100%", UNDEFINED, "0", "0", "0"]
        assert items["cse-1.1"][:4] == ["cse-1.1", "2", "1", "50%"]
        assert list(items)[:3] == ["cse-1.1", "cse-2.1", "cse-2.2"]  # the tool's order

        # And every figure is the service's own, worded.
        report = agreement(sqlite_factory, audit.id, Comparison.DOUBLE_GRADING)
        assert view.report == report
        for selector, figures in (("#by-item", report.by_item), ("#by-agency", report.by_agency)):
            rows = plain_rows(view.query_one(selector, DataTable))
            for figure in figures:
                assert rows[figure.group][1:] == [c.plain for c in figure_cells(figure)]
        assert report.overall is not None
        overall = text_of(view, "#overall")
        assert overall.startswith("Overall: 6 pairs, 5 agreed (83%) · kappa ")
        assert kappa_text(report.overall.kappa) in overall
        assert "1 not applicable, 1 not evidenced, 1 unanswered" in overall

        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, AuditScreen)


async def test_agency_against_moderated_grades_matches_the_service(
    settings: Settings,
    sqlite_factory: sessionmaker[Session],
    registry: ToolRegistry,
    audit: AuditDetail,
) -> None:
    report = agreement(sqlite_factory, audit.id, Comparison.AGENCY_VS_MODERATED)
    assert report.overall is not None and report.by_item
    app = app_for(settings, sqlite_factory, registry)
    async with app.run_test(size=SIZE) as pilot:
        # From the moderation screen too, whatever has the focus there.
        await app.push_screen(ModerationScreen(sqlite_factory, LEAD, audit.cases[0].id))
        await settle(pilot)
        await pilot.press("ctrl+o")
        await settle(pilot)
        view = app.screen
        assert isinstance(view, AgreementView) and view.audit_id == audit.id
        assert view.report == report
        items = plain_rows(view.query_one("#by-item", DataTable))
        assert [row[0] for row in items.values()] == [
            ModerationHeading(f.group).label for f in report.by_item
        ]
        for figure in report.by_item:
            assert items[figure.group][1:] == [c.plain for c in figure_cells(figure)]
        agencies = plain_rows(view.query_one("#by-agency", DataTable))
        assert list(agencies) == [f.group for f in report.by_agency]
        assert text_of(view, "#items-title") == "By moderation heading"
        assert not view.has_class("-nothing")
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, ModerationScreen)


async def test_nothing_to_compare_says_so(
    settings: Settings, sqlite_factory: sessionmaker[Session], registry: ToolRegistry
) -> None:
    empty = seed(sqlite_factory, registry, graded=False)
    app = app_for(settings, sqlite_factory, registry)
    async with app.run_test(size=SIZE) as pilot:
        view = AgreementView(sqlite_factory, empty.id)
        await app.push_screen(view)
        await settle(pilot)
        assert view.has_class("-nothing")
        assert text_of(view, "#note") == "No case in this audit has a moderated grade yet."
        await pilot.press("s")
        await settle(pilot)
        assert text_of(view, "#note") == "No return in this audit has been double-graded yet."
        # No empty tables or zero figures: only the note.
        assert view.has_class("-nothing")
        assert not view.query_one("#by-item", DataTable).display
        assert not view.query_one("#overall", Static).display


# --- snapshot -------------------------------------------------------------------------------


@pytest.mark.parametrize("size", [(80, 24), (120, 40)], ids=["80x24", "120x40"])
def test_agreement_view_snapshot(
    snap_compare: SnapCompare,
    settings: Settings,
    sqlite_factory: sessionmaker[Session],
    registry: ToolRegistry,
    size: tuple[int, int],
) -> None:
    audit = seed(sqlite_factory, registry)
    app = app_for(settings, sqlite_factory, registry)

    async def open_view(pilot: Pilot[None]) -> None:
        await settle(pilot)
        await app.push_screen(AgreementView(sqlite_factory, audit.id, Comparison.DOUBLE_GRADING))
        await settle(pilot)

    assert snap_compare(app, terminal_size=size, run_before=open_view)
