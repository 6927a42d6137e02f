"""The theme vocabulary and the tags on findings, voices and moderated grades."""

from __future__ import annotations

import datetime as dt
import importlib.util
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from audit_tools import ToolRegistry
from schemas.audit import Actor, AuditDetail, FindingChange, ModerationHeading, VoiceSource
from schemas.learning import LearningItemIn, LearningSource, TaggedKind, ThemeIn
from tests.conftest import cse_plan
from workbench.services import audits, casework, returns
from workbench.services.errors import InvalidRequestError, NotFoundError
from workbench.services.learning import create_learning_item
from workbench.services.themes import (
    delete_unused_theme,
    list_themes,
    save_theme,
    set_tags,
    suggest_for,
    suggest_for_text,
    tags_of,
)
from workbench.store.models import ChangeRecord

MIGRATION = (
    Path(__file__).resolve().parents[2] / "workbench/store/migrations/versions/0003_learning.py"
)


def seeded_themes() -> list[dict[str, object]]:
    """The vocabulary as migration 0003 writes it, read from the migration itself."""
    spec = importlib.util.spec_from_file_location("migration_0003", MIGRATION)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return list(module.THEMES)


@pytest.fixture
def audit(factory: sessionmaker[Session], actor: Actor, registry: ToolRegistry) -> AuditDetail:
    return audits.create_audit(factory, actor, registry, cse_plan())


def finding(
    factory: sessionmaker[Session],
    actor: Actor,
    audit: AuditDetail,
    case: str = "CSE-25-01",
    agency: str = "police",
    criterion: str = "cse-1.1",
    *,
    grade: str | None = "good",
    evidence: str = "",
) -> int:
    rid = returns.find_return(factory, audit.id, case, agency)
    return returns.record_finding(
        factory,
        actor,
        rid,
        criterion,
        FindingChange(grade=grade, evidence=evidence),
        expected_version=None,
    ).id


def target(
    kind: TaggedKind,
    factory: sessionmaker[Session],
    actor: Actor,
    audit: AuditDetail,
    text: str = "Nobody checked the account given",
    *,
    case_index: int = 0,
) -> int:
    """A finding, voice or moderated grade of one case (the first by default), holding `text`."""
    case = audit.cases[case_index]
    if kind is TaggedKind.FINDING:
        return finding(factory, actor, audit, case.reference, evidence=text)
    if kind is TaggedKind.VOICE:
        return casework.add_voice(factory, actor, case.id, VoiceSource.CHILD, text).id
    return casework.set_moderated_grade(
        factory,
        actor,
        case.id,
        ModerationHeading.OVERALL,
        grade="requires_improvement",
        reasons=text,
        expected_version=None,
    ).id


# --- the vocabulary ---------------------------------------------------------------------------


def test_migration_seeds_the_vocabulary(factory: sessionmaker[Session]) -> None:
    seeded = seeded_themes()
    themes = list_themes(factory)
    assert len(seeded) >= 20
    assert {t.code for t in themes} == {str(t["code"]) for t in seeded}
    by_code = {t.code: t for t in themes}
    for written in seeded:
        stored = by_code[str(written["code"])]
        assert stored.label == written["label"]
        assert list(stored.keywords) == written["keywords"]
        assert stored.active
    # The themes DOMAIN.md names first are there, with words that suggest them.
    assert by_code["voice-of-the-child"].label == "Voice of the child"
    assert "wishes and feelings" in by_code["voice-of-the-child"].keywords
    assert by_code["information-sharing"].label == "Information sharing"
    # Listed in label order.
    labels = [t.label for t in themes]
    assert labels == sorted(labels)


def test_save_theme_creates_then_updates_with_keywords_deduplicated(
    factory: sessionmaker[Session], actor: Actor
) -> None:
    before = len(list_themes(factory))
    created = save_theme(
        factory,
        actor,
        ThemeIn(
            code="county-lines",
            label="  County lines",
            description="Drug supply networks that exploit children.",
            keywords=("County lines", "county  LINES", "trap house", "Trap House", "deal line"),
        ),
    )
    assert created.code == "county-lines" and created.label == "County lines"
    # Case and spacing never make two keywords: the first spelling of each is kept, in order.
    assert created.keywords == ("County lines", "trap house", "deal line")
    assert len(list_themes(factory)) == before + 1

    updated = save_theme(
        factory,
        actor,
        ThemeIn(
            code="county-lines",
            label="County lines and drug running",
            keywords=("running", "RUNNING", "runner"),
            active=False,
        ),
    )
    assert updated.id == created.id
    assert updated.keywords == ("running", "runner")
    assert len(list_themes(factory)) == before + 1
    [stored] = [t for t in list_themes(factory) if t.code == "county-lines"]
    assert stored == updated
    assert stored.label == "County lines and drug running" and stored.description == ""
    assert "county-lines" not in {t.code for t in list_themes(factory, active_only=True)}


