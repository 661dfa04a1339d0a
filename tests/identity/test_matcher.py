"""The matcher: rules files, blocking and scores."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from leadcli.identity import matcher
from leadcli.identity.matcher import RulesError, parse_rules


def _prepare(rows: list[dict], compare=()) -> matcher.Prepared:
    rules = matcher.load_rules()
    names = sorted({k for r in rows for k in r})
    columns = {n: [r.get(n) for r in rows] for n in names}
    return matcher.prepare(list(range(1, len(rows) + 1)), columns, rules, compare)


def test_default_rules_load_and_name_every_comparator_they_use() -> None:
    rules = matcher.load_rules()
    assert {f.comparator for f in rules.fields} <= set(matcher.COMPARATORS)
    assert 0 < rules.threshold < 1


def test_typo_and_same_company_is_a_likely_duplicate_but_namesakes_are_not() -> None:
    prepared = _prepare(
        [
            {"first_name": "Ana", "last_name": "Silva", "email": "ana@acme.com", "company": "Acme"},
            {
                "first_name": "Anna",
                "last_name": "Silva",
                "email": "anna.silva@acme.com",
                "company": "Acme",
            },
            {
                "first_name": "Ana",
                "last_name": "Silva",
                "email": "ana.s@gmail.com",
                "company": "Globex",
                "city": "Porto",
            },
            {"first_name": "Bob", "last_name": "Stone", "email": "bob@acme.com", "company": "Acme"},
        ]
    )
    matches, _ = matcher.find_matches(prepared)
    assert [(m.i, m.j) for m in matches] == [(0, 1)]
    assert "last_name exact" in matches[0].reasons


def test_swapped_first_and_last_names_are_found() -> None:
    prepared = _prepare(
        [
            {"first_name": "Grace", "last_name": "Hopper", "phone": "+14155550100"},
            {"first_name": "Hopper", "last_name": "Grace", "phone": "+14155550100"},
        ]
    )
    matches, _ = matcher.find_matches(prepared)
    assert len(matches) == 1
    assert "first_name and last_name swapped" in matches[0].reasons


def test_location_fields_count_once() -> None:
    rules = matcher.load_rules()
    base = {"first_name": "Ann", "last_name": "Lee"}
    one = _prepare([{**base, "city": "Perth"}, {**base, "city": "Perth"}])
    both = _prepare(
        [
            {**base, "city": "Perth", "postal_code": "6000"},
            {**base, "city": "Perth", "postal_code": "6000"},
        ],
        compare=["postal_code"],
    )
    s_one = matcher.Scorer(one).score(0, 1)[0]
    s_both = matcher.Scorer(both).score(0, 1)[0]
    postal_code = next(f for f in rules.fields if f.name == "postal_code")
    city = next(f for f in rules.fields if f.name == "city")
    # Counted once: the postal code's weight replaces the city's rather than adding to it.
    import math

    log_odds = lambda p: math.log2(p / (1 - p))  # noqa: E731
    assert log_odds(s_both) - log_odds(s_one) == pytest.approx(postal_code.exact - city.exact)


def test_blocking_stays_far_below_all_pairs() -> None:
    rows = [
        {"first_name": f"Person{i}", "last_name": f"Family{i % 97}x{i}", "email": f"p{i}@x{i}.com"}
        for i in range(2000)
    ]
    prepared = _prepare(rows)
    pairs, _ = matcher.candidate_pairs(prepared)
    assert len(pairs) < 2000 * 1999 / 2 / 20


def test_a_huge_block_is_compared_by_neighbours_only() -> None:
    rows = [{"first_name": "Sam", "last_name": "Smith", "email": f"s{i}@x.com"} for i in range(500)]
    prepared = _prepare(rows)
    pairs, stats = matcher.candidate_pairs(prepared)
    assert stats["big_blocks"] >= 1
    assert len(pairs) <= 500 * 12 * 4


def test_compare_names_a_custom_field_as_imported() -> None:
    rules = matcher.load_rules()
    chosen = rules.active_fields(["Date of Birth", "shoe size"])
    names = [f.name for f in chosen]
    assert "date_of_birth" in names and "shoe size" in names
    assert next(f for f in chosen if f.name == "shoe size").comparator == (
        rules.default_field.comparator
    )


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ('[fields.first_name]\ncomparator = "sounds_like"\n', "line 2: rule fields.first_name"),
        ("threshold = 2\n[fields.x]\n", "line 1: rule threshold"),
        ('[fields.x]\nexact = "high"\n', "line 2: rule fields.x: exact must be a number"),
        ('blocking = [["soundslike:last_name"]]\n[fields.x]\n', "rule blocking key 1"),
        ("[fields.x\n", "not valid TOML"),
        ("colour = 1\n[fields.x]\n", "line 1: rule colour"),
    ],
)
def test_a_bad_rules_file_is_one_message_naming_rule_and_line(text: str, needle: str) -> None:
    with pytest.raises(RulesError) as info:
        parse_rules(text, source="my.toml")
    assert needle in str(info.value)
    assert str(info.value).startswith("my.toml")


def test_user_rules_in_the_config_folder_win_over_the_default(tmp_path: Path) -> None:
    (tmp_path / "matching.toml").write_text(
        'threshold = 0.7\nblocking = [["email"]]\n[fields.email]\ncomparator = "exact"\n'
    )
    rules = matcher.load_rules(config_path=tmp_path / "config.toml")
    assert rules.threshold == 0.7
    assert [f.name for f in rules.fields] == ["email"]


def test_giving_up_early_never_changes_a_reported_pair() -> None:
    """``bounded`` (used by dedupe) stops once a pair cannot reach the threshold: every pair
    it keeps must score exactly as the full evaluation, and every pair it drops must score
    below the threshold."""
    import math
    import random

    rng = random.Random(3)
    names = ["ann", "anne", "bob", "rob", "lee", "li", "smith", "smyth", "jones", None]
    rows = [
        {
            "first_name": rng.choice(names),
            "last_name": rng.choice(names),
            "email": rng.choice(["a@x.com", "b@x.com", "ann@y.org", None]),
            "city": rng.choice(["perth", "pert", "york", None]),
            "postal_code": rng.choice(["6000", "6001", "2000", None]),
            "address_1": rng.choice(["1 main st", "main st 1", "2 high st", None]),
            "address_2": rng.choice(["1 main st", "flat 2", None]),
        }
        for _ in range(150)
    ]
    prepared = _prepare(rows, compare=["postal_code", "address_1", "address_2"])
    scorer = matcher.Scorer(prepared)
    threshold = prepared.rules.threshold
    need = math.log2(threshold / (1 - threshold))
    for i in range(len(rows)):
        for j in range(i + 1, len(rows)):
            full = scorer.evaluate(i, j)
            fast = scorer.bounded(i, j, need)
            if fast is None:
                assert full[0] < threshold
            elif full[0] >= threshold:
                assert fast[0] == pytest.approx(full[0])


@settings(max_examples=150, deadline=None)
@given(
    st.dictionaries(
        st.sampled_from(
            ["threshold", "prior", "max_block", "window", "swap", "blocking", "colour"]
        ),
        st.one_of(
            st.integers(-5, 500),
            st.floats(allow_nan=True),
            st.text(max_size=8),
            st.lists(st.lists(st.text(max_size=12), max_size=3), max_size=3),
        ),
    ),
    st.dictionaries(
        st.sampled_from(["comparator", "close_at", "exact", "close", "far", "group", "active"]),
        st.one_of(st.sampled_from(matcher.COMPARATORS), st.floats(), st.booleans(), st.text()),
    ),
)
def test_any_rules_file_loads_or_is_one_rules_error(top: dict, fields: dict) -> None:
    import tomli_w

    try:
        text = tomli_w.dumps({**top, "fields": {"first_name": fields}})
    except (TypeError, ValueError):  # not representable in TOML (e.g. nan is fine, None not)
        return
    try:
        rules = parse_rules(text, source="r.toml")
    except RulesError as exc:
        assert str(exc).startswith("r.toml")
        assert "\n" not in str(exc)
    else:
        assert 0 <= rules.threshold <= 1
        assert rules.max_block >= 2 and rules.window >= 2
