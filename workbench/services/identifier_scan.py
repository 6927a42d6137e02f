"""Find what looks like a real identifier in text about to leave the workbench.

Cases are held under pseudonymous references, but an auditor can still type a date of birth,
an NHS number or a postcode into a finding. Before a document is written, every piece of
text in it is scanned, and a hit is shown by where it is and what kind it is, with the
identifier itself masked: the list of hits can go to a terminal or a log without leaking.

The kinds, and the rules that keep false positives low:

- **date of birth**: a full date (day, month and year) in numeric form (12/03/2014,
  12-03-14, 12.03.2014, 2014-03-12; day first, as written in the UK) or long form
  (12 March 2014, 12th Mar 2014, March 12, 2014). Audit text is full of event dates
  ("strategy meeting on 12/03/2026"), so a full date counts only when
  (a) a birth cue (DOB, D.O.B., date of birth, born, birthday) is within 40 characters
  of it, or (b) it is more than three years before the scan's `today`. An audit looks
  back twelve months or so, and the audited children are mostly old enough that their
  birth dates fall before that; an event date that old is rare in a finding and worth a
  second look anyway. Month-and-year ("March 2014") and impossible dates never count.
- **NHS number**: ten digits, together or spaced or hyphenated 3-3-4, whose last digit is
  the Modulus 11 check digit of the first nine (most ten-digit numbers fail it).
- **postcode**: a UK postcode in its full form (outward and inward code, e.g. "SW1A 1AA",
  "M1 1AE", "B33 8TH") in one of the real postcode areas, with the letters the inward code
  may hold; any case, space or not.
  An outward code alone ("B33") is a district, not an address, and does not count.
- **phone number**: a UK number starting 01, 02, 03 or 07 (ten or eleven digits) or +44,
  with spaces, hyphens or brackets between the groups.
- **e-mail address**: name@domain.tld; an "@" in prose is not one.
- **known identifier**: a word or phrase from the partnership's own list (for example the
  names of children in the cohort), matched whole-word and case-insensitively.

Where two hits overlap (a ten-digit phone number that also passes the NHS check), the kind
listed first above the other in `_PRIORITY` is kept.

Standard library only: this module knows nothing of the database or the documents.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import Any

from pydantic import BaseModel

DATE_OF_BIRTH = "date of birth"
NHS_NUMBER = "NHS number"
POSTCODE = "postcode"
PHONE_NUMBER = "phone number"
EMAIL_ADDRESS = "e-mail address"
KNOWN_IDENTIFIER = "known identifier"

KINDS = (DATE_OF_BIRTH, NHS_NUMBER, POSTCODE, PHONE_NUMBER, EMAIL_ADDRESS, KNOWN_IDENTIFIER)
# Who wins when two hits overlap: the more specific pattern.
_PRIORITY = (KNOWN_IDENTIFIER, EMAIL_ADDRESS, NHS_NUMBER, PHONE_NUMBER, POSTCODE, DATE_OF_BIRTH)

CUE_DISTANCE = 40
"""Characters between a birth cue and a date for the date to count as a date of birth."""
OLD_DATE_YEARS = 3
"""A full date more than this many years before today counts as a date of birth."""
CONTEXT = 15
"""Characters of context either side of a hit in its excerpt."""
MASK = "●"


@dataclass(frozen=True)
class IdentifierHit:
    """Where an identifier-like piece of text is, what kind, and its context with it masked."""

    where: str
    kind: str
    excerpt: str

    def __str__(self) -> str:
        return f"{self.where}: {self.kind}: {self.excerpt}"


class IdentifierListError(ValueError):
    """The partnership's list of identifiers cannot be read; the message never quotes it."""


# -- the patterns ----------------------------------------------------------------------------

_MONTHS = {
    name: number
    for number, names in enumerate(
        (
            ("january", "jan"),
            ("february", "feb"),
            ("march", "mar"),
            ("april", "apr"),
            ("may",),
            ("june", "jun"),
            ("july", "jul"),
            ("august", "aug"),
            ("september", "sept", "sep"),
            ("october", "oct"),
            ("november", "nov"),
            ("december", "dec"),
        ),
        start=1,
    )
    for name in names
}
_MONTH = "(?P<{}>" + "|".join(sorted(_MONTHS, key=len, reverse=True)) + r")\.?"
_ORDINAL = r"(?:st|nd|rd|th)?"