# --- tags -------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", list(TaggedKind))
def test_set_tags_replaces_the_set_exactly(
    factory: sessionmaker[Session], actor: Actor, audit: AuditDetail, kind: TaggedKind
) -> None:
    tid = target(kind, factory, actor, audit)
    assert tags_of(factory, kind, tid) == ()
    got = set_tags(factory, actor, kind, tid, ["professional-curiosity", "information-sharing"])
    assert got == ("information-sharing", "professional-curiosity")
    assert tags_of(factory, kind, tid) == ("information-sharing", "professional-curiosity")

    # One removed, one added, one kept: exactly what the user accepted.
    got = set_tags(factory, actor, kind, tid, ["information-sharing", "drift-delay"])
    assert got == ("drift-delay", "information-sharing")
    assert tags_of(factory, kind, tid) == ("drift-delay", "information-sharing")

    # Saying the same thing twice changes nothing.
    set_tags(factory, actor, kind, tid, ["drift-delay", "information-sharing", "drift-delay"])
    assert tags_of(factory, kind, tid) == ("drift-delay", "information-sharing")

    assert set_tags(factory, actor, kind, tid, []) == ()
    assert tags_of(factory, kind, tid) == ()


@pytest.mark.parametrize("kind", list(TaggedKind))
def test_unknown_theme_is_refused_by_name_and_nothing_changes(
    factory: sessionmaker[Session], actor: Actor, audit: AuditDetail, kind: TaggedKind
) -> None:
    tid = target(kind, factory, actor, audit)
    set_tags(factory, actor, kind, tid, ["information-sharing"])
    with pytest.raises(InvalidRequestError) as caught:
        set_tags(factory, actor, kind, tid, ["neglect", "no-such-theme"])
    assert "no-such-theme" in str(caught.value)
    assert "\n" not in str(caught.value)
    assert tags_of(factory, kind, tid) == ("information-sharing",)


@pytest.mark.parametrize("kind", list(TaggedKind))
def test_missing_target_is_not_found(
    factory: sessionmaker[Session], actor: Actor, kind: TaggedKind
) -> None:
    with pytest.raises(NotFoundError):
        tags_of(factory, kind, 987654)
    with pytest.raises(NotFoundError):
        set_tags(factory, actor, kind, 987654, ["neglect"])


@pytest.mark.parametrize("kind", list(TaggedKind))
def test_retired_theme_can_stay_but_not_be_newly_added(
    factory: sessionmaker[Session], actor: Actor, audit: AuditDetail, kind: TaggedKind
) -> None:
    tagged = target(kind, factory, actor, audit, "first")
    other = target(kind, factory, actor, audit, "second", case_index=1)
    set_tags(factory, actor, kind, tagged, ["neglect", "housing"])
    [neglect] = [t for t in list_themes(factory) if t.code == "neglect"]
    save_theme(factory, actor, ThemeIn(**neglect.model_dump(exclude={"id"}) | {"active": False}))

    # Where it already is, it stays, alongside changes to the other tags.
    assert set_tags(factory, actor, kind, tagged, ["neglect", "drift-delay"]) == (
        "drift-delay",
        "neglect",
    )
    with pytest.raises(InvalidRequestError, match="neglect is retired"):
        set_tags(factory, actor, kind, other, ["neglect"])
    assert tags_of(factory, kind, other) == ()
    # Once taken off, it cannot come back.
    set_tags(factory, actor, kind, tagged, ["drift-delay"])
    with pytest.raises(InvalidRequestError, match="retired"):
        set_tags(factory, actor, kind, tagged, ["drift-delay", "neglect"])
    assert tags_of(factory, kind, tagged) == ("drift-delay",)


def test_tags_of_one_target_do_not_touch_another(
    factory: sessionmaker[Session], actor: Actor, audit: AuditDetail
) -> None:
    first = finding(factory, actor, audit, "CSE-25-01", "police", "cse-1.1")
    second = finding(factory, actor, audit, "CSE-25-01", "police", "cse-2.1")
    voice = target(TaggedKind.VOICE, factory, actor, audit)
    set_tags(factory, actor, TaggedKind.FINDING, first, ["neglect"])
    set_tags(factory, actor, TaggedKind.FINDING, second, ["housing"])
    set_tags(factory, actor, TaggedKind.VOICE, voice, ["early-help"])
    set_tags(factory, actor, TaggedKind.FINDING, first, [])
    assert tags_of(factory, TaggedKind.FINDING, first) == ()
    assert tags_of(factory, TaggedKind.FINDING, second) == ("housing",)
    assert tags_of(factory, TaggedKind.VOICE, voice) == ("early-help",)


