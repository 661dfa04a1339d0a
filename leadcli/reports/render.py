"""A report as sections of rows, and as standalone HTML or SVG markup.

``sections`` is the one description of what a report shows; the CLI draws it as Rich
tables and this module as markup. Every value has its control characters made visible and is
escaped (``_markup``), the page
loads nothing from the network (no fonts, scripts or images), prints on paper, and has a
fixed width and fixed ids so the same report gives the same bytes (golden files).
"""

from __future__ import annotations

from dataclasses import dataclass
from html import escape
from typing import Any

from leadcli.reports.funnel import STEPS
from leadcli.text.safe_text import visible


def _markup(text: str) -> str:
    """Text as markup content: control characters made visible (XML refuses most of them,
    and data never sends them anywhere), then escaped."""
    return escape(visible(text))


TITLES = {
    "overview": "Overview",
    "pipeline": "Pipeline",
    "funnel": "Funnel",
    "sources": "Sources",
    "velocity": "Velocity",
    "response": "Response time",
    "lost": "Lost reasons",
    "cohorts": "Cohorts",
    "ratings": "Ratings",
}


@dataclass(frozen=True)
class Section:
    title: str
    #: (field, header) pairs, in order.
    columns: list[tuple[str, str]]
    rows: list[dict[str, Any]]
    #: The field drawn as a bar beside each row, if any.
    bar: str | None = None
    #: A field of numbers drawn as a trend line under the table, if any.
    trend: str | None = None


def fmt(field: str, value: Any) -> str:
    """A value as people read it; the field name says its unit."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if field.endswith(("share", "conversion", "win_rate", "drop_off", "growth", "roi")):
        return f"{value * 100:.1f}%"
    if field.endswith("_days"):
        return f"{value:.1f} d"
    if field.endswith("_hours"):
        return f"{value:.1f} h"
    if isinstance(value, float):
        return f"{value:,.0f}" if abs(value) >= 100 or value.is_integer() else f"{value:,.2f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def sections(result: dict[str, Any]) -> list[Section]:
    name = result["report"]
    rows = result.get("rows", [])
    if name == "overview":
        return [
            Section("Headline", [("measure", "Measure"), ("value", "Value")], _headline(result)),
            Section(
                "Leads by stage",
                [("stage", "Stage"), ("leads", "Leads"), ("value", "Value")],
                result["stages"],
                bar="leads",
            ),
            *sections({"report": "pipeline", "rows": result["pipeline"]})[:1],
            *sections({"report": "funnel", "rows": result["funnel"]})[:1],
        ]
    if name == "pipeline":
        cols = [
            ("stage", "Stage"),
            ("leads", "Leads"),
            ("value", "Value"),
            ("win_rate", "Win rate"),
            ("win_rate_source", "From"),
            ("weighted_value", "Weighted"),
            ("average_age_days", "Avg age"),
        ]
        return [Section("Pipeline", cols, rows, bar="weighted_value")]
    if name == "funnel":
        cols = [
            ("stage", "Stage"),
            ("reached", "Reached"),
            ("next_stage_conversion", "To next"),
            ("cumulative_conversion", "Cumulative"),
            ("drop_off", "Drop-off"),
        ]
        return [Section("Funnel", cols, rows, bar="reached")]
    if name == "sources":
        cols = [
            ("source", "Source"),
            ("leads", "Leads"),
            ("qualified", "Qualified"),
            ("customers", "Customers"),
            ("conversion", "Conv."),
            ("won_value", "Won value"),
            ("median_lead_time_days", "Lead time"),
            ("spend", "Spend"),
            ("cost_per_lead", "Per lead"),
            ("cost_per_customer", "Per cust."),
            ("roi", "ROI"),
        ]
        if (result.get("totals") or {}).get("spend") is None:
            cols = [c for c in cols if c[0] not in _SPEND_FIELDS]
        return [Section("Sources", cols, rows, bar="leads")]
    if name == "velocity":
        summary = [{"measure": k, "value": v} for k, v in result["summary"].items()]
        return [
            Section("Velocity", [("measure", "Measure"), ("value", "Value")], _named(summary)),
            Section(
                "Time in stage",
                [
                    ("stage", "Stage"),
                    ("stays", "Stays"),
                    ("median_days", "Median"),
                    ("p90_days", "p90"),
                    ("mean_days", "Mean"),
                ],
                result["time_in_stage"],
                bar="median_days",
            ),
            Section(
                "Leads per month",
                [("month", "Month"), ("leads", "Leads"), ("growth", "Growth")],
                result["months"],
                bar="leads",
                trend="leads",
            ),
        ]
    if name == "response":
        cols = [
            ("source", "Source"),
            ("leads", "Leads"),
            ("median_hours", "Median"),
            ("p90_hours", "p90"),
            ("within_1h_share", "< 1 h"),
            ("within_24h_share", "1-24 h"),
            ("over_24h_share", "> 24 h"),
            ("never_share", "Never"),
            ("unknown_share", "Unknown"),
        ]
        overall = {**result["overall"], "source": "(all)"}
        return [Section("Response time", cols, [overall, *rows], bar="within_1h_share")]
    if name == "lost":
        cols = [("reason", "Reason"), ("leads", "Leads"), ("share", "Share")]
        return [Section("Lost reasons", cols, rows, bar="leads")]
    if name == "cohorts":
        cols = (
            [("month", "Month"), ("leads", "Leads")]
            + [(f"{s}_share", s) for s in STEPS[1:]]
            + [("lost_share", "lost")]
        )
        return [Section("Cohorts", cols, rows, bar="customer_share", trend="leads")]
    if name == "ratings":
        cols = [
            ("rating", "Rating"),
            ("leads", "Leads"),
            ("customers", "Customers"),
            ("conversion", "Conv."),
            ("win_rate", "Win rate"),
        ]
        return [Section("Ratings", cols, rows, bar="conversion")]
    raise ValueError(name)


_SPEND_FIELDS = ("spend", "cost_per_lead", "cost_per_customer", "roi")


def _named(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Measure rows with values formatted by their own names."""
    return [
        {"measure": r["measure"].replace("_", " "), "value": fmt(r["measure"], r["value"])}
        for r in rows
    ]