_DATE_PATTERNS = (
    # 12/03/2014, 12-03-14, 12.03.2014 (day first, the same separator twice)
    re.compile(
        r"(?<![\w/.-])(?P<d>\d{1,2})(?P<sep>[/.-])(?P<m>\d{1,2})(?P=sep)(?P<y>\d{4}|\d{2})"
        r"(?![\w/-]|\.\d)"
    ),
    # 2014-03-12, 2014/03/12
    re.compile(
        r"(?<![\w/.-])(?P<y>\d{4})(?P<sep>[/-])(?P<m>\d{1,2})(?P=sep)(?P<d>\d{1,2})"
        r"(?![\w/-]|\.\d)"
    ),
    # 12 March 2014, 12th of Mar. 2014
    re.compile(
        rf"(?<![\w])(?P<d>\d{{1,2}}){_ORDINAL}\s+(?:of\s+)?{_MONTH.format('mn')},?\s+"
        r"(?P<y>\d{4})(?!\w)",
        re.IGNORECASE,
    ),
    # March 12, 2014 and March 12th 2014
    re.compile(
        rf"(?<![\w]){_MONTH.format('mn')}\s+(?P<d>\d{{1,2}}){_ORDINAL},?\s+(?P<y>\d{{4}})(?!\w)",
        re.IGNORECASE,
    ),
)
_BIRTH_CUE = re.compile(
    r"\b(?:d\.?\s?o\.?\s?b\b\.?|date\s+of\s+birth|born|birthday|birth\s+date)", re.IGNORECASE
)

_NHS = re.compile(r"(?<![\w+])(\d{3})([ -]?)(\d{3})\2(\d{4})(?![\w])")

# Only the real postcode areas (so "in Y10 1st term" is not a postcode), and the letters
# the inward code may hold (Royal Mail's rules); any case.
_AREAS = """
AB AL B BA BB BD BF BH BL BN BR BS BT BX CA CB CF CH CM CO CR CT CV CW DA DD DE DG DH DL DN DT
DY E EC EH EN EX FK FY G GL GU GY HA HD HG HP HR HS HU HX IG IM IP IV JE KA KT KW KY L LA LD LE
LL LN LS LU M ME MK ML N NE NG NN NP NR NW OL OX PA PE PH PL PO PR RG RH RM S SA SE SG SK SL SM
SN SO SP SR SS ST SW SY TA TD TF TN TQ TR TS TW UB W WA WC WD WF WN WR WS WV YO ZE
"""
_POSTCODE_AREAS = tuple(_AREAS.split())
_POSTCODE = re.compile(
    r"(?<![\w])(?:(?:"
    + "|".join(sorted(_POSTCODE_AREAS, key=len, reverse=True))
    + r")[0-9][0-9A-Z]?|GIR(?=\s?0AA))\s?[0-9][ABD-HJLNP-UW-Z]{2}(?![\w])",
    re.IGNORECASE,
)

# 01xxx xxxxxx, (01632) 960 000, 020 7946 0000, 07700 900123, +44 (0)7700 900123
_PHONE = re.compile(
    r"(?<![\w+])(?:\+44[ -]?(?:\(0\)[ -]?)?\(?|\(?0)[1237](?:[ \-)]{0,2}\d){8,9}(?![\w])"
)

_EMAIL = re.compile(
    r"(?<![\w.+-])[A-Za-z0-9][A-Za-z0-9._%+-]*@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?"
    r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*\.[A-Za-z]{2,}(?![\w])"
)


# -- checks ----------------------------------------------------------------------------------


def nhs_check_digit_ok(digits: str) -> bool:
    """Modulus 11: weights 10 down to 2 on the first nine digits; 11 means 0, 10 is never valid."""
    if len(digits) != 10 or not digits.isdigit():
        return False
    total = sum(int(d) * w for d, w in zip(digits[:9], range(10, 1, -1), strict=True))
    check = 11 - total % 11
    if check == 11:
        check = 0
    return check != 10 and check == int(digits[9])


def _full_year(text: str, today: dt.date) -> int:
    if len(text) == 4:
        return int(text)
    # Two-digit years: this century unless that would be in the future.
    year = 2000 + int(text)
    return year if year <= today.year else year - 100


def _date(match: re.Match[str], today: dt.date) -> dt.date | None:
    parts = match.groupdict()
    if parts.get("sep") == "." and len(parts["y"]) == 2 and len(parts["d"] + parts["m"]) < 4:
        return None  # "1.2.10" is a section or version number, not a date
    month = _MONTHS[parts["mn"].lower()] if parts.get("mn") else int(parts["m"])
    try:
        return dt.date(_full_year(parts["y"], today), month, int(parts["d"]))
    except ValueError:
        return None


def _years_before(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)


# -- finding ---------------------------------------------------------------------------------

_Span = tuple[int, int, str]


def _dates_of_birth(text: str, today: dt.date) -> Iterator[_Span]:
    cutoff = _years_before(today, OLD_DATE_YEARS)
    # Cues found in the whole text, not a slice: a slice could cut "unborn" down to "born".
    cues = [(cue.start(), cue.end()) for cue in _BIRTH_CUE.finditer(text)]
    for pattern in _DATE_PATTERNS:
        for match in pattern.finditer(text):
            day = _date(match, today)
            if day is None:
                continue
            start, end = match.span()
            near_cue = any(
                c_end > start - CUE_DISTANCE and c_start < end + CUE_DISTANCE
                for c_start, c_end in cues
            )
            if day < cutoff or near_cue:
                yield start, end, DATE_OF_BIRTH


