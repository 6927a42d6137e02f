"""Suggest themes for a piece of audit text from the theme vocabulary, showing the words why."""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache

from schemas.learning import ThemeOut, ThemeSuggestion

# Curly quotes are what word processors paste in; they must behave like the plain apostrophe.
_APOSTROPHES = str.maketrans({"\u2019": "'", "\u2018": "'", "\u02bc": "'"})
# "&" joins a word too: "A&E" and "B&B" are one word each, and "a" alone is an article.
# Sentence and list punctuation is kept as a break, so a phrase never spans "home. Interview".
_TOKEN = re.compile(r"[A-Za-z0-9]+(?:['&][A-Za-z0-9]+)*|[.,;:!?()\[\]]")
_BREAK = ""
# "GPs", "EHAs", "MARACs": the plural of an abbreviation is only recognisable before lower-casing.
_ABBREVIATION_PLURAL = re.compile(r"[A-Z]{2,}s")
# "can't" and "won't" do not split into a word plus "n't" like "didn't" does.
_NEGATED = {"ca": "can", "wo": "will", "sha": "shall"}
# Words the rules would get wrong, given their key directly: the one irregular plural auditors
# write all the time, and "housing" (the service), which must not become "house" (a visit).
_EXCEPTIONS = {"children": "child", "housing": "housing"}
# Articles never change what a phrase is about: "voice of a child" is "voice of the child".
_ARTICLES = frozenset({"a", "an", "the"})

# Tried longest first; one is removed per word. The replacements make related forms meet:
# "escalation" -> "escalate" and "exploitation" -> "exploitate", which the "ate" rule below
# then brings down to "escal" and "exploit", where "escalated" and "exploited" also end up.
_SUFFIXES: tuple[tuple[str, str], ...] = (
    ("ational", "ate"),
    ("ation", "ate"),
    ("osity", ""),
    ("usion", "ude"),
    ("ment", ""),
    ("ness", ""),
    ("ance", ""),
    ("ied", "y"),
    ("ing", ""),
    ("ion", ""),
    ("ity", ""),
    ("ive", ""),
    ("ous", ""),
    ("ed", ""),
    ("al", ""),
)
# Verb endings need a vowel left over, or "thing" and "shed" would lose real letters.
_NEEDS_VOWEL = frozenset({"ing", "ed"})
_VOWELS = frozenset("aeiouy")
# Doubled letters that are part of the word ("miss", "call", "buzz") are not undoubled, nor
# vowels, which the "e" rule has already dealt with ("agree") or which belong ("school").
_KEEP_DOUBLE = frozenset("lszaeiouy")


@lru_cache(maxsize=16384)
def _stem(word: str) -> str:
    """A light, deterministic suffix-stripper: "referral", "referred" and "refer" -> "refer".

    Only has to map the forms of one word to one key, the same way for vocabulary and text;
    the key need not be a real word. Cached: a long text repeats most of its words."""
    if word in _EXCEPTIONS:
        return _EXCEPTIONS[word]
    # Short words and abbreviations ("was", "GP", "TAF") and anything with digits are kept.
    if len(word) <= 3 or not word.isalpha():
        return word
    if word.endswith("ies") and len(word) > 4:
        word = word[:-3] + "y"
    elif word.endswith("s") and not word.endswith(("ss", "us", "is")):
        word = word[:-1]
    for suffix, replacement in _SUFFIXES:
        if not word.endswith(suffix):
            continue
        rest = word[: -len(suffix)]
        if len(rest) < 3 or (suffix in _NEEDS_VOWEL and not _VOWELS & set(rest)):
            continue
        word = rest + replacement
        # "escalated" -> "escalat" must meet "escalate", so the lost "e" comes back first.
        if suffix in _NEEDS_VOWEL and word.endswith("at"):
            word += "e"
        break
    if word.endswith("ate") and len(word) >= 7:
        word = word[:-3]
    # Every final "e", so "agree", "agreed" and "agreement" all come to "agr".
    while word.endswith("e") and len(word) >= 4:
        word = word[:-1]
    if len(word) >= 4 and word[-1] == word[-2] and word[-1] not in _KEEP_DOUBLE:
        word = word[:-1]
    return word


