"""Every lead as it is now (no filter) is read from the indexes and tables kept for reports
(lead and response times in order, ``stage_stays``, ``leads.reach``); with a filter that
lets every lead through, the same figures are computed over ``base``. Both give exactly the
same reports, for any data: ties, one value, sources spelled alike, a lead without a source,
moves back and forth, negative spans (clamped to 0)."""

from __future__ import annotations

import json
import sqlite3

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from leadcli.pipeline.stages import STAGES
from leadcli.reports.filters import ReportFilter
from leadcli.reports.overview import run
from leadcli.storage.store import connect
from leadcli.text import dates

#: Includes every lead (all are created after it) but is a filter: ``base`` is then computed.
EVERYONE = ReportFilter(since="2000-01-01T00:00:00Z")
REPORTS = ("overview", "pipeline", "funnel", "sources", "velocity", "response", "lost")
REPORTS += ("cohorts", "ratings")

lead = st.tuples(
    st.sampled_from(["web", "Web", "referral", None]),
    st.integers(0, 40),  # day created
    st.lists(st.tuples(st.integers(0, 9), st.sampled_from(STAGES)), max_size=4),  # moves
    # minutes to first touch (None: never), often at the buckets' edges (1 h, 24 h)
    st.one_of(
        st.none(), st.sampled_from([0, 59, 60, 61, 1439, 1440, 1441]), st.integers(-99, 5000)
    ),
    st.sampled_from(["hot", "cold", None]),
    st.one_of(st.none(), st.integers(0, 5000)),  # value
)


def _at(day: int, minutes: int = 0) -> str:
    day, minutes = divmod((day + 1) * 24 * 60 + minutes, 24 * 60)
    hours, minute = divmod(minutes, 60)
    return f"2026-{1 + day // 28:02d}-{1 + day % 28:02d}T{hours:02d}:{minute:02d}:00Z"


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.lists(lead, max_size=25))
def test_reports_read_from_kept_indexes_equal_computed_ones(tmp_path_factory, leads):
    store = connect(tmp_path_factory.mktemp("q") / "q.db")
    with store.write() as conn:
        for n, (source, day, moves, touch, rating, value) in enumerate(leads, start=1):
            stage, at = "prospect", day
            history = []
            for gap, target in moves:
                at += gap
                history.append((n, _at(at), json.dumps({"stage": [stage, target]})))
                stage = target
            closed = _at(at) if stage in ("customer", "lost") else None
            conn.execute(
                "INSERT INTO leads (id, first_name, source, stage, created_at, closed_at, "
                "first_contacted_at, rating, value, lost_reason, updated_at) "
                "VALUES (?, 'x', ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    n,
                    source,
                    stage,
                    _at(day),
                    closed,
                    None if touch is None else _at(day, touch),
                    rating,
                    value,
                    "no budget" if stage == "lost" else None,
                    _at(0),
                ),
            )
            conn.executemany(
                "INSERT INTO history (lead_id, at, event, changes, reason) "
                "VALUES (?, ?, 'stage', ?, 'manual')",
                history,
            )
    config = {"pipeline.min_closed": 1}
    for name in REPORTS:
        whole, computed = (
            run(store, name, ReportFilter(), config),
            run(store, name, EVERYONE, config),
        )
        whole.pop("filters"), computed.pop("filters")
        assert whole == computed, name
    store.close()


@pytest.mark.skipif(sqlite3.sqlite_version_info < (3, 38), reason="no unixepoch before 3.38")
def test_both_forms_of_epoch_sql_give_the_same_seconds():
    """Before SQLite 3.38 (no ``unixepoch``) ages are read with the other form of
    ``dates.epoch_sql``: the same integers, so reports do not depend on the SQLite a Python
    was built with."""
    conn = sqlite3.connect(":memory:")
    forms = [dates.EPOCH_SQL[new].format("?1") for new in (False, True)]
    for text in ["2026-01-01T00:00:00Z", "1999-12-31T23:59:59Z", "2026-03-29T01:30:00Z"]:
        old, new = conn.execute(f"SELECT {forms[0]}, {forms[1]}", (text,)).fetchone()
        assert old == new == int(dates.from_store(text).timestamp())
