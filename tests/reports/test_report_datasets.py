"""Reports over real files agree with a direct count of those files."""

from __future__ import annotations

import csv
import json
from collections import Counter

from tests.conftest import SHARED, requires_shared

XED = SHARED / "x-education" / "Leads.csv"
OLIST = SHARED / "olist"


def _json(cli, *args):
    result = cli(*args, "-f", "json")
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


@requires_shared("x-education", "Leads.csv")
def test_x_education_conversion_and_sources(cli):
    _json(cli, "import", str(XED))
    head = _json(cli, "report")["headline"]
    assert (head["customers"], head["leads"]) == (3561, 9240)
    assert head["conversion"] == round(3561 / 9240, 4)
    leads, customers, spelling = Counter(), Counter(), {}
    with open(XED, newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            source = row["Lead Source"].strip()
            key = source.casefold() or None
            leads[key] += 1
            customers[key] += row["Converted"] == "1"
            spelling.setdefault(key, Counter())[source] += 1
    assert leads["google"] and len({s for s in spelling["google"]}) == 2  # Google and google
    rows = _json(cli, "report", "sources")["rows"]
    got = {(r["source"] or "").casefold() or None: (r["leads"], r["customers"]) for r in rows}
    assert got == {k: (leads[k], customers[k]) for k in leads}
    # shown in its most common spelling
    assert any(r["source"] == "Google" for r in rows)


@requires_shared("olist", "olist_closed_deals_dataset.csv")
def test_olist_two_step_import_sources_and_cohorts(cli):
    mqls = OLIST / "olist_marketing_qualified_leads_dataset.csv"
    deals = OLIST / "olist_closed_deals_dataset.csv"
    first = _json(
        cli,
        "import",
        str(mqls),
        "--map",
        "mql_id=external_id",
        "--map",
        "first_contact_date=created_at",
        "--map",
        "origin=source",
        "--stage",
        "mql",
    )
    assert first["imported"] == 8000
    second = _json(
        cli,
        "import",
        str(deals),
        "--map",
        "mql_id=external_id",
        "--map",
        "won_date=closed_at",
        "--stage",
        "customer",
    )
    assert second["imported"] == 0 and second["updated"] == 842
    with open(deals, newline="", encoding="utf-8") as handle:
        won = {row["mql_id"] for row in csv.DictReader(handle)}
    by_source, won_by_source = Counter(), Counter()
    by_month, won_by_month = Counter(), Counter()
    with open(mqls, newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            source = row["origin"].strip() or None
            month = row["first_contact_date"][:7]
            by_source[source] += 1
            by_month[month] += 1
            if row["mql_id"] in won:
                won_by_source[source] += 1
                won_by_month[month] += 1
    rows = _json(cli, "report", "sources")["rows"]
    assert {r["source"]: (r["leads"], r["customers"]) for r in rows} == {
        s: (n, won_by_source[s]) for s, n in by_source.items()
    }
    cohorts = _json(cli, "report", "cohorts")["rows"]
    assert {r["month"]: (r["leads"], r["customer"]) for r in cohorts} == {
        m: (n, won_by_month[m]) for m, n in by_month.items()
    }
    # every lead was a marketing-qualified lead; lead time is created -> won, in days
    assert all(r["mql_share"] == 1.0 for r in cohorts)
    velocity = _json(cli, "report", "velocity")["summary"]
    assert velocity["customers"] == 842 and 0 < velocity["median_lead_time_days"] < 60
