"""A hand-built database whose every figure is worked out by hand below.

Six leads (now is 2026-03-01T00:00:00Z):

| id | source   | created    | value | moves (at)                                  | first touch  |
|----|----------|------------|-------|---------------------------------------------|--------------|
| 1  | "Web"    | 01-01      | 1000  | prospect>lead 01-02, lead>customer 01-11    | +30 min      |
| 2  | "web "   | 01-05      | 2000  | prospect>mql 01-06, mql>lost 01-15 "no budget" | +5 h      |
| 3  | "WEB"    | 02-01      | 500   | prospect>opportunity 02-03                  | +48 h        |
| 4  | referral | 02-10      | 3000  | prospect>sql 02-12, sql>customer 02-24      | +10 min      |
| 5  | referral | 02-15      | 100   | (none: prospect)                            | never        |
| 6  | (none)   | 02-20      | -     | prospect>lost 02-21 "No budget "            | never        |
"""

from __future__ import annotations

import json
import time

import pytest

from leadcli.leads import history

NOW = "2026-03-01T00:00:00Z"

LEADS = [
    # id, source, created, value, stage, closed, first touch, lost reason, owner
    (1, "Web", "2026-01-01", 1000, "customer", "2026-01-11", "2026-01-01T00:30:00Z", None, "ana"),
    (
        2,
        "web ",
        "2026-01-05",
        2000,
        "lost",
        "2026-01-15",
        "2026-01-05T05:00:00Z",
        "no budget",
        "ana",
    ),
    (3, "WEB", "2026-02-01", 500, "opportunity", None, "2026-02-03T00:00:00Z", None, "bo"),
    (
        4,
        "referral",
        "2026-02-10",
        3000,
        "customer",
        "2026-02-24",
        "2026-02-10T00:10:00Z",
        None,
        "bo",
    ),
    (5, "referral", "2026-02-15", 100, "prospect", None, None, None, "bo"),
    (6, None, "2026-02-20", None, "lost", "2026-02-21", None, "No budget ", None),
]
MOVES = [
    (1, "2026-01-02", "prospect", "lead"),
    (1, "2026-01-11", "lead", "customer"),
    (2, "2026-01-06", "prospect", "mql"),
    (2, "2026-01-15", "mql", "lost"),
    (3, "2026-02-03", "prospect", "opportunity"),
    (4, "2026-02-12", "prospect", "sql"),
    (4, "2026-02-24", "sql", "customer"),
    (6, "2026-02-21", "prospect", "lost"),
]


def _t(day: str | None) -> str | None:
    return None if day is None else (day if "T" in day else f"{day}T00:00:00Z")


@pytest.fixture
def fixture_db(store, monkeypatch):
    monkeypatch.setenv("LEADCLI_NOW", NOW)
    with store.write() as conn:
        for lead_id, source, created, value, stage, closed, touch, reason, owner in LEADS:
            conn.execute(
                "INSERT INTO leads (id, first_name, source, value, stage, created_at, "
                "updated_at, closed_at, first_contacted_at, lost_reason, owner) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    lead_id,
                    f"L{lead_id}",
                    source,
                    value,
                    stage,
                    _t(created),
                    NOW,
                    _t(closed),
                    touch,
                    reason,
                    owner,
                ),
            )
        for lead_id, at, old, new in MOVES:
            history.record(
                conn, lead_id, history.STAGE, {"stage": [old, new]}, at=_t(at), reason="manual"
            )
        conn.execute("INSERT INTO lead_tags (lead_id, tag) VALUES (4, 'vip'), (5, 'vip')")
    return store


def report(cli, *args):
    result = cli("report", *args, "-f", "json")
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


def by(rows, key):
    return {r[key]: r for r in rows}


def test_overview_headline(cli, fixture_db):
    head = report(cli)["headline"]
    assert head == {
        "leads": 6,
        "open": 2,
        "customers": 2,
        "lost": 2,
        "conversion": 0.3333,
        "win_rate": 0.5,
        "won_value": 4000,
        "pipeline_value": 600,
        # too little history by default: configured probabilities (prospect 2%, opp. 50%)
        "weighted_value": 252,
        "median_lead_time_days": 12,
    }


def test_pipeline_weights_by_history(cli, fixture_db, monkeypatch, tmp_path):
    assert cli("config", "set", "pipeline.min_closed", "1").exit_code == 0
    out = report(cli, "pipeline")
    rows = by(out["rows"], "stage")
    # closed leads reaching each stage: prospect A B D F (2 won), lead/mql A B D, sql/opp A D
    assert [rows[s]["win_rate"] for s in ("prospect", "lead", "mql", "sql", "opportunity")] == [
        0.5,
        0.6667,
        0.6667,
        1.0,
        1.0,
    ]
    assert rows["opportunity"] | {} == {
        "stage": "opportunity",
        "leads": 1,
        "value": 500,
        "win_rate": 1.0,
        "win_rate_source": "history",
        "weighted_value": 500,
        "average_age_days": 28,
    }
    assert rows["prospect"]["weighted_value"] == 50
    assert rows["prospect"]["average_age_days"] == 14
    assert out["totals"] == {
        "leads": 2,
        "value": 600,
        "weighted_value": 550,
        "average_age_days": 21,
    }


