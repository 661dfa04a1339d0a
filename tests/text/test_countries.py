"""A row's country, as lead files write it, to the region its phone is read in."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from leadcli.text.countries import country_key, region_of


@pytest.mark.parametrize(
    ("text", "region"),
    [
        ("FR", "FR"),
        ("fr", "FR"),
        ("FRA", "FR"),  # alpha-3
        ("250", "FR"),  # UN numeric
        ("France", "FR"),
        ("Frankreich", "FR"),
        ("Francia", "FR"),
        ("Deutschland", "DE"),
        ("Allemagne", "DE"),
        ("España", "ES"),
        ("ESPANA", "ES"),
        ("United Kingdom", "GB"),
        ("UK", "GB"),
        ("Royaume-Uni", "GB"),
        ("Vereinigtes Königreich", "GB"),
        ("U.S.A.", "US"),
        ("United States", "US"),
        ("Estados Unidos", "US"),
        ("Nederland", "NL"),
        ("Schweiz", "CH"),
        ("Svizzera", "CH"),
        ("Österreich", "AT"),
        ("Brasil", "BR"),
        ("Turkey", "TR"),  # phonenumbers' older spelling, CLDR now says Türkiye
        ("Türkiye", "TR"),
        ("  côte d'ivoire ", "CI"),
    ],
)
def test_codes_and_names_in_many_languages(text: str, region: str):
    assert region_of(text) == region


@pytest.mark.parametrize("text", ["", "   ", "Paris", "n/a", "-", "Springfield"])
def test_what_names_no_country_has_no_region(text: str):
    assert region_of(text) is None


@given(st.sampled_from(["France", "Deutschland", "España", "Italia", "Portugal", "Belgique"]))
def test_case_accents_and_punctuation_do_not_matter(name: str):
    variants = [name.upper(), name.lower(), f" {name}.", country_key(name)]
    assert {region_of(v) for v in variants} == {region_of(name)}


@given(st.text(max_size=30))
def test_any_text_gives_a_region_or_none(text: str):
    region = region_of(text)
    assert region is None or (len(region) == 2 and region.isupper())
