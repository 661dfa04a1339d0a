"""The evidence rule over plain values: who is one person, and what is no evidence."""

from __future__ import annotations

import sqlite3

import pytest
from hypothesis import given
from hypothesis import strategies as st

from leadcli.identity import evidence
from leadcli.identity.evidence import (
    DIFFERENT,
    POSSIBLE,
    SAME,
    Lists,
    compatible_names,
    is_placeholder,
    is_role_address,
    judge,
    normalise_name,
)

SWITCHBOARD = "+14155550100"


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("phone", "0000000000"),
        ("phone", "+10000000000"),
        ("phone", "555-555-5555"),
        ("phone", "+15555555555"),
        ("phone", "(123) 456-7890"),
        ("phone", "1111111111"),
        ("email", "test@test.com"),
        ("email", "TEST@Test.com "),
        ("company", "N/A"),
        ("last_name", "-"),
        ("phone", "n/a"),
        ("city", "Unknown"),
        ("country", "Select"),
        ("title", " none "),
    ],
)
def test_placeholders_are_recognised(field: str, value: str) -> None:
    assert is_placeholder(field, value)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("phone", SWITCHBOARD),
        ("phone", "+442079460958"),
        ("email", "ana@kestrel.io"),
        ("company", "Nash"),
        ("last_name", "Na-Young"),
        ("first_name", "Al"),
        ("phone", None),
        ("phone", ""),
    ],
)
def test_real_values_are_not_placeholders(field: str, value: str | None) -> None:
    assert not is_placeholder(field, value)


def test_placeholders_come_from_the_configured_list() -> None:
    lists = Lists.of(placeholders=["nobody"])
    assert is_placeholder("last_name", "Nobody", lists)
    assert not is_placeholder("company", "n/a", lists)


@pytest.mark.parametrize(
    "email", ["info@kestrel.io", "Sales@kestrel.io", "noreply@x.com", "sales+eu@x.com"]
)
def test_role_addresses(email: str) -> None:
    assert is_role_address(email)


@pytest.mark.parametrize("email", ["ana@kestrel.io", "information.desk.ana@x.com", None, "x"])
def test_personal_addresses(email: str | None) -> None:
    assert not is_role_address(email)


def test_role_addresses_come_from_the_configured_list() -> None:
    lists = Lists.of(role_addresses=["desk@"])
    assert is_role_address("desk@x.com", lists)
    assert not is_role_address("info@x.com", lists)


def test_normalise_name_ignores_case_accents_spacing_and_punctuation() -> None:
    assert normalise_name("  O'Brien-Núñez ") == "obrien nunez"
    assert normalise_name("JOSÉ  luis") == normalise_name("jose luis")
    assert normalise_name(None) == ""


@pytest.mark.parametrize(
    ("a", "b"),
    [
        (("Ana", "Silva"), ("ana", "SILVA")),
        (("J.", "Smith"), ("John", "Smith")),
        (("Jon", "Smith"), ("John", "Smith")),
        (("Katherine", "Ng"), ("Katharine", "Ng")),
        (("José", "Núñez"), ("Jose", "Nunez")),
    ],
)
def test_compatible_names(a: tuple[str, str], b: tuple[str, str]) -> None:
    assert compatible_names(*a, *b)
    assert compatible_names(*b, *a)


@pytest.mark.parametrize(
    ("a", "b"),
    [
        (("Alice", "Lee"), ("Bob", "Lee")),
        (("Ana", "Silva"), ("Ana", "Santos")),
        ((None, "Smith"), ("John", "Smith")),
        ((None, None), (None, None)),
        (("Alice", "Kim"), ("Alina", "Kim")),
    ],
)
def test_incompatible_names(a: tuple, b: tuple) -> None:
    assert not compatible_names(*a, *b)


def person(first: str | None, last: str | None, **values: str | None) -> dict:
    return {"first_name": first, "last_name": last, **values}


def test_same_personal_email_is_the_same_person_whatever_the_name() -> None:
    verdict = judge(person("Ana", "Silva", email="ana@x.io"), person("A", "S", email="ana@x.io"))
    assert verdict.outcome == SAME and verdict.reason == "email"