def _headline(result: dict[str, Any]) -> list[dict[str, Any]]:
    return _named([{"measure": k, "value": v} for k, v in result["headline"].items()])


def note(result: dict[str, Any]) -> str | None:
    """A line a person needs beside the figures (e.g. no ratings yet)."""
    if result["report"] == "ratings" and not result["rated"]:
        return "No lead is rated yet: ratings come from `leadcli score`."
    return None


# --------------------------------------------------------------------------- markup

WIDTH = 960
_ROW = 20
_BAR_WIDTH = 200


def _bar_scale(section: Section) -> float:
    values = [r.get(section.bar) or 0 for r in section.rows] if section.bar else []
    top = max((v for v in values if isinstance(v, int | float)), default=0)
    return top or 1


def to_html(result: dict[str, Any], title: str) -> str:
    """A standalone, printable page: inline CSS, bars as inline SVG, nothing external."""
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>{_markup(title)}</title>",
        "<style>"
        f"body{{font-family:sans-serif;max-width:{WIDTH}px;margin:1em auto;color:#111}}"
        "table{border-collapse:collapse;margin:0 0 1.5em 0}"
        "th,td{padding:2px 8px;border-bottom:1px solid #ccc;text-align:right}"
        "th:first-child,td:first-child{text-align:left}"
        ".bar{fill:#4a7bb7}"
        "@media print{body{margin:0}.section{break-inside:avoid}}"
        "</style></head><body>",
        f'<h1 id="report-title">{_markup(title)}</h1>',
    ]
    filters = _filters_line(result)
    if filters:
        parts.append(f'<p id="report-filters">{_markup(filters)}</p>')
    extra = note(result)
    if extra:
        parts.append(f'<p id="report-note">{_markup(extra)}</p>')
    for n, section in enumerate(sections(result), start=1):
        parts.append(f'<div class="section" id="section-{n}"><h2>{_markup(section.title)}</h2>')
        parts.append("<table><thead><tr>")
        parts.extend(f"<th>{_markup(h)}</th>" for _, h in section.columns)
        if section.bar:
            parts.append("<th></th>")
        parts.append("</tr></thead><tbody>")
        scale = _bar_scale(section)
        for row in section.rows:
            parts.append("<tr>")
            parts.extend(f"<td>{_markup(fmt(f, row.get(f)))}</td>" for f, _ in section.columns)
            if section.bar:
                v = row.get(section.bar) or 0
                w = round(_BAR_WIDTH * max(v, 0) / scale)
                parts.append(
                    f'<td><svg width="{_BAR_WIDTH}" height="12" role="img">'
                    f'<rect class="bar" x="0" y="1" width="{w}" height="10"/></svg></td>'
                )
            parts.append("</tr>")
        parts.append("</tbody></table></div>")
    parts.append("</body></html>\n")
    return "".join(parts)


def to_svg(result: dict[str, Any], title: str) -> str:
    """The report's tables as one SVG image: text rows, with a bar per row where the
    report has one. Fixed width; ids numbered in order."""
    lines: list[str] = []
    y = 30
    lines.append(
        f'<text id="title" x="10" y="{y}" font-size="18" font-weight="bold">{_markup(title)}</text>'
    )
    y += 10
    for n, section in enumerate(sections(result), start=1):
        y += 30
        lines.append(
            f'<text id="section-{n}" x="10" y="{y}" font-size="15" font-weight="bold">'
            f"{_markup(section.title)}</text>"
        )
        col_width = (WIDTH - 20 - (_BAR_WIDTH + 10 if section.bar else 0)) / len(section.columns)
        y += _ROW
        lines.append(_svg_row([h for _, h in section.columns], y, col_width, bold=True))
        scale = _bar_scale(section)
        for row in section.rows:
            y += _ROW
            lines.append(_svg_row([fmt(f, row.get(f)) for f, _ in section.columns], y, col_width))
            if section.bar:
                v = row.get(section.bar) or 0
                w = round(_BAR_WIDTH * max(v, 0) / scale)
                x = WIDTH - 10 - _BAR_WIDTH
                lines.append(f'<rect x="{x}" y="{y - 11}" width="{w}" height="12" fill="#4a7bb7"/>')
    height = y + 20
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" '
        f'viewBox="0 0 {WIDTH} {height}" font-family="sans-serif" font-size="12">'
        f'<rect width="{WIDTH}" height="{height}" fill="white"/>' + "".join(lines) + "</svg>\n"
    )


def _svg_row(cells: list[str], y: int, col_width: float, *, bold: bool = False) -> str:
    weight = ' font-weight="bold"' if bold else ""
    return "".join(
        f'<text x="{10 + i * col_width:.0f}" y="{y}"{weight}>{_markup(c)}</text>'
        for i, c in enumerate(cells)
    )


def _filters_line(result: dict[str, Any]) -> str:
    f = result.get("filters") or {}
    parts = [f"{k.replace('_', '-')} {v}" for k, v in f.items() if v and not isinstance(v, list)]
    parts += [f"{k} {', '.join(v)}" for k, v in f.items() if isinstance(v, list) and v]
    return "; ".join(parts)
