"""The learned model: refusing with too few closed leads, learning a real signal, storing
the probability, and --explain adding up to the log-odds."""

from __future__ import annotations

import json
import random

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from leadcli.leads.records import add_lead, get_lead
from leadcli.scoring import model, rules
from leadcli.scoring.apply import Scorer, explain, rescore
from leadcli.storage.store import Store


def _closed(store: Store, n: int, seed: int = 1) -> None:
    """Leads whose source and a custom number decide (noisily) whether they became customers;
    a custom id column and a free-text column that must be left out."""
    rng = random.Random(seed)
    rows = []
    for i in range(n):
        source = rng.choice(["referral", "web", "ads", "Select"])
        visits = rng.randint(0, 20)
        odds = {"referral": 1.5, "web": 0.0, "ads": -1.0, "Select": -0.5}[source] + (
            visits - 10
        ) / 4
        won = rng.random() < 1 / (1 + pow(2.718, -odds))
        rows.append(
            (
                f"L{i}",
                source,
                json.dumps(
                    {
                        "Visits": str(visits),
                        "Id": f"x{i}",
                        "Notes": f"call {i} about things {rng.random()}",
                    }
                ),
                "customer" if won else "lost",
            )
        )
    with store.write() as conn:
        conn.executemany(
            "INSERT INTO leads (first_name, source, custom, stage, created_at, updated_at) "
            "VALUES (?, ?, ?, ?, '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z')",
            rows,
        )


def test_refuses_without_closed_leads(cli):
    result = cli("model", "train")
    assert result.exit_code == 1
    assert "there are no closed leads" in result.stderr
    assert "10 more customers and 10 more lost leads" in result.stderr


def test_refuses_with_one_kind_only(cli, store):
    with store.write() as conn:
        conn.executemany(
            "INSERT INTO leads (first_name, stage, created_at, updated_at) "
            "VALUES ('A', 'lost', '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z')",
            [()] * 12,
        )
    result = cli("model", "train")
    assert result.exit_code == 1
    assert "all 12 closed leads are lost" in result.stderr
    assert "10 more customers" in result.stderr


def test_predictive_falls_back_to_rules_and_says_so(cli, store):
    add_lead(store, {"first_name": "A"})
    result = cli("score", "--model", "predictive")
    assert result.exit_code == 0
    assert "scoring by rules" in result.stderr


@pytest.fixture
def trained(store: Store) -> dict:
    _closed(store, 400)
    return model.train(store, folds=3)


def test_learns_the_signal_and_leaves_out_ids_and_text(trained, store):
    names = {f["name"] for f in trained["model"]["features"]}
    assert {"source", "Visits"} <= names
    assert "Id" not in names and "Notes" not in names
    assert trained["evaluation"]["auc"] > 0.75
    source = next(f for f in trained["model"]["features"] if f["name"] == "source")
    assert source["levels"]["referral"] > source["levels"]["ads"]
    assert "select" not in source["levels"]  # a placeholder is missing, not a category


def test_predictive_score_stores_probability_and_explains_log_odds(trained, store, cli):
    lead = add_lead(store, {"first_name": "Z", "source": "referral"}, custom={"Visits": "18"})
    result = cli("score", "--model", "predictive", "-f", "json")
    assert result.exit_code == 0, result.stderr
    record = get_lead(store, lead, with_history=False)
    p = record["win_probability"]
    assert 0 < p < 1
    assert record["score"] == max(1, min(99, round(100 * p)))
    s = Scorer(mode="predictive", rules=rules.load(), model=model.load(store))
    why = explain(store, s, lead)
    assert sum(t["points"] for t in why["predictive"]["terms"]) == why["predictive"]["log_odds"]
    assert why["win_probability"] == p
    shown = json.loads(cli("list", "-f", "json").stdout)
    assert shown[-1]["win_probability"] == p


def test_model_show_and_evaluate(trained, cli):
    shown = cli("model", "show", "-f", "json")
    assert shown.exit_code == 0
    factors = json.loads(shown.stdout)["factors"]
    assert abs(factors[0]["points"]) >= abs(factors[-1]["points"])
    evaluated = cli("model", "evaluate", "--folds", "3", "-f", "json")
    assert evaluated.exit_code == 0
    result = json.loads(evaluated.stdout)
    assert result["folds"] == 3 and 0.5 < result["auc"] <= 1
    assert sum(row["leads"] for row in result["calibration"]) == result["closed_leads"]


@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    source=st.sampled_from(["referral", "web", "ads", "", "Select", "never seen"]),
    visits=st.one_of(st.none(), st.integers(-5, 40).map(str), st.just("n/a")),
)
def test_explain_sums_to_log_odds_and_blend_to_score(trained, store, source, visits):
    lead = add_lead(
        store,
        {"first_name": "Q", "source": source or None},
        custom={"Visits": visits} if visits is not None else None,
    )
    for mode in ("predictive", "blend"):
        s = Scorer(mode=mode, rules=rules.load(), model=model.load(store))
        rescore(store, s, [lead])
        why = explain(store, s, lead)
        terms = why["predictive"]["terms"]
        assert sum(t["points"] for t in terms) == why["predictive"]["log_odds"]
        assert why["score"] == get_lead(store, lead, with_history=False)["score"]
        assert 0 < why["win_probability"] < 1
        if mode == "blend":
            rules_part = why["rules"]
            assert sum(t["points"] for t in rules_part["terms"]) == rules_part["score"]
