"""The theme vocabulary and the tags that attach themes to findings, voices and moderation."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from schemas.access import Role
from schemas.audit import Actor
from schemas.learning import TaggedKind, ThemeIn, ThemeOut, ThemeSuggestion
from workbench.services import access
from workbench.services.errors import InvalidRequestError, NotFoundError
from workbench.services.theme_suggest import suggest_themes
from workbench.services.unit import SessionFactory, unit_of_work
from workbench.store.models import (
    AgencyReturn,
    Finding,
    FindingTheme,
    LearningItemTheme,
    ModeratedGrade,
    ModerationTheme,
    Theme,
    Voice,
    VoiceTheme,
)


def _out(theme: Theme) -> ThemeOut:
    return ThemeOut(
        id=theme.id,
        code=theme.code,
        label=theme.label,
        description=theme.description,
        keywords=tuple(theme.keywords),
        active=theme.active,
    )


def list_themes(factory: SessionFactory, *, active_only: bool = False) -> list[ThemeOut]:
    """The vocabulary in label order; retired themes too unless `active_only`."""
    with unit_of_work(factory) as session:
        statement = select(Theme).order_by(Theme.label)
        if active_only:
            statement = statement.where(Theme.active.is_(True))
        return [_out(t) for t in session.scalars(statement)]


def save_theme(factory: SessionFactory, actor: Actor, theme: ThemeIn) -> ThemeOut:
    """Add a theme to the vocabulary, or change the one with the same code."""
    keywords = _clean_keywords(theme.keywords)
    with unit_of_work(factory, actor) as session:
        access.require_role(session, _EDITORS, "change the theme vocabulary")
        row = session.scalars(select(Theme).where(Theme.code == theme.code)).one_or_none()
        if row is None:
            row = Theme(code=theme.code)
            session.add(row)
        row.label = theme.label.strip()
        row.description = theme.description
        row.keywords = keywords
        row.active = theme.active
        session.flush()
        return _out(row)


def _clean_keywords(keywords: Iterable[str]) -> list[str]:
    # Case and spacing never make two keywords different: keep the first spelling of each.
    seen: dict[str, str] = {}
    for word in keywords:
        tidy = " ".join(word.split())
        if tidy and tidy.casefold() not in seen:
            seen[tidy.casefold()] = tidy
    return list(seen.values())


def _theme_ids(session: Session, codes: Iterable[str]) -> dict[str, Theme]:
    wanted = set(codes)
    found = {t.code: t for t in session.scalars(select(Theme).where(Theme.code.in_(wanted)))}
    missing = sorted(wanted - set(found))
    if missing:
        raise InvalidRequestError(f"no theme called {', '.join(missing)} in the vocabulary")
    return found


_EDITORS = (Role.LEAD, Role.ADMIN)


def _target(
    session: Session, kind: TaggedKind, target_id: int, *, write: bool = False
) -> Finding | Voice | ModeratedGrade:
    """The tagged thing, once the principal may read it (or, with `write`, tag it)."""
    row: Finding | Voice | ModeratedGrade | None
    if kind is TaggedKind.FINDING:
        row = session.get(Finding, target_id)
    elif kind is TaggedKind.VOICE:
        row = session.get(Voice, target_id)
    else:
        row = session.get(ModeratedGrade, target_id)
    if row is None:
        raise NotFoundError(f"no {kind.value} with id {target_id}")
    if isinstance(row, Finding):
        if write:
            access.require_return_writable(session, row.agency_return)
        else:
            access.require_return_readable(session, row.agency_return)
    elif isinstance(row, Voice):
        access.require_case_work(session, row.case, "tag a voice of this case")
    elif write:
        access.require_lead(session, row.case.audit_id, "tag a moderated grade")
    else:
        access.require_panel_view(session, row.case.audit, "read a moderated grade")
    return row


def _tag_rows(
    session: Session, kind: TaggedKind, target_id: int
) -> list[FindingTheme | VoiceTheme | ModerationTheme]:
    if kind is TaggedKind.FINDING:
        return list(
            session.scalars(select(FindingTheme).where(FindingTheme.finding_id == target_id))
        )
    if kind is TaggedKind.VOICE:
        return list(session.scalars(select(VoiceTheme).where(VoiceTheme.voice_id == target_id)))
    return list(
        session.scalars(
            select(ModerationTheme).where(ModerationTheme.moderated_grade_id == target_id)
        )
    )


def tags_of(factory: SessionFactory, kind: TaggedKind, target_id: int) -> tuple[str, ...]:
    """The codes of the themes on one finding, voice or moderated grade, sorted."""
    with unit_of_work(factory) as session:
        _target(session, kind, target_id)
        return tuple(sorted(row.theme.code for row in _tag_rows(session, kind, target_id)))


def set_tags(
    factory: SessionFactory,
    actor: Actor,
    kind: TaggedKind,
    target_id: int,
    codes: Iterable[str],
) -> tuple[str, ...]:
    """Make the target's themes exactly `codes`: what the user accepted, nothing more.

    A retired theme can stay where it already is but cannot be newly attached."""
    wanted = set(codes)
    with unit_of_work(factory, actor) as session:
        target = _target(session, kind, target_id, write=True)
        themes = _theme_ids(session, wanted)
        current = {row.theme.code: row for row in _tag_rows(session, kind, target_id)}
        for code in sorted(wanted - set(current)):
            if not themes[code].active:
                raise InvalidRequestError(f"the theme {code} is retired and cannot be added")
            session.add(_new_tag(kind, target, themes[code], actor))
        for code in sorted(set(current) - wanted):
            session.delete(current[code])
        session.flush()
        return tuple(sorted(wanted))


def _new_tag(
    kind: TaggedKind, target: Finding | Voice | ModeratedGrade, theme: Theme, actor: Actor
) -> FindingTheme | VoiceTheme | ModerationTheme:
    if isinstance(target, Finding):
        return FindingTheme(finding=target, theme=theme, tagged_by=actor.name)
    if isinstance(target, Voice):
        return VoiceTheme(voice=target, theme=theme, tagged_by=actor.name)
    return ModerationTheme(moderated_grade=target, theme=theme, tagged_by=actor.name)


def text_of(target: Finding | Voice | ModeratedGrade) -> str:
    """The words a suggestion reads: what the auditor or panel wrote."""
    if isinstance(target, Finding):
        return "\n".join((target.evidence, target.strengths, target.areas_for_development))
    if isinstance(target, Voice):
        return target.text
    return target.reasons


def suggest_for(
    factory: SessionFactory, kind: TaggedKind, target_id: int, *, limit: int = 5
) -> list[ThemeSuggestion]:
    """Themes the target's own text points to, with the words that matched; applies nothing."""
    with unit_of_work(factory) as session:
        text = text_of(_target(session, kind, target_id))
        vocabulary = [_out(t) for t in session.scalars(select(Theme).where(Theme.active.is_(True)))]
    return suggest_themes(text, vocabulary, limit=limit)


