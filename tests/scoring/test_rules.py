"""Rules: checking files, scoring set-based, ratings as events, --explain adding up."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from leadcli.engagement.activities import log
from leadcli.leads.records import add_lead, edit_lead, get_lead
from leadcli.scoring import rules
from leadcli.scoring.apply import Scorer, explain, rescore


def scorer(text: str | None = None, **kwargs) -> Scorer:
    ruleset = rules.load() if text is None else rules.parse(text, "test.toml")
    return Scorer(mode="rules", rules=ruleset, **kwargs)


def test_shipped_rules_load():
    ruleset = rules.load()
    assert len(ruleset.rules) > 10
    assert {r.group for r in ruleset.rules} == set(rules.GROUPS)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            '[[rule]]\nname = "a"\npoints = 5\nfield = "title"\ncontains = "x"\n\n'
            '[[rule]]\nname = "b"\npoints = 5\nfield = "titel"\ncontains = "x"\n',
            "rule 'b' (line 10): unknown field 'titel'",
        ),
        (
            '[[rule]]\nname = "r"\npoints = 5\nfield = "value"\nmin = 9\nmax = 2\n',
            "rule 'r' (line 5): bad range",
        ),
        ('[[rule]\nname = "r"\n', "is not valid TOML"),
        ('[[rule]]\nname = "r"\npoints = 5\n', "rule 'r' (line 1): needs a test"),
        (
            '[[rule]]\nname = "r"\npoints = 5\nactivity = "fax"\n',
            "rule 'r' (line 4): unknown activity kind 'fax'",
        ),
        ("[caps]\nfitt = 3\n", "unknown group 'fitt'"),
        ("rule = [0]\n", "write rules as [[rule]] tables"),
    ],
)
def test_rule_file_errors_name_rule_and_line(text, expected):
    with pytest.raises(rules.RulesError) as caught:
        rules.parse(text, "test.toml")
    assert expected in str(caught.value)


def test_a_broken_rules_file_rescores_nothing(cli, store, tmp_path: Path):
    lead = add_lead(store, {"first_name": "Ana", "title": "CEO", "company": "Acme"})
    rescore(store, scorer())
    before = get_lead(store, lead)["score"]
    bad = tmp_path / "bad.toml"
    bad.write_text('[[rule]]\nname = "x"\npoints = 50\nfield = "nope"\npresent = true\n')
    result = cli("score", "--rules", str(bad))
    assert result.exit_code == 1
    assert "rule 'x' (line 4): unknown field 'nope'" in result.stderr
    assert get_lead(store, lead)["score"] == before


CAPPED = """
[caps]
fit = 20

[[rule]]
name = "title"
points = 15
field = "title"
contains = ["director"]

[[rule]]
name = "company"
points = 10
field = "company"
present = true

[[rule]]
name = "big deal"
points = 30
field = "value"
min = 10000

[[rule]]
name = "tagged demo"
group = "engagement"
points = 60
field = "tags"
equals = ["demo"]

