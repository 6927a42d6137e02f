"""The identifier scan: each kind found and its look-alikes left alone, and nothing leaks."""

from __future__ import annotations

import datetime as dt
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from pydantic import BaseModel

from workbench.services.identifier_scan import (
    DATE_OF_BIRTH,
    EMAIL_ADDRESS,
    KNOWN_IDENTIFIER,
    MASK,
    NHS_NUMBER,
    PHONE_NUMBER,
    POSTCODE,
    IdentifierHit,
    IdentifierListError,
    nhs_check_digit_ok,
    read_known_identifiers,
    scan,
    texts_of,
)

TODAY = dt.date(2026, 11, 23)


def kinds(text: str, known: tuple[str, ...] = ()) -> list[str]:
    return [hit.kind for hit in scan([("f", text)], known, today=TODAY)]


# -- dates of birth ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "Child born 12/03/2014 in the maternity unit",
        "DOB: 2014-03-12.",
        "D.O.B 12-03-14",
        "d.o.b. 12.03.2014",
        "date of birth 12 March 2014",
        "date of birth: 1st Feb 2016",
        "born on March 12, 2014 at home",
        "birthday is 3 September 2023",  # a cue makes even a recent date count
        "12/03/2025 (DOB)",
    ],
)
def test_a_date_beside_a_birth_cue_is_a_date_of_birth(text: str) -> None:
    assert kinds(text) == [DATE_OF_BIRTH]


@pytest.mark.parametrize(
    "text",
    [
        "referral on 01/02/2019 by the school",
        "seen 2010-06-30 at the walk-in centre",
        "placed with grandparents on 4 July 2015",
    ],
)
def test_a_full_date_more_than_three_years_ago_counts_without_a_cue(text: str) -> None:
    assert kinds(text) == [DATE_OF_BIRTH]


@pytest.mark.parametrize(
    "text",
    [
        "strategy meeting on 12/03/2026",
        "Initial child protection conference held 2025-11-02, quorate",
        "the core group met on 3 October 2024 and again on October 17, 2024",
        "born into a family known to services since March 2014",  # month and year only
        "unborn baby; pre-birth assessment started 01/09/2026",  # 'unborn' is not 'born'
        "see section 1.2.10 of the procedures",  # a section number, not a date
        "dated 31/02/2014, which is not a date",
        "the 2014 review",
    ],
)
def test_event_dates_and_partial_dates_are_not_dates_of_birth(text: str) -> None:
    assert kinds(text) == []


def test_a_cue_far_from_the_date_does_not_count() -> None:
    text = "Born prematurely and well supported by health visitors;" + " " * 30 + "seen 12/03/2026"
    assert kinds(text) == []


# -- NHS numbers ---------------------------------------------------------------------------------


def test_modulus_11_check_digit() -> None:
    assert nhs_check_digit_ok("9434765919")
    assert nhs_check_digit_ok("4010232137")
    assert not nhs_check_digit_ok("9434765918")  # wrong check digit
    assert not nhs_check_digit_ok("1234567890")  # check digit would be 10: never issued
    assert not nhs_check_digit_ok("943476591")


@pytest.mark.parametrize("text", ["NHS 943 476 5919", "nhs no 9434765919.", "(943-476-5919)"])
def test_a_valid_nhs_number_is_found_however_spaced(text: str) -> None:
    assert kinds(text) == [NHS_NUMBER]


@pytest.mark.parametrize(
    "text",
    [
        "reference 9434765918",  # fails Modulus 11
        "943 476 59190",  # eleven digits
        "943 476-5919",  # mixed separators: not the 3-3-4 form
        "case count 1234567890",
    ],
)
def test_ten_digits_failing_the_check_or_the_form_are_not_nhs_numbers(text: str) -> None:
    assert NHS_NUMBER not in kinds(text)


# -- postcodes -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    ["lives at B33 8TH now", "SW1A 1AA", "m1 1ae", "moved to ls14ap", "EC1A 1BB.", "GIR 0AA"],
)
def test_full_postcodes_are_found_in_any_case(text: str) -> None:
    assert kinds(text) == [POSTCODE]


@pytest.mark.parametrize(
    "text",
    [
        "the B33 area",  # a district, not an address
        "A1 2",
        "SW1A",
        "in Y10 1st term",  # Y is not a postcode area
        "room B12 3CI",  # C and I never end a postcode
        "criterion cse-1.2 and da-1.1",
    ],
)
def test_partial_or_impossible_postcodes_are_not_found(text: str) -> None:
    assert kinds(text) == []


# -- phone numbers -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "mum's mobile 07700 900123",
        "07700900123",
        "call 0113 496 0000 (office)",
        "020 7946 0000",
        "(01632) 960 000",
        "+44 7700 900123",
        "+44 (0)20 7946 0000",
        "0300-123-4567",
    ],
)
def test_uk_phone_numbers_are_found(text: str) -> None:
    assert kinds(text) == [PHONE_NUMBER]


@pytest.mark.parametrize(
    "text",
    [
        "attended 123456 sessions",  # a six-digit number
        "0770 090",  # too short
        "Childline 0800 1111",
        "08001111",
        "077009001234567",  # too long
    ],
)
def test_short_or_non_uk_numbers_are_not_phone_numbers(text: str) -> None:
    assert kinds(text) == []


# -- e-mail and known identifiers ---------------------------------------------------------------


def test_email_addresses_are_found_but_not_an_at_sign_in_prose() -> None:
    assert kinds("emailed jo.bloggs+case@example.org.uk about it") == [EMAIL_ADDRESS]
    assert kinds("meet @ school, or at@ the hub; @mention") == []


