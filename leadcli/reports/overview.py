"""``leadcli report``: headline measures, the pipeline and the funnel; and the one entry
point the CLI calls for every report."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from leadcli.reports.filters import ReportFilter, build_base
from leadcli.storage.store import Store

#: What a page of the overview adds (``full``): the reports a consultant sends with it.
FULL_PAGE = ("sources", "velocity", "response", "lost", "cohorts")


def run(
    store: Store,
    name: str,
    flt: ReportFilter,
    config: dict[str, Any],
    *,
    by: str = "count",
    full: bool = False,
) -> dict[str, Any]:
    """Compute one report (``overview`` or a sub-report's name) inside one read
    transaction, so all its figures describe the same state of the database. ``full``: the
    overview with the reports of ``FULL_PAGE`` as ``parts`` (for a page; the figures a
    script reads are the overview's alone)."""
    import importlib

    def report(module: str, function: str | None = None) -> Callable[..., dict[str, Any]]:
        # only the modules of the reports asked for: each costs start-up time
        return getattr(importlib.import_module(f"leadcli.reports.{module}"), function or module)

    with store.read() as conn:
        base = build_base(conn, flt)
        reports: dict[str, Callable[[], dict[str, Any]]] = {
            "overview": lambda: overview(conn, base, config),
            "pipeline": lambda: report("pipeline")(conn, base, config),
            "funnel": lambda: report("funnel")(conn, base, by=by),
            **{
                name: (lambda name=name: report(name)(conn, base))
                for name in ("sources", "velocity", "response", "lost", "cohorts", "ratings")
            },
        }
        result = reports[name]()
        if full and name == "overview":
            result["parts"] = [reports[part]() for part in FULL_PAGE]
    result["filters"] = flt.describe()
    return result


def overview(conn: Any, base: Any, config: dict[str, Any]) -> dict[str, Any]:
    from leadcli.pipeline.stages import STAGES
    from leadcli.reports.counts import counts
    from leadcli.reports.funnel import funnel
    from leadcli.reports.pipeline import pipeline
    from leadcli.reports.stats import days, ratio
    from leadcli.reports.velocity import lead_times

    lead_time = lead_times(conn, base).get(1)
    by_stage = {s: (c.leads, c.value) for s, c in counts(conn, base, ages=True).by_stage().items()}
    leads = sum(n for n, _ in by_stage.values())
    won, won_value = by_stage["customer"]
    lost = by_stage["lost"][0]
    pipe = pipeline(conn, base, config)
    funnel_ = funnel(conn, base)
    headline = {
        "leads": leads,
        "open": leads - won - lost,
        "customers": won,
        "lost": lost,
        "conversion": ratio(won, leads),
        "win_rate": ratio(won, won + lost),
        "won_value": round(won_value, 2),
        "pipeline_value": pipe["totals"]["value"],
        "weighted_value": pipe["totals"]["weighted_value"],
        "median_lead_time_days": days(lead_time["median"]) if lead_time else None,
    }
    return {
        "report": "overview",
        "headline": headline,
        "pipeline": pipe["rows"],
        "funnel": funnel_["rows"],
        "stages": [
            {
                "stage": s,
                "leads": by_stage.get(s, (0, 0.0))[0],
                "value": by_stage.get(s, (0, 0.0))[1],
            }
            for s in STAGES
        ],
        "rows": [{"measure": k, "value": v} for k, v in headline.items()],
    }