def _nhs_numbers(text: str) -> Iterator[_Span]:
    for match in _NHS.finditer(text):
        if nhs_check_digit_ok(match.group(1) + match.group(3) + match.group(4)):
            yield match.start(), match.end(), NHS_NUMBER


def _phone_numbers(text: str) -> Iterator[_Span]:
    for match in _PHONE.finditer(text):
        digits = re.sub(r"\D", "", match.group())
        if digits.startswith("44"):
            digits = "0" + digits[2:].removeprefix("0")  # +44 (0)20 ... is 020 ...
        # Eleven digits, or ten for some older 01 area codes.
        if len(digits) == 11 or (len(digits) == 10 and digits.startswith("01")):
            yield match.start(), match.end(), PHONE_NUMBER


def _simple(pattern: re.Pattern[str], kind: str, text: str) -> Iterator[_Span]:
    for match in pattern.finditer(text):
        yield match.start(), match.end(), kind


def known_pattern(known: Sequence[str]) -> re.Pattern[str] | None:
    """One pattern for the whole list: whole words, any case, any run of spaces between words."""
    terms = sorted({" ".join(k.split()) for k in known if k.strip()}, key=len, reverse=True)
    if not terms:
        return None
    alternatives = (r"\s+".join(re.escape(word) for word in term.split()) for term in terms)
    return re.compile(r"(?<!\w)(?:" + "|".join(alternatives) + r")(?!\w)", re.IGNORECASE)


def _spans(text: str, known: re.Pattern[str] | None, today: dt.date) -> list[_Span]:
    found: list[_Span] = []
    if known is not None:
        found.extend(_simple(known, KNOWN_IDENTIFIER, text))
    found.extend(_simple(_EMAIL, EMAIL_ADDRESS, text))
    found.extend(_nhs_numbers(text))
    found.extend(_phone_numbers(text))
    found.extend(_simple(_POSTCODE, POSTCODE, text))
    found.extend(_dates_of_birth(text, today))
    rank = {kind: n for n, kind in enumerate(_PRIORITY)}
    kept: list[_Span] = []
    for span in sorted(found, key=lambda s: (rank[s[2]], s[0])):
        if all(span[1] <= k[0] or span[0] >= k[1] for k in kept):
            kept.append(span)
    return sorted(kept)


def _masked(text: str, spans: Sequence[_Span]) -> str:
    chars = list(text)
    for start, end, _ in spans:
        for i in range(start, end):
            if chars[i].isalnum():
                chars[i] = MASK
    return "".join(chars)


def _excerpt(masked: str, start: int, end: int) -> str:
    left = max(0, start - CONTEXT)
    right = min(len(masked), end + CONTEXT)
    piece = " ".join(masked[left:right].split())
    return ("…" if left > 0 else "") + piece + ("…" if right < len(masked) else "")


def scan(
    texts: Iterable[tuple[str, str]],
    known: Sequence[str] = (),
    *,
    today: dt.date | None = None,
) -> list[IdentifierHit]:
    """Every identifier-like piece of each (where, text), in order, with excerpts masked.

    An excerpt masks every hit in its text, not only its own, so no hit's context shows
    another identifier.
    """
    today = today or dt.date.today()
    pattern = known_pattern(known)
    hits: list[IdentifierHit] = []
    for where, text in texts:
        if not text:
            continue
        spans = _spans(text, pattern, today)
        if not spans:
            continue
        masked = _masked(text, spans)
        hits.extend(IdentifierHit(where, kind, _excerpt(masked, s, e)) for s, e, kind in spans)
    return hits


# -- the partnership's list and the texts of a document ----------------------------------------


def read_known_identifiers(path: Path) -> tuple[str, ...]:
    """The list: one identifier a line; blank lines and lines starting "#" are ignored."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise IdentifierListError(f"identifiers file {path}: no such file") from None
    except UnicodeDecodeError:
        raise IdentifierListError(f"identifiers file {path}: not UTF-8 text") from None
    except OSError as exc:
        raise IdentifierListError(
            f"identifiers file {path}: cannot read ({exc.strerror or type(exc).__name__})"
        ) from None
    lines = (line.strip() for line in text.splitlines())
    return tuple(line for line in lines if line and not line.startswith("#"))


def texts_of(model: BaseModel, prefix: str = "") -> Iterator[tuple[str, str]]:
    """Every str in a pydantic model, however deep, with its path: "sections[2].strengths[0].text".

    Enum members are fixed vocabulary, not text anyone typed, and are skipped.
    """
    for name in type(model).model_fields:
        yield from _walk(getattr(model, name), f"{prefix}.{name}" if prefix else name)


def _walk(value: Any, path: str) -> Iterator[tuple[str, str]]:
    if isinstance(value, Enum):
        return
    if isinstance(value, str):
        yield path, value
    elif isinstance(value, BaseModel):
        yield from texts_of(value, path)
    elif isinstance(value, list | tuple):
        for index, item in enumerate(value):
            yield from _walk(item, f"{path}[{index}]")
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _walk(item, f"{path}[{key!r}]")
