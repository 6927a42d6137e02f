"""The learning log: references, evidence links, drafts from themes, search, sign-off."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from audit_tools import ToolRegistry
from schemas.audit import Actor, AuditDetail, FindingChange, VoiceSource
from schemas.learning import (
    LearningFilter,
    LearningItemChange,
    LearningItemIn,
    LearningSource,
    LearningStatus,
    SharedHow,
    TaggedKind,
)
from tests.conftest import cse_plan
from workbench.services import audits, casework, returns
from workbench.services.errors import InvalidRequestError, NotFoundError
from workbench.services.learning import (
    EVIDENCE_LINES,
    create_learning_item,
    draft_from_theme,
    get_learning_item,
    list_learning,
    sign_off,
    update_learning_item,
)
from workbench.services.themes import set_tags
from workbench.store.models import Agency, ChangeRecord

DAY = dt.date(2026, 3, 4)


@pytest.fixture
def audit(factory: sessionmaker[Session], actor: Actor, registry: ToolRegistry) -> AuditDetail:
    return audits.create_audit(factory, actor, registry, cse_plan())


def item(**fields: object) -> LearningItemIn:
    values: dict[str, object] = {
        "raised_on": DAY,
        "source": LearningSource.CASE_AUDIT,
        "learning": "Schools were not told about missing episodes.",
    }
    return LearningItemIn.model_validate(values | fields)


def tagged_finding(
    factory: sessionmaker[Session],
    actor: Actor,
    audit: AuditDetail,
    case: str,
    agency: str,
    criterion: str,
    grade: str | None,
    themes: tuple[str, ...],
    evidence: str = "",
) -> int:
    rid = returns.find_return(factory, audit.id, case, agency)
    change = FindingChange(grade=grade, evidence=evidence)
    fid = returns.record_finding(factory, actor, rid, criterion, change, expected_version=None).id
    set_tags(factory, actor, TaggedKind.FINDING, fid, themes)
    return fid


# --- references -------------------------------------------------------------------------------


def test_references_run_within_the_year_and_restart_each_year(
    factory: sessionmaker[Session], actor: Actor, audit: AuditDetail
) -> None:
    first = create_learning_item(factory, actor, item(audit_id=audit.id))
    second = create_learning_item(factory, actor, item(source=LearningSource.RESEARCH))
    older = create_learning_item(factory, actor, item(raised_on=dt.date(2025, 12, 31)))
    third = create_learning_item(factory, actor, item(raised_on=dt.date(2026, 1, 1)))
    assert [i.reference for i in (first, second, older, third)] == [
        "LL-2026-001",
        "LL-2026-002",
        "LL-2025-001",
        "LL-2026-003",
    ]
    assert first.status is LearningStatus.OPEN and first.created_by == "a.auditor"
    assert first.audit_id == audit.id and first.audit_title == audit.title
    assert second.audit_id is None and second.audit_title is None
    assert get_learning_item(factory, first.id) == first
    with pytest.raises(NotFoundError):
        get_learning_item(factory, 98765)


def test_refused_items_are_not_saved_and_use_no_reference(
    factory: sessionmaker[Session], actor: Actor, audit: AuditDetail, registry: ToolRegistry
) -> None:
    other = audits.create_audit(factory, actor, registry, cse_plan())
    mine = tagged_finding(factory, actor, audit, "CSE-25-01", "police", "cse-1.1", "good", ())
    theirs = tagged_finding(factory, actor, other, "CSE-25-01", "police", "cse-1.1", "good", ())

    with pytest.raises(InvalidRequestError, match="own audit"):
        create_learning_item(factory, actor, item(audit_id=audit.id, finding_ids=(mine, theirs)))
    with pytest.raises(NotFoundError, match="98765"):
        create_learning_item(factory, actor, item(audit_id=audit.id, finding_ids=(98765,)))
    with pytest.raises(NotFoundError):
        create_learning_item(factory, actor, item(audit_id=98765))
    with pytest.raises(InvalidRequestError, match="no agency called nowhere"):
        create_learning_item(factory, actor, item(agencies=("police", "nowhere")))
    with pytest.raises(InvalidRequestError, match="no theme called no-such-theme"):
        create_learning_item(factory, actor, item(themes=("neglect", "no-such-theme")))
    with pytest.raises(InvalidRequestError, match="needs the learning"):
        create_learning_item(factory, actor, item(learning="   "))
    assert list_learning(factory) == []

    saved = create_learning_item(factory, actor, item(audit_id=audit.id, finding_ids=(mine,)))
    assert saved.reference == "LL-2026-001"
    assert [link.finding_id for link in saved.evidence_links] == [mine]
    link = saved.evidence_links[0]
    assert (link.case_reference, link.agency, link.criterion_id, link.grade) == (
        "CSE-25-01",
        "police",
        "cse-1.1",
        "good",
    )


# --- drafting from a theme --------------------------------------------------------------------


def test_draft_from_theme_fills_in_the_evidence_and_names_no_one(
    factory: sessionmaker[Session], actor: Actor, audit: AuditDetail, registry: ToolRegistry
) -> None:
    other = audits.create_audit(factory, actor, registry, cse_plan())
    ids = [
        tagged_finding(
            factory,
            actor,
            audit,
            "CSE-25-01",
            "police",
            "cse-1.1",
            "requires_improvement",
            ("information-sharing",),
            evidence="Jade Smith told PC Brown she was going to a party.",
        ),
        tagged_finding(
            factory, actor, audit, "CSE-25-02", "school", "cse-1.3", "inadequate", ("neglect",)
        ),
        tagged_finding(
            factory,
            actor,
            audit,
            "CSE-25-02",
            "gp",
            "cse-1.2",
            None,
            ("information-sharing", "neglect"),
        ),
    ]
    tagged_finding(  # untagged with this theme: not evidence
        factory, actor, audit, "CSE-25-03", "police", "cse-1.1", "good", ("housing",)
    )
    tagged_finding(  # another audit's finding: not evidence
        factory, actor, other, "CSE-25-01", "gp", "cse-1.1", "good", ("information-sharing",)
    )
    voice = casework.add_voice(
        factory, actor, audit.cases[0].id, VoiceSource.CHILD, "Jade said nobody listened"
    )
    set_tags(factory, actor, TaggedKind.VOICE, voice.id, ["information-sharing"])

    draft = draft_from_theme(factory, audit.id, "information-sharing", today=DAY)
    assert draft.source is LearningSource.CASE_AUDIT and draft.raised_on == DAY
    assert draft.audit_id == audit.id and draft.themes == ("information-sharing",)
    assert draft.agencies == ("gp", "police")
    assert draft.finding_ids == tuple(sorted((ids[0], ids[2])))
    assert draft.learning.strip()
    # Traceable by case reference, agency and criterion; no names, nothing quoted.
    assert "2 of 3 cases" in draft.evidence
    assert "Case CSE-25-01, police, cse-1.1: Requires improvement to be good" in draft.evidence
    assert "Case CSE-25-02, gp, cse-1.2: not graded" in draft.evidence
    for word in ("Jade", "Smith", "Brown", "a.auditor", "party", "nobody listened"):
        assert word not in draft.evidence and word not in draft.learning
    assert "CSE-25-03" not in draft.evidence

    # The user rewrites the learning and saves: the links come with it.
    saved = create_learning_item(
        factory,
        actor,
        draft.model_copy(update={"learning": "Health and police must copy schools in."}),
    )
    assert sorted(link.finding_id for link in saved.evidence_links) == sorted(draft.finding_ids)
    assert saved.themes == ("information-sharing",) and saved.agencies == ("gp", "police")

    with pytest.raises(InvalidRequestError, match="drift-delay is not used"):
        draft_from_theme(factory, audit.id, "drift-delay", today=DAY)


def test_draft_summarises_beyond_the_first_lines(
    factory: sessionmaker[Session], actor: Actor, audit: AuditDetail
) -> None:
    slots = [
        (case.reference, agency, criterion)
        for case in audit.cases
        for agency in ("police", "school", "gp")
        for criterion in ("cse-1.1", "cse-2.1", "cse-2.2")
    ]
    for case, agency, criterion in slots:
        tagged_finding(factory, actor, audit, case, agency, criterion, "good", ("neglect",))
    draft = draft_from_theme(factory, audit.id, "neglect", today=DAY)
    assert len(draft.finding_ids) == len(slots)
    assert draft.evidence.count("\n- Case ") == EVIDENCE_LINES
    assert f"- and {len(slots) - EVIDENCE_LINES} more findings" in draft.evidence


# --- the log and its search -------------------------------------------------------------------


@pytest.fixture
def log(factory: sessionmaker[Session], actor: Actor) -> dict[str, int]:
    with factory() as session, session.begin():
        session.add(Agency(code="police-custody", name="Police custody suite"))
    made = {
        "a": create_learning_item(
            factory,
            actor,
            item(
                raised_on=dt.date(2026, 1, 10),
                learning="Missing episodes were not SHARED with the school.",
                themes=("information-sharing",),
                agencies=("police",),
            ),
        ),
        "b": create_learning_item(
            factory,
            actor,
            item(
                raised_on=dt.date(2026, 2, 10),
                source=LearningSource.CASE_REVIEW,
                learning="Return home interviews were late.",
                evidence="Custody did not share the detention.",
                themes=("missing-children",),
                agencies=("police-custody",),
            ),
        ),
        "c": create_learning_item(
            factory,
            actor,
            item(
                raised_on=dt.date(2025, 11, 1),
                source=LearningSource.RESEARCH,
                learning="Schools need training on exploitation (100% of staff).",
                impact_evidence="Attendance at the briefing rose.",
                themes=("exploitation", "education"),
                agencies=("school", "police"),
            ),
        ),
    }
    update_learning_item(
        factory, actor, made["c"].id, LearningItemChange(status=LearningStatus.SHARED)
    )
    return {key: value.id for key, value in made.items()}


def found(factory: sessionmaker[Session], log: dict[str, int], **where: object) -> list[str]:
    names = {item_id: key for key, item_id in log.items()}
    return [names[i.id] for i in list_learning(factory, LearningFilter.model_validate(where))]


def test_list_learning_newest_first(factory: sessionmaker[Session], log: dict[str, int]) -> None:
    assert found(factory, log) == ["b", "a", "c"]
    assert [i.id for i in list_learning(factory)] == [log["b"], log["a"], log["c"]]


SEARCHES: list[tuple[str, list[str]]] = [
    ("missing", ["b", "a"]),  # a's learning; b's theme label "Missing children"
    ("MISSING", ["b", "a"]),  # case does not matter
    ("missing shared", ["a"]),  # every word: b says "share", not "shared"
    ("shared missing", ["a"]),
    ("share", ["b", "a"]),
    ("disruption", ["c"]),  # only in the label "Exploitation and disruption"
    ("briefing rose", ["c"]),  # impact evidence
    ("LL-2026-002", ["b"]),  # the reference
    ("missing training", []),
    ("%", ["c"]),  # a literal percent sign, not a wildcard
    ("_", []),  # nor an underscore
    ("  ", ["b", "a", "c"]),
]

FILTERS: list[tuple[dict[str, str], list[str]]] = [
    ({"theme": "information-sharing"}, ["a"]),
    ({"theme": "education"}, ["c"]),
    ({"agency": "police"}, ["a", "c"]),  # not b, whose agency is police-custody
    ({"agency": "police-custody"}, ["b"]),
    ({"agency": "custody"}, []),
    ({"source": "case-review"}, ["b"]),
    ({"status": "shared"}, ["c"]),
    ({"status": "open"}, ["b", "a"]),
    ({"agency": "police", "status": "open"}, ["a"]),
    ({"agency": "police", "source": "research"}, ["c"]),
    ({"theme": "exploitation", "agency": "police-custody"}, []),
    ({"text": "missing", "source": "case-audit"}, ["a"]),
    ({"text": "missing", "theme": "missing-children", "agency": "police-custody"}, ["b"]),
]


def test_search_words_must_all_match(factory: sessionmaker[Session], log: dict[str, int]) -> None:
    # One log, many searches: each would cost a fresh database as a parameter.
    for text, expected in SEARCHES:
        assert found(factory, log, text=text) == expected, text


def test_filters_combine(factory: sessionmaker[Session], log: dict[str, int]) -> None:
    for where, expected in FILTERS:
        assert found(factory, log, **where) == expected, where


# --- changing, sharing and signing off --------------------------------------------------------


def test_update_learning_item_changes_only_what_is_given(
    factory: sessionmaker[Session], actor: Actor
) -> None:
    saved = create_learning_item(
        factory,
        actor,
        item(themes=("neglect",), agencies=("police",), reaudit_on=dt.date(2026, 9, 1)),
    )
    changed = update_learning_item(
        factory,
        actor,
        saved.id,
        LearningItemChange(
            learning="  Neglect was seen but not named.  ",
            themes=("neglect", "housing"),
            agencies=("gp", "police", "gp"),
        ),
    )
    assert changed.learning == "Neglect was seen but not named."
    assert changed.themes == ("housing", "neglect")
    assert changed.agencies == ("gp", "police")
    assert changed.reaudit_on == dt.date(2026, 9, 1)
    assert changed.evidence == saved.evidence and changed.source is saved.source

    later = update_learning_item(
        factory, actor, saved.id, LearningItemChange(reaudit_on=dt.date(2027, 1, 1), themes=())
    )
    assert later.reaudit_on == dt.date(2027, 1, 1) and later.themes == ()
    cleared = update_learning_item(factory, actor, saved.id, LearningItemChange(clear_reaudit=True))
    assert cleared.reaudit_on is None

    with pytest.raises(InvalidRequestError, match="no agency called nowhere"):
        update_learning_item(factory, actor, saved.id, LearningItemChange(agencies=("nowhere",)))
    with pytest.raises(InvalidRequestError):
        update_learning_item(factory, actor, saved.id, LearningItemChange(learning=" "))
    with pytest.raises(NotFoundError):
        update_learning_item(factory, actor, 98765, LearningItemChange(learning="x"))
    assert get_learning_item(factory, saved.id) == cleared


def test_sign_off_needs_sharing_records_who_and_a_status_change_undoes_it(
    factory: sessionmaker[Session], actor: Actor
) -> None:
    saved = create_learning_item(factory, actor, item())
    chair = Actor(name="subgroup.chair")
    with pytest.raises(InvalidRequestError, match="LL-2026-001 has not been shared"):
        sign_off(factory, chair, saved.id, dt.date(2026, 4, 1))
    assert get_learning_item(factory, saved.id).status is LearningStatus.OPEN

    update_learning_item(
        factory,
        actor,
        saved.id,
        LearningItemChange(
            shared_how=(SharedHow.BRIEFING, SharedHow.NEWSLETTER), status=LearningStatus.SHARED
        ),
    )
    signed = sign_off(factory, chair, saved.id, dt.date(2026, 4, 1))
    assert signed.status is LearningStatus.SIGNED_OFF
    assert (signed.signed_off_by, signed.signed_off_on) == ("subgroup.chair", dt.date(2026, 4, 1))
    assert signed.shared_how == (SharedHow.BRIEFING, SharedHow.NEWSLETTER)

    # Signed off: words cannot change without reopening it.
    with pytest.raises(InvalidRequestError, match="signed off"):
        update_learning_item(factory, actor, saved.id, LearningItemChange(learning="new"))
    with pytest.raises(InvalidRequestError, match="sign-off"):
        update_learning_item(
            factory, actor, saved.id, LearningItemChange(status=LearningStatus.SIGNED_OFF)
        )
    reopened = update_learning_item(
        factory, actor, saved.id, LearningItemChange(status=LearningStatus.EMBEDDED)
    )
    assert reopened.status is LearningStatus.EMBEDDED
    assert reopened.signed_off_by is None and reopened.signed_off_on is None


def test_history_is_kept_for_learning_items(factory: sessionmaker[Session], actor: Actor) -> None:
    saved = create_learning_item(factory, actor, item(shared_how=(SharedHow.TRAINING,)))
    sign_off(factory, Actor(name="subgroup.chair"), saved.id, dt.date(2026, 4, 1))
    update_learning_item(
        factory, Actor(name="b.lead"), saved.id, LearningItemChange(status=LearningStatus.OPEN)
    )
    with factory() as session:
        rows = session.scalars(
            select(ChangeRecord)
            .where(ChangeRecord.entity == "learning_items")
            .order_by(ChangeRecord.id)
        ).all()
    assert {r.entity_key for r in rows} == {"learning LL-2026-001"}
    assert (rows[0].operation, rows[0].actor) == ("create", "a.auditor")
    changes = {(r.actor, r.field, r.before, r.after) for r in rows[1:]}
    assert ("subgroup.chair", "status", "open", "signed-off") in changes
    assert ("subgroup.chair", "signed_off_by", None, "subgroup.chair") in changes
    assert ("subgroup.chair", "signed_off_on", None, "2026-04-01") in changes
    assert ("b.lead", "status", "signed-off", "open") in changes
    assert ("b.lead", "signed_off_by", "subgroup.chair", None) in changes