[[rule]]
name = "opted out"
points = -100
field = "do_not_contact"
equals = true
"""


def test_caps_and_clamp(store):
    a = add_lead(store, {"first_name": "A", "title": "Director", "company": "Acme"})
    b = add_lead(store, {"first_name": "B", "do_not_contact": True}, tags=["demo"])
    c = add_lead(store, {"first_name": "C", "value": 20000, "title": "Director"}, tags=["demo"])
    s = scorer(CAPPED)
    rescore(store, s)
    assert get_lead(store, a)["score"] == 20  # 25 capped at 20
    assert get_lead(store, b)["score"] == 0  # 60 - 100 kept at 0
    assert get_lead(store, c)["score"] == 80  # fit 45 capped at 20, + 60
    assert get_lead(store, c)["rating"] == "hot"
    terms = explain(store, s, a)["terms"]
    assert {"term": "fit capped at 20", "group": "fit", "points": -5} in terms


def test_rating_change_is_an_event_points_alone_are_not(store):
    lead = add_lead(store, {"first_name": "A", "title": "Director"})
    s = scorer(CAPPED)
    rescore(store, s)  # first rating: cold, not an event
    edit_lead(store, lead, {"company": "Acme"})  # 15 -> 20 points: still cold
    rescore(store, s)
    edit_lead(store, lead, {}, add_tags=["demo"])  # 80: hot
    rescore(store, s)
    events = [e for e in get_lead(store, lead)["history"] if e["event"] == "rating"]
    assert len(events) == 1
    assert events[0]["changes"] == {"rating": ["cold", "hot"], "score": [20, 80]}


def test_engagement_decays_with_age(store, monkeypatch):
    text = (
        '[[rule]]\nname = "replied"\ngroup = "engagement"\npoints = 40\nactivity = "email"\n'
        "inbound = true\nhalf_life_days = 10\n"
    )
    monkeypatch.setenv("LEADCLI_NOW", "2026-03-01T12:00:00Z")
    lead = add_lead(store, {"first_name": "A"})
    log(store, lead, "email", "re: pricing", inbound=True)
    rescore(store, scorer(text, now="2026-03-01T12:00:00Z"))
    assert get_lead(store, lead)["score"] == 40
    rescore(store, scorer(text, now="2026-03-11T12:00:00Z"))
    assert get_lead(store, lead)["score"] == 20
    rescore(store, scorer(text, now="2026-03-21T12:00:00Z"))
    assert get_lead(store, lead)["score"] == 10


def test_only_open_leads_by_default_and_ids_from_stdin(cli, store):
    ids = [add_lead(store, {"first_name": n, "company": "Acme"}) for n in "ABC"]
    won = add_lead(store, {"first_name": "W", "company": "Acme"})
    store.conn.execute("UPDATE leads SET stage = 'customer' WHERE id = ?", (won,))
    everything = cli("score", "-f", "json")
    assert json.loads(everything.stdout)["scored"] == 3  # the customer is left alone
    assert get_lead(store, won)["score"] is None
    # As `list -f tsv | cut -f1` gives them: a header, then ids.
    result = cli("score", "-", "-f", "json", input=f"id\n{ids[0]}\n{ids[2]}\n")
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["scored"] == 2
    missing = cli("score", "999")
    assert missing.exit_code == 1 and "no lead with id 999" in missing.stderr


def test_a_command_and_its_rescore_are_one_transaction(cli, store, isolated_env):
    """A broken scoring.toml refuses the change itself: nothing is half done."""
    lead = add_lead(store, {"first_name": "Ana"})
    rules_file = isolated_env.parent.parent / "config" / "scoring.toml"
    rules_file.parent.mkdir(parents=True, exist_ok=True)
    rules_file.write_text('[[rule]]\nname = "x"\npoints = 5\nfield = "nope"\npresent = true\n')
    assert cli("edit", str(lead), "--title", "CTO").exit_code == 1
    assert get_lead(store, lead)["title"] is None
    assert cli("add", "--first-name", "Bo").exit_code == 1
    assert store.conn.execute("SELECT count(*) FROM leads").fetchone()[0] == 1


def test_matching_and_scoring_rules_are_two_files(cli, store, isolated_env):
    """The user's matching rules (dedupe) and scoring rules live side by side."""
    from leadcli.identity import matcher

    folder = isolated_env.parent.parent / "config"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "matching.toml").write_text(matcher.default_rules_text())
    (folder / "scoring.toml").write_text(
        '[[rule]]\nname = "titled"\npoints = 7\nfield = "title"\npresent = true\n'
    )
    assert cli("add", "--first-name", "Ana", "--title", "CEO").exit_code == 0
    assert get_lead(store, 1)["score"] == 7
    assert cli("dedupe", "-f", "json").exit_code == 0


def test_edit_rescores_the_lead(cli, store):
    lead = add_lead(store, {"first_name": "A"})
    assert cli("edit", str(lead), "--title", "CEO").exit_code == 0
    # The shipped rules: decision-maker title +15, no e-mail address -5.
    assert get_lead(store, lead)["score"] == 10


_text = st.sampled_from(["", "Director", "CEO", "intern", "Acme", "demo", "Chat"])


@settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    leads=st.lists(
        st.tuples(_text, _text, _text, st.booleans(), st.lists(_text, max_size=2)),
        min_size=1,
        max_size=5,
    ),
    caps=st.dictionaries(st.sampled_from(["fit", "engagement"]), st.integers(0, 60)),
)
def test_explain_sums_exactly_to_the_score(tmp_path_factory, leads, caps):
    from leadcli.storage.store import connect

    store = connect(tmp_path_factory.mktemp("db") / "leads.db")
    try:
        ids = []
        for title, company, source, dnc, tags in leads:
            ids.append(
                add_lead(
                    store,
                    {
                        "first_name": "X",
                        "title": title,
                        "company": company,
                        "source": source,
                        "do_not_contact": dnc,
                    },
                    tags=tags,
                    custom={"Stage note": source} if source else None,
                )
            )
        base = rules.load()
        s = Scorer(mode="rules", rules=rules.RuleSet(base.rules, {**base.caps, **caps}))
        rescore(store, s)
        for lead in ids:
            result = explain(store, s, lead)
            assert sum(t["points"] for t in result["terms"]) == result["score"]
            # The terms alone (rules and caps) add up to the stored score: the 0-100 line
            # appears only when their total is out of range, never to make up a difference.
            raw = sum(t["points"] for t in result["terms"] if t["group"] != "limit")
            clamped = [t for t in result["terms"] if t["group"] == "limit"]
            assert bool(clamped) == (not 0 <= raw <= 100)
            assert result["score"] == get_lead(store, lead, with_history=False)["score"]
            assert 0 <= result["score"] <= 100
    finally:
        store.close()