def test_known_identifiers_match_whole_words_in_any_case_and_spacing() -> None:
    known = ("Jayden Smith", "Kowalczyk", "  ", "")
    assert kinds("jayden  SMITH attended", known) == [KNOWN_IDENTIFIER]
    assert kinds("the Kowalczyk family", known) == [KNOWN_IDENTIFIER]
    assert kinds("Jaydens Smithson; Kowalczyks", known) == []
    assert kinds("nothing to see", ()) == []


def test_overlapping_hits_are_reported_once_by_the_more_specific_kind() -> None:
    # A known identifier that is also a postcode is reported as the partnership listed it.
    assert kinds("at LS1 4AP today", ("LS1 4AP",)) == [KNOWN_IDENTIFIER]


# -- masking and where ---------------------------------------------------------------------------

SECRETS = {
    "12/03/2014": "DOB 12/03/2014 recorded",
    "9434765919": "NHS 9434765919 on the plan",
    "943 476 5919": "NHS 943 476 5919 on the plan",
    "B33 8TH": "moved to B33 8TH last year",
    "07700 900123": "mobile 07700 900123 given",
    "jo@example.org": "e-mail jo@example.org sent",
    "Jayden": "Jayden said he felt safe",
}


@pytest.mark.parametrize("secret", SECRETS)
def test_an_excerpt_never_shows_the_identifier(secret: str) -> None:
    (hit,) = scan([("f", SECRETS[secret])], ("Jayden",), today=TODAY)
    assert secret not in hit.excerpt and secret not in str(hit) and secret not in repr(hit)
    digits = re.sub(r"\W", "", secret)
    assert digits not in re.sub(r"\W", "", hit.excerpt)
    assert MASK in hit.excerpt


def test_excerpt_shows_context_with_the_match_masked() -> None:
    (hit,) = scan(
        [("sections[2].strengths[0].text", "Child born 12/03/2014 in Leeds")], today=TODAY
    )
    assert hit == IdentifierHit(
        "sections[2].strengths[0].text", DATE_OF_BIRTH, "Child born ●●/●●/●●●● in Leeds"
    )
    assert (
        str(hit) == "sections[2].strengths[0].text: date of birth: Child born ●●/●●/●●●● in Leeds"
    )


def test_an_excerpt_masks_every_identifier_near_it_and_is_short() -> None:
    text = "x" * 200 + " DOB 12/03/2014, NHS 9434765919, mobile 07700 900123 " + "y" * 200
    hits = scan([("f", text)], today=TODAY)
    assert [h.kind for h in hits] == [DATE_OF_BIRTH, NHS_NUMBER, PHONE_NUMBER]
    for hit in hits:
        assert len(hit.excerpt) < 60
        assert hit.excerpt.startswith("…") and hit.excerpt.endswith("…")
        for secret in ("12/03/2014", "9434765919", "07700", "900123", "2014", "5919"):
            assert secret not in hit.excerpt


def test_scan_keeps_the_order_of_texts_and_skips_empty_ones() -> None:
    hits = scan([("a", ""), ("b", "SW1A 1AA"), ("c", "fine"), ("d", "jo@example.org")])
    assert [(h.where, h.kind) for h in hits] == [("b", POSTCODE), ("d", EMAIL_ADDRESS)]


# -- the partnership's list ------------------------------------------------------------------------


def test_known_identifiers_file_ignores_blanks_and_comments(tmp_path: Path) -> None:
    path = tmp_path / "ids.txt"
    path.write_text("# children in the cohort\n\nJayden Smith\n  Kowalczyk  \n#Not this\n")
    assert read_known_identifiers(path) == ("Jayden Smith", "Kowalczyk")


def test_a_missing_or_unreadable_list_is_one_line_that_does_not_quote_it(tmp_path: Path) -> None:
    with pytest.raises(IdentifierListError, match="no such file"):
        read_known_identifiers(tmp_path / "missing.txt")
    binary = tmp_path / "ids.bin"
    binary.write_bytes(b"Secret Name\xff\xfe\n")
    with pytest.raises(IdentifierListError) as raised:
        read_known_identifiers(binary)
    assert "Secret" not in str(raised.value) and "\n" not in str(raised.value)


# -- the texts of a document ---------------------------------------------------------------------


class Strength(BaseModel):
    text: str
    count: int = 0


class Section(BaseModel):
    title: str
    strengths: tuple[Strength, ...]
    pairs: tuple[tuple[str, str], ...] = ()


class Document(BaseModel):
    title: str
    day: dt.date
    note: str | None
    sections: tuple[Section, ...]


def test_texts_of_walks_every_string_with_its_path() -> None:
    doc = Document(
        title="T",
        day=TODAY,
        note=None,
        sections=(
            Section(title="A", strengths=()),
            Section(
                title="B",
                strengths=(Strength(text="one"), Strength(text="two")),
                pairs=(("police", "Good"),),
            ),
        ),
    )
    assert list(texts_of(doc)) == [
        ("title", "T"),
        ("sections[0].title", "A"),
        ("sections[1].title", "B"),
        ("sections[1].strengths[0].text", "one"),
        ("sections[1].strengths[1].text", "two"),
        ("sections[1].pairs[0][0]", "police"),
        ("sections[1].pairs[0][1]", "Good"),
    ]


def test_the_scan_loads_no_database_or_document_libraries() -> None:
    """The TUI can check text as it is typed without pulling in the store or the exporters."""
    code = (
        "import json, sys, workbench.services.identifier_scan; "
        "print(json.dumps(sorted({m.split('.')[0] for m in sys.modules} & "
        "{'sqlalchemy', 'textual', 'docx', 'openpyxl', 'matplotlib', 'exports'})))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert json.loads(result.stdout) == []