# --- suggestions ------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", list(TaggedKind))
def test_suggest_for_reads_the_saved_text_explains_and_applies_nothing(
    factory: sessionmaker[Session], actor: Actor, audit: AuditDetail, kind: TaggedKind
) -> None:
    text = (
        "The GP did not share information with the school. Information sharing was late and "
        "the account of the older boyfriend was taken at face value."
    )
    tid = target(kind, factory, actor, audit, text)
    suggestions = suggest_for(factory, kind, tid)
    codes = [s.code for s in suggestions]
    assert {"information-sharing", "professional-curiosity"} <= set(codes)
    vocabulary = {t.code: t for t in list_themes(factory)}
    for suggestion in suggestions:
        theme = vocabulary[suggestion.code]
        assert suggestion.label == theme.label
        # Each explanation is words of that theme, and the score counts at least those.
        assert suggestion.matched
        assert set(suggestion.matched) <= {theme.label, *theme.keywords}
        assert suggestion.score >= len(suggestion.matched)
    by_code = {s.code: s for s in suggestions}
    assert "Information sharing" in by_code["information-sharing"].matched
    assert "face value" in by_code["professional-curiosity"].matched
    # The same words as unsaved text give the same suggestions.
    assert suggest_for_text(factory, text) == suggestions
    # Never applied: the user decides.
    assert tags_of(factory, kind, tid) == ()


def test_suggest_for_follows_the_finding_as_it_is_saved(
    factory: sessionmaker[Session], actor: Actor, audit: AuditDetail
) -> None:
    fid = finding(factory, actor, audit, evidence="Attended every appointment on time.")
    assert "information-sharing" not in {
        s.code for s in suggest_for(factory, TaggedKind.FINDING, fid)
    }
    rid = returns.find_return(factory, audit.id, "CSE-25-01", "police")
    returns.record_finding(
        factory,
        actor,
        rid,
        "cse-1.1",
        FindingChange(areas_for_development="Information sharing with health was missing."),
        expected_version=None,
    )
    assert "information-sharing" in {s.code for s in suggest_for(factory, TaggedKind.FINDING, fid)}
    assert len(suggest_for(factory, TaggedKind.FINDING, fid, limit=1)) == 1


def test_retired_themes_are_never_suggested(
    factory: sessionmaker[Session], actor: Actor, audit: AuditDetail
) -> None:
    fid = finding(factory, actor, audit, evidence="Information sharing was poor.")
    assert "information-sharing" in {s.code for s in suggest_for(factory, TaggedKind.FINDING, fid)}
    [theme] = [t for t in list_themes(factory) if t.code == "information-sharing"]
    save_theme(factory, actor, ThemeIn(**theme.model_dump(exclude={"id"}) | {"active": False}))
    assert "information-sharing" not in {
        s.code for s in suggest_for(factory, TaggedKind.FINDING, fid)
    }


# --- deleting ---------------------------------------------------------------------------------


def test_delete_unused_theme_and_refuse_one_in_use(
    factory: sessionmaker[Session], actor: Actor, audit: AuditDetail
) -> None:
    save_theme(factory, actor, ThemeIn(code="spare", label="Spare"))
    delete_unused_theme(factory, actor, "spare")
    assert "spare" not in {t.code for t in list_themes(factory)}
    with pytest.raises(NotFoundError):
        delete_unused_theme(factory, actor, "spare")

    fid = finding(factory, actor, audit)
    set_tags(factory, actor, TaggedKind.FINDING, fid, ["neglect"])
    voice = target(TaggedKind.VOICE, factory, actor, audit)
    set_tags(factory, actor, TaggedKind.VOICE, voice, ["housing"])
    create_learning_item(
        factory,
        actor,
        LearningItemIn(
            raised_on=dt.date(2026, 1, 5),
            source=LearningSource.RESEARCH,
            learning="Families need one plan.",
            themes=("think-family",),
        ),
    )
    for code in ("neglect", "housing", "think-family"):
        with pytest.raises(InvalidRequestError, match=f"{code} is in use"):
            delete_unused_theme(factory, actor, code)
    assert {"neglect", "housing", "think-family"} <= {t.code for t in list_themes(factory)}
    assert tags_of(factory, TaggedKind.FINDING, fid) == ("neglect",)


# --- history ----------------------------------------------------------------------------------


def test_history_records_who_tagged_what(
    factory: sessionmaker[Session], actor: Actor, audit: AuditDetail
) -> None:
    fid = finding(factory, actor, audit, "CSE-25-02", "school", "cse-1.3")
    set_tags(factory, actor, TaggedKind.FINDING, fid, ["neglect", "housing"])
    lead = Actor(name="audit.lead")
    set_tags(factory, lead, TaggedKind.FINDING, fid, ["housing"])
    with factory() as session:
        rows = session.scalars(
            select(ChangeRecord)
            .where(ChangeRecord.entity == "finding_themes")
            .order_by(ChangeRecord.id)
        ).all()
    summary = [(r.operation, r.actor, r.audit_id) for r in rows]
    assert sorted(summary[:2]) == [("create", "a.auditor", audit.id)] * 2
    assert summary[2:] == [("delete", "audit.lead", audit.id)]
    for row in rows:
        for part in ("CSE-25-02", "school", "cse-1.3"):
            assert part in row.entity_key
    assert sorted(r.entity_key.rsplit(" ", 1)[-1] for r in rows[:2]) == ["housing", "neglect"]
    assert rows[2].entity_key.endswith("neglect")
    assert "a.auditor" in (rows[2].before or "")