def test_import_scores_its_leads(cli, store, tmp_path: Path):
    existing = add_lead(store, {"first_name": "Old", "email": "old@acme.com"})
    log(store, existing, "email", "about the demo", inbound=True)
    path = tmp_path / "leads.csv"
    path.write_text(
        "first_name,email,title,tags\nAna,ana@acme.com,CEO,demo\nOld,old@acme.com,Director,\n"
    )
    result = cli("import", str(path), "-f", "json")
    assert result.exit_code == 0, result.stderr
    s = scorer()
    for lead in (
        get_lead(store, existing, with_history=False),
        get_lead(store, existing + 1, with_history=False),
    ):
        assert lead["score"] == explain(store, s, lead["id"])["score"]
        assert lead["score"] > 0


@pytest.mark.parametrize(
    ("custom", "points"),
    [
        ({"Interest": "Booked a DEMO"}, 30),  # a value holding the word, any case
        ({"Demo wanted": "no"}, 0),  # the word in a field's name only: no points
        ({"Notes": 'said "demo/trial" \\ later'}, 30),  # quotes and slashes around it
        ({"Interest": "pricing"}, 0),
        ({"Interest": "démo"}, 0),  # another word
    ],
)
def test_any_custom_matches_values_not_names(store, custom, points):
    text = (
        '[[rule]]\nname = "demo"\ngroup = "engagement"\npoints = 30\nfield = "any_custom"\n'
        'contains = ["demo"]\n'
    )
    lead = add_lead(store, {"first_name": "A"}, custom=custom)
    rescore(store, scorer(text))
    assert get_lead(store, lead)["score"] == points
    assert explain(store, scorer(text), lead)["score"] == points


def test_a_bulk_rescore_rebuilds_the_score_indexes(store, monkeypatch):
    """Many changed scores are written with the score indexes dropped and built again: the
    scores are the same, and every index is back."""
    from leadcli.scoring import apply

    def indexes() -> set[str]:
        rows = store.conn.execute("SELECT name FROM sqlite_master WHERE type = 'index'")
        return {r[0] for r in rows}

    before = indexes()
    ids = [add_lead(store, {"first_name": f"P{i}", "title": "CEO"}) for i in range(6)]
    monkeypatch.setattr(apply, "BULK_CHANGES", 2)
    dropped = []
    real_build = apply.index_builds

    def spy(conn):
        dropped.append(indexes() ^ before)  # what is missing while they are built again
        return real_build(conn)

    monkeypatch.setattr(apply, "index_builds", spy)
    result = rescore(store, scorer())
    assert "leads_score" in dropped[0]  # the bulk path ran
    assert result.changed == 6
    assert indexes() == before
    # The shipped rules: decision-maker title +15, no e-mail address -5.
    assert {get_lead(store, i)["score"] for i in ids} == {10}
    assert (
        store.conn.execute(
            "SELECT count(*) FROM leads INDEXED BY leads_score WHERE score = 10"
        ).fetchone()[0]
        == 6
    )
    assert store.conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


@pytest.mark.parametrize(
    ("value", "word", "holds"),
    [
        ("50% off", "50%", True),
        ("500 off", "50%", False),  # % is a character here, not LIKE's wildcard
        ("a_b plan", "a_b", True),
        ("axb plan", "a_b", False),  # nor is _
        ("C:\\Temp", "c:\\t", True),
        ("Head of SALES", "sales", True),
        (2000, "00", True),  # a number is matched as the text SQLite gives it
        (None, "x", False),
    ],
)
def test_contains_is_a_case_blind_substring_test_of_the_word_as_written(value, word, holds):
    import sqlite3

    sql = rules.contains_sql("?", word)
    (result,) = (
        sqlite3.connect(":memory:").execute(f"SELECT coalesce({sql}, 0)", (value,)).fetchone()
    )
    assert bool(result) is holds