def suggest_for_text(
    factory: SessionFactory, text: str, *, limit: int = 5
) -> list[ThemeSuggestion]:
    """Suggestions for text not yet saved (the auditor is still typing)."""
    return suggest_themes(text, list_themes(factory, active_only=True), limit=limit)


def delete_unused_theme(factory: SessionFactory, actor: Actor, code: str) -> None:
    """Remove a theme nothing uses; one in use can only be retired (keeps history readable)."""
    with unit_of_work(factory, actor) as session:
        access.require_role(session, _EDITORS, "change the theme vocabulary")
        theme = session.scalars(select(Theme).where(Theme.code == code)).one_or_none()
        if theme is None:
            raise NotFoundError(f"no theme called {code}")
        for table in (FindingTheme, VoiceTheme, ModerationTheme, LearningItemTheme):
            used = session.scalar(select(table.theme_id).where(table.theme_id == theme.id).limit(1))
            if used is not None:
                raise InvalidRequestError(
                    f"the theme {code} is in use; retire it instead of deleting it"
                )
        session.delete(theme)


def tags_for_return(factory: SessionFactory, return_id: int) -> dict[int, tuple[str, ...]]:
    """The themes on every finding of one return in one read: finding id -> codes, sorted.

    Findings without a theme are left out. For a screen that shows each criterion's themes."""
    with unit_of_work(factory) as session:
        agency_return = session.get(AgencyReturn, return_id)
        if agency_return is None:
            raise NotFoundError(f"no agency return with id {return_id}")
        # Tags are case-level content of the return: shown to whoever may read the return.
        access.require_return_readable(session, agency_return)
        rows = session.execute(
            select(FindingTheme.finding_id, Theme.code)
            .join(Theme, FindingTheme.theme_id == Theme.id)
            .join(Finding, FindingTheme.finding_id == Finding.id)
            .where(Finding.return_id == return_id)
            .order_by(FindingTheme.finding_id, Theme.code)
        )
        tags: dict[int, list[str]] = {}
        for finding_id, code in rows:
            tags.setdefault(finding_id, []).append(code)
    return {finding_id: tuple(codes) for finding_id, codes in tags.items()}


__all__ = [
    "delete_unused_theme",
    "list_themes",
    "save_theme",
    "set_tags",
    "suggest_for",
    "suggest_for_text",
    "tags_for_return",
    "tags_of",
    "text_of",
]
