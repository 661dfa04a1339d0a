"""Every parser of user input, fed anything: a value or a ``LeadcliError`` with a clear
message, never a traceback. Dates and phrases, ``--map`` pairs and mapping files, scoring
rule files, matching rule files and cadence files here; CSV cells and whole files have theirs
in ``tests/importing/test_import_robustness.py``, the configuration in ``tests/test_config.py``.

Files are fuzzed two ways: arbitrary bytes (most are not TOML at all), and TOML documents of
any shape with the keys the parser looks for, so the checks behind the TOML reader are
reached too.
"""

from __future__ import annotations

import string
from pathlib import Path

import tomli_w
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from leadcli.engagement import cadences
from leadcli.errors import LeadcliError
from leadcli.identity import matcher
from leadcli.importing import mapping
from leadcli.scoring import rules
from leadcli.text import dates

FUZZ = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)

_scalars = st.one_of(
    st.integers(-(2**63), 2**63 - 1),
    st.floats(allow_nan=False),
    st.booleans(),
    st.text(max_size=10),
    st.dates(),
)


def _documents(keys: list[str]) -> st.SearchStrategy[bytes]:
    """TOML of any shape whose table and key names are the ones the parser reads."""
    names = st.one_of(st.sampled_from(keys), st.text(string.ascii_letters, min_size=1, max_size=5))
    values = st.recursive(
        _scalars,
        lambda inner: st.one_of(
            st.lists(inner, max_size=3), st.dictionaries(names, inner, max_size=4)
        ),
        max_leaves=12,
    )
    return st.dictionaries(names, values, max_size=4).map(lambda d: tomli_w.dumps(d).encode())


def _files(keys: list[str]) -> st.SearchStrategy[bytes]:
    return st.one_of(st.binary(max_size=200), _documents(keys))


def _clear(exc: LeadcliError) -> None:
    message = str(exc)
    assert message and "\n" not in message.strip() and "Traceback" not in message


@FUZZ
@given(text=st.text(max_size=40))
def test_any_date_or_phrase_is_a_time_or_a_value_error(text):
    # The CLI turns ValueError from these into one line naming the option (exit 1 or 2).
    for parse in (dates.parse_datetime, dates.parse_when):
        try:
            parsed = parse(text)
        except ValueError as exc:
            assert str(exc)
        else:
            assert dates.to_store(parsed)


@FUZZ
@given(data=_files(["map", "email", "Email", "first_name"]))
def test_any_mapping_file_is_a_mapping_or_a_clear_error(tmp_path, data):
    path = tmp_path / "map.toml"
    path.write_bytes(data)
    try:
        found = mapping.parse_overrides([], path)
    except LeadcliError as exc:
        _clear(exc)
    else:
        assert all(target in mapping.TARGETS for target in found.values())


@FUZZ
@given(pairs=st.lists(st.text(max_size=20), max_size=3))
def test_any_map_option_is_a_mapping_or_a_clear_error(pairs):
    try:
        mapping.parse_overrides(pairs, None)
    except LeadcliError as exc:
        _clear(exc)


@FUZZ
@given(data=_files(["cadences", "steps", "day", "kind", "description", "note"]))
def test_any_cadence_file_is_cadences_or_a_clear_error(tmp_path, data):
    path = tmp_path / "cadences.toml"
    path.write_bytes(data)
    try:
        loaded = cadences.load(path)
    except LeadcliError as exc:
        _clear(exc)
    else:
        assert all(c.steps for c in loaded.values())


@FUZZ
@given(
    data=_files(
        ["rule", "name", "points", "field", "equals", "contains", "any", "caps", "group", "when"]
    )
)
def test_any_scoring_rules_file_is_rules_or_a_clear_error(tmp_path, data):
    path = tmp_path / "rules.toml"
    path.write_bytes(data)
    try:
        rules.load(path)
    except LeadcliError as exc:
        _clear(exc)


@FUZZ
@given(data=_files(["threshold", "prior", "field", "fields", "comparator", "blocking"]))
def test_any_matching_rules_text_is_rules_or_a_clear_error(data):
    try:
        matcher.parse_rules(data.decode("utf-8", "replace"))
    except LeadcliError as exc:
        _clear(exc)


def test_a_mapping_file_whose_map_is_not_a_table_is_a_clear_error(tmp_path: Path):
    """Found by the fuzzing above: `map = 5` used to end in an AttributeError traceback."""
    path = tmp_path / "map.toml"
    path.write_text("map = 5\n")
    try:
        mapping.parse_overrides([], path)
    except LeadcliError as exc:
        assert "map" in str(exc)
    else:
        raise AssertionError("accepted")