def test_funnel(cli, fixture_db):
    rows = report(cli, "funnel")["rows"]
    assert [(r["stage"], r["reached"]) for r in rows] == [
        ("prospect", 6),
        ("lead", 4),
        ("mql", 4),
        ("sql", 3),
        ("opportunity", 3),
        ("customer", 2),
    ]
    assert [r["next_stage_conversion"] for r in rows] == [0.6667, 1.0, 0.75, 1.0, 0.6667, None]
    assert [r["drop_off"] for r in rows] == [0.3333, 0.0, 0.25, 0.0, 0.3333, None]
    assert [r["cumulative_conversion"] for r in rows][-1] == 0.3333
    by_value = report(cli, "funnel", "--by", "value")["rows"]
    # values: A 1000 (5), B 2000 (2), C 500 (4), D 3000 (5), E 100 (0), F none (0)
    assert [r["reached"] for r in by_value] == [6600, 6500, 6500, 4500, 4500, 4000]


def test_sources_join_spellings(cli, fixture_db):
    rows = report(cli, "sources")["rows"]
    assert [r["source"] for r in rows] == ["WEB", "referral", None]
    web, referral, none = rows
    assert (web["leads"], web["qualified"], web["customers"], web["lost"]) == (3, 3, 1, 1)
    assert (web["conversion"], web["won_value"], web["median_lead_time_days"]) == (0.3333, 1000, 10)
    assert (referral["leads"], referral["qualified"], referral["customers"]) == (2, 1, 1)
    assert (referral["won_value"], referral["median_lead_time_days"]) == (3000, 14)
    assert (none["leads"], none["qualified"], none["lost"]) == (1, 0, 1)
    assert web["spend"] is None and web["roi"] is None


def test_sources_spend_and_aliases(cli, fixture_db):
    assert cli("spend", "web", "600", "--month", "2026-01").exit_code == 0
    assert cli("spend", "Referral", "1,000", "--month", "2026-02").exit_code == 0
    assert cli("spend", "--month", "2026-02", "referral", "--", "-400").exit_code == 0
    rows = by(report(cli, "sources")["rows"], "source")
    assert rows["WEB"]["spend"] == 600
    assert rows["WEB"]["cost_per_lead"] == 200
    assert rows["WEB"]["cost_per_customer"] == 600
    assert rows["WEB"]["roi"] == 0.6667  # (1000 - 600) / 600
    assert rows["referral"]["spend"] == 600
    assert rows["referral"]["roi"] == 4.0  # (3000 - 600) / 600
    assert cli("config", "set", "sources.aliases", "referral=web").exit_code == 0
    rows = report(cli, "sources")["rows"]
    assert [(r["source"], r["leads"], r["customers"], r["spend"]) for r in rows] == [
        ("WEB", 5, 2, 1200),
        (None, 1, 0, None),
    ]


def test_velocity(cli, fixture_db):
    out = report(cli, "velocity")
    s = out["summary"]
    assert (s["median_lead_time_days"], s["p90_lead_time_days"], s["mean_lead_time_days"]) == (
        12,
        13.6,
        12,
    )
    assert s["win_rate"] == 0.5 and s["average_won_value"] == 2000
    # 2 open leads x 2000 x 0.5 / 12 days
    assert s["sales_velocity_per_day"] == 166.67
    stages = by(out["time_in_stage"], "stage")
    # prospect stays: A 1, B 1, C 2, D 2, F 1 days
    assert stages["prospect"] == {
        "stage": "prospect",
        "stays": 5,
        "median_days": 1,
        "p90_days": 2,
        "mean_days": 1.4,
    }
    assert (stages["lead"]["median_days"], stages["mql"]["median_days"]) == (9, 9)
    assert stages["sql"]["median_days"] == 12 and stages["opportunity"]["stays"] == 0
    assert out["months"] == [
        {"month": "2026-01", "leads": 2, "growth": None},
        {"month": "2026-02", "leads": 4, "growth": 1.0},
    ]


def test_response(cli, fixture_db):
    out = report(cli, "response")
    overall = out["overall"]
    # contacted after 1/6 h, 0.5 h, 5 h, 48 h; two never
    assert overall["median_hours"] == 2.75
    assert overall["p90_hours"] == 35.1
    assert [overall[b] for b in ("within_1h", "within_24h", "over_24h", "never")] == [2, 1, 1, 2]
    assert overall["within_1h_share"] == 0.3333 and overall["never_share"] == 0.3333
    web = by(out["rows"], "source")["WEB"]
    assert (web["within_1h"], web["within_24h"], web["over_24h"], web["median_hours"]) == (
        1,
        1,
        1,
        5,
    )