def test_kestrel_labs_switchboard_is_three_people() -> None:
    ann = person("Ann", "Ko", email="ann@kestrel.io", phone=SWITCHBOARD)
    bob = person("Bob", "Li", email="bob@kestrel.io", phone=SWITCHBOARD)
    assert judge(ann, bob).outcome == POSSIBLE
    assert judge(ann, bob).reason == "phone"


def test_shared_phone_with_compatible_name_is_the_same_person() -> None:
    assert judge(
        person("Ann", "Ko", phone=SWITCHBOARD), person("ann", "KO", phone=SWITCHBOARD)
    ).same


def test_shared_phone_never_outweighs_two_personal_emails() -> None:
    a = person("John", "Smith", email="john@a.com", phone=SWITCHBOARD)
    b = person("John", "Smith", email="jsmith@b.com", phone=SWITCHBOARD)
    assert judge(a, b).outcome == POSSIBLE


def test_shared_phone_and_name_with_a_role_address_is_the_same_person() -> None:
    a = person("John", "Smith", email="info@a.com", phone=SWITCHBOARD)
    b = person("John", "Smith", email="john@a.com", phone=SWITCHBOARD)
    assert judge(a, b).same


def test_role_address_needs_compatible_names() -> None:
    assert judge(
        person("Ann", "Ko", email="info@k.io"), person("Bob", "Li", email="info@k.io")
    ) == (evidence.Verdict(POSSIBLE, "email"))
    assert judge(
        person("Ann", "Ko", email="info@k.io"), person("Ann", "Ko", email="info@k.io")
    ).same


def test_placeholders_are_never_evidence() -> None:
    a = person("Ann", "Ko", email="test@test.com", phone="0000000000", external_id="n/a")
    b = person("Bob", "Li", email="test@test.com", phone="0000000000", external_id="n/a")
    assert judge(a, b).outcome == DIFFERENT


def test_external_id_counts_only_from_the_same_system() -> None:
    sf = person("Ann", "Ko", external_id="1001", external_system="salesforce")
    hs = person("Bob", "Li", external_id="1001", external_system="hubspot")
    assert judge(sf, hs) == evidence.Verdict(POSSIBLE, "external_id")
    assert judge(sf, {**sf, "first_name": "Annie"}).same
    assert judge(person("A", "B", external_id="7"), person("C", "D", external_id="7")).same


def test_nothing_shared_is_different() -> None:
    assert judge(person("Ann", "Ko"), person("Ann", "Ko")).outcome == DIFFERENT


@given(st.text(max_size=8), st.text(max_size=8), st.text(max_size=8), st.text(max_size=8))
def test_compatible_names_is_symmetric(a: str, b: str, c: str, d: str) -> None:
    assert compatible_names(a, b, c, d) == compatible_names(c, d, a, b)


@given(st.sampled_from(["info", "sales", "ana", "sales+x", "x.info"]), st.text(max_size=5))
def test_role_address_sql_agrees_with_python(local: str, domain: str) -> None:
    email = f"{local}@{domain}.com"
    conn = sqlite3.connect(":memory:")
    found = conn.execute(f"SELECT {evidence.role_address_sql('?1')}", (email,)).fetchone()[0]
    assert bool(found) == is_role_address(email)


def test_config_defaults_are_the_shipped_lists(tmp_path) -> None:
    from leadcli import config

    loaded = Lists.from_config(config.load(tmp_path / "none.toml"))
    assert loaded == evidence.DEFAULT_LISTS


def test_config_lists_replace_the_shipped_ones(tmp_path) -> None:
    from leadcli import config

    path = tmp_path / "config.toml"
    path.write_text('[identity]\nrole_addresses = ["desk"]\nplaceholders = ["nobody"]\n')
    lists = Lists.from_config(config.load(path))
    assert is_role_address("desk@x.io", lists) and not is_role_address("info@x.io", lists)
    assert is_placeholder("company", "Nobody", lists) and not is_placeholder(
        "company", "n/a", lists
    )