def _normalise(text: str) -> list[str]:
    """Text as a list of word keys, in order (articles left out, punctuation as one break),
    so phrases match as consecutive keys."""
    keys: list[str] = []
    for word in _TOKEN.findall(text.translate(_APOSTROPHES)):
        if not word[0].isalnum():
            if keys and keys[-1] != _BREAK:
                keys.append(_BREAK)
            continue
        if _ABBREVIATION_PLURAL.fullmatch(word):
            word = word[:-1]
        word = word.lower()
        if word == "cannot":
            keys += ("can", "not")
            continue
        # "didn't ask" and "did not ask" are the same finding.
        if word.endswith("n't"):
            base = word[:-3]
            keys += (_stem(_NEGATED.get(base, base)), "not")
            continue
        word = word.removesuffix("'s").replace("'", "")
        if word not in _ARTICLES:
            keys.append(_stem(word))
    if keys and keys[-1] == _BREAK:
        keys.pop()
    return keys


@dataclass(frozen=True)
class _Term:
    written: str
    keys: tuple[str, ...]
    order: int


def _terms(theme: ThemeOut) -> list[_Term]:
    """The label and keywords, once each: a keyword that normalises like the label (or like
    another keyword) would otherwise count the same words twice."""
    seen: set[tuple[str, ...]] = set()
    terms: list[_Term] = []
    for written in (theme.label, *theme.keywords):
        keys = tuple(_normalise(written))
        if keys and keys not in seen:
            seen.add(keys)
            terms.append(_Term(written, keys, len(terms)))
    return terms


def _occurrences(
    keys: tuple[str, ...], words: Sequence[str], index: dict[str, list[int]]
) -> list[int]:
    """Where a term starts in the text, found through its first word's positions."""
    width = len(keys)
    return [
        start for start in index.get(keys[0], ()) if tuple(words[start : start + width]) == keys
    ]


def _match(
    terms: Sequence[_Term], words: Sequence[str], index: dict[str, list[int]]
) -> tuple[tuple[str, ...], int]:
    """The terms of one theme found in the text (in order of first appearance) and how often.

    Each word of the text counts towards at most one occurrence per theme, the earliest and
    then the longest: "voice of the child" is one piece of evidence, not also "child" if that
    were a term, and "not shared information" is not both "not shared" and "shared
    information"."""
    spans = sorted(
        (start, -len(term.keys), term.order, term)
        for term in terms
        for start in _occurrences(term.keys, words, index)
    )
    first_seen: dict[str, tuple[int, int]] = {}
    score = 0
    covered_to = 0
    for start, negative_width, order, term in spans:
        end = start - negative_width
        # Spans come by start, longest first, so any overlap starts before the last kept end.
        if start < covered_to:
            continue
        covered_to = end
        score += 1
        first_seen.setdefault(term.written, (start, order))
    matched = tuple(sorted(first_seen, key=first_seen.__getitem__))
    return matched, score


def suggest_themes(
    text: str, vocabulary: Iterable[ThemeOut], limit: int = 5
) -> list[ThemeSuggestion]:
    """The active themes whose label or keywords appear in `text`, best first.

    Each suggestion names the vocabulary terms found (as written there, in order of first
    appearance, once each) and scores how many times they occur. Sorted by score, then by
    distinct terms, then by code, so the same text always gives the same list. Nothing is
    applied here: the caller shows the suggestions and the user decides."""
    if limit < 1:
        return []
    words = _normalise(text)
    if not words:
        return []
    # Built once for the text; each term then looks at its first word's positions only.
    index: dict[str, list[int]] = defaultdict(list)
    for position, word in enumerate(words):
        index[word].append(position)

    found: list[tuple[int, int, str, ThemeSuggestion]] = []
    for theme in vocabulary:
        if not theme.active:
            continue
        matched, score = _match(_terms(theme), words, index)
        if matched:
            suggestion = ThemeSuggestion(
                code=theme.code, label=theme.label, matched=matched, score=score
            )
            found.append((-score, -len(matched), theme.code, suggestion))
    found.sort(key=lambda entry: entry[:3])
    return [suggestion for *_, suggestion in found[:limit]]