def test_lost_reasons_join_spellings(cli, fixture_db):
    assert report(cli, "lost")["rows"] == [{"reason": "No budget", "leads": 2, "share": 1.0}]


def test_cohorts(cli, fixture_db):
    jan, feb = report(cli, "cohorts")["rows"]
    assert (jan["month"], jan["leads"], jan["mql"], jan["sql"], jan["customer"]) == (
        "2026-01",
        2,
        2,
        1,
        1,
    )
    assert (jan["customer_share"], jan["lost_share"]) == (0.5, 0.5)
    assert (feb["leads"], feb["lead_share"], feb["opportunity"], feb["customer_share"]) == (
        4,
        0.5,
        2,
        0.25,
    )


def test_as_of_three_dates(cli, fixture_db):
    early = report(cli, "pipeline", "--as-of", "2026-01-10")
    assert {r["stage"]: r["leads"] for r in early["rows"] if r["leads"]} == {"lead": 1, "mql": 1}
    mid = report(cli, "--as-of", "2026-02-11")
    # A won on 01-11, B lost on 01-15, C in opportunity since 02-03, D moves only on 02-12
    assert (mid["headline"]["leads"], mid["headline"]["customers"], mid["headline"]["lost"]) == (
        4,
        1,
        1,
    )
    assert {r["stage"]: r["leads"] for r in mid["stages"] if r["leads"]} == {
        "customer": 1,
        "lost": 1,
        "opportunity": 1,
        "prospect": 1,
    }
    late = report(cli, "--as-of", "2026-02-28")
    now = report(cli)
    assert late["headline"] == {**now["headline"]}
    # the response report as of 02-02 counts C's touch on 02-03 as not yet made
    response = report(cli, "response", "--as-of", "2026-02-02")
    assert response["overall"]["leads"] == 3 and response["overall"]["never"] == 1


def test_filters(cli, fixture_db):
    assert report(cli, "--since", "2026-02-01")["headline"]["leads"] == 4
    assert report(cli, "--until", "2026-01-05")["headline"]["leads"] == 2
    assert report(cli, "--source", "web")["headline"]["leads"] == 3
    assert report(cli, "--owner", "ANA")["headline"]["leads"] == 2
    assert report(cli, "--tag", "vip")["headline"]["customers"] == 1
    with fixture_db.write() as conn:
        conn.execute("INSERT INTO lead_tags (lead_id, tag) VALUES (4, 'webinar')")
    # Every such tag, written as `list` takes them: repeated or a,b.
    assert report(cli, "--tag", "vip,webinar")["headline"]["leads"] == 1
    assert report(cli, "--tag", "vip", "--tag", "webinar")["headline"]["leads"] == 1


def test_spend_counts_the_local_months_of_the_period(cli, fixture_db, monkeypatch):
    monkeypatch.setenv("TZ", "America/New_York")
    time.tzset()
    assert cli("spend", "web", "100", "--month", "2026-01").exit_code == 0
    assert cli("spend", "web", "10", "--month", "2026-02").exit_code == 0
    assert cli("spend", "Cold Call", "50", "--month", "2026-02").exit_code == 0

    def spend(*args: str) -> dict:
        return {r["source"]: r["spend"] for r in report(cli, "sources", *args)["rows"]}

    # Until the end of January: February's spend is not January's.
    assert spend("--until", "2026-01-31")["WEB"] == 100
    assert spend("--as-of", "2026-01-31")["WEB"] == 100
    assert spend("--since", "2026-02-01")["WEB"] == 10
    # Spend on a source with no leads is shown under the name it was recorded with.
    assert spend()["Cold Call"] == 50


def test_a_day_the_clocks_skip_is_a_clear_error_or_the_whole_day(cli, fixture_db, monkeypatch):
    monkeypatch.setenv("TZ", "Europe/Berlin")
    time.tzset()
    skipped = cli("report", "--since", "2026-03-29 02:30")
    assert skipped.exit_code == 2 and "Traceback" not in skipped.stderr
    monkeypatch.setenv("TZ", "America/Santiago")  # midnight of 2026-09-06 is skipped
    time.tzset()
    assert cli("report", "--until", "2026-09-05", "-f", "json").exit_code == 0
    assert cli("report", "--since", "2026-09-06", "-f", "json").exit_code == 0


def test_ratings_says_when_there_are_none(cli, fixture_db):
    result = cli("report", "ratings")
    assert result.exit_code == 0
    assert "No lead is rated yet" in result.stderr
    with fixture_db.write() as conn:
        conn.execute("UPDATE leads SET rating = 'hot' WHERE id IN (1, 2, 4)")
    rows = by(report(cli, "ratings")["rows"], "rating")
    assert (rows["hot"]["leads"], rows["hot"]["customers"], rows["hot"]["conversion"]) == (
        3,
        2,
        0.6667,
    )
