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
    return [{"measure": _label(r["measure"]), "value": fmt(r["measure"], r["value"])} for r in rows]


def _headline(result: dict[str, Any]) -> list[dict[str, Any]]:
    return _named([{"measure": k, "value": v} for k, v in result["headline"].items()])


def note(result: dict[str, Any]) -> str | None:
    """A line a person needs beside the figures (e.g. no ratings yet)."""
    if result["report"] == "ratings" and not result["rated"]:
        return "No lead is rated yet: ratings come from `leadcli score`."
    return None


# --------------------------------------------------------------------------- the page

WIDTH = 960
#: A slide: 16:9 at a size presentation programs place at full width.
SLIDE = (1280, 720)
_CHART = (WIDTH - 40, 380)

#: One line under each section's heading: what its measures mean (the page a client reads
#: has no README beside it).
DEFINITIONS = {
    "Headline": "Conversion: customers over all leads counted. Win rate: customers over closed "
    "leads (customers and lost). Lead time: from creation to becoming a customer.",
    "Leads by stage": "Leads in each stage on the report's day, and their total value.",
    "Pipeline": "Open leads per stage. Weighted: value times the stage's win rate (from the "
    "history of closed leads, or as configured).",
    "Funnel": "Reached: leads that were ever in a stage or further along. To next: the share of "
    "those that reached the next stage; drop-off is the rest. Cumulative: from the first stage.",
    "Sources": "Conversion: customers over the source's leads. Win rate: customers over its "
    "closed leads. Per lead: spend over leads; ROI: won value less spend, over spend.",
    "Velocity": "Win rate: customers over closed leads. Sales velocity: open leads x average "
    "won value x win rate / mean lead time in days.",
    "Time in stage": "Each finished stay in a stage, from entering it to the change that left it "
    "(stays still under way are not counted); median, 90th percentile and mean.",
    "Leads per month": "Leads created each month (UTC), and the growth over the month before.",
    "Response time": "Speed to lead: from creation to the first outbound touch; the share of "
    "leads in each bucket (never: not contacted; unknown: imported without a time).",
    "Lost reasons": "Lost leads by the reason recorded, and each reason's share of them.",
    "Cohorts": "Leads by month created, and the share of each month that reached each stage by "
    "the report's day.",
    "Ratings": "Leads by their scoring rating; conversion: customers over the rating's leads; "
    "win rate: customers over its closed leads.",
}

#: Sections whose rows add up to a total, and the fields that add.
_TOTALLED = {"Leads by stage", "Pipeline", "Sources", "Lost reasons", "Ratings", "Cohorts"}
_ADDITIVE = ("leads", "value", "weighted_value", "qualified", "customers", "won_value", "spend")


@dataclass(frozen=True)
class Page:
    """What every page says besides the figures: whose data, which period, when made."""

    title: str
    #: The database file's name (its folder is nobody else's business).
    database: str = ""
    #: The period as the options were written (``since 2026-01-01``), or "".
    period: str = ""
    #: When the page was made, as stored (UTC).
    made: str = ""
    #: Numbers as this locale writes them (babel), or None: 1,234.5.
    locale: str | None = None

    def line(self) -> str:
        parts = [f"Database {self.database}"] if self.database else []
        parts.append(self.period or "All leads, as they stand now")
        if self.made:
            parts.append(f"made {self.made.replace('T', ' ').replace('Z', ' UTC')}")
        return " · ".join(parts)


def formatter(locale: str | None) -> Any:
    """``fmt`` with numbers as ``locale`` writes them (separators, percent sign), a unit
    joined to its number by a no-break space (``79.6 d`` never wraps)."""
    if not locale:
        return lambda field, value: (
            fmt(field, value).replace(" d", "\u00a0d").replace(" h", "\u00a0h")
        )
    from babel.numbers import format_decimal, format_percent

    def local(field: str, value: Any) -> str:
        if isinstance(value, bool) or not isinstance(value, int | float):
            return fmt(field, value)
        if field.endswith(("share", "conversion", "win_rate", "drop_off", "growth", "roi")):
            return format_percent(value, "#,##0.0%", locale=locale)
        for suffix, unit in (("_days", "d"), ("_hours", "h")):
            if field.endswith(suffix):
                return format_decimal(value, "#,##0.0", locale=locale) + "\u00a0" + unit
        big = isinstance(value, int) or abs(value) >= 100 or value.is_integer()
        return format_decimal(value, "#,##0" if big else "#,##0.00", locale=locale)

    return local


def page_sections(result: dict[str, Any]) -> list[tuple[Section, dict[str, Any]]]:
    """Every section a page shows, with the report it comes from: the report's own, then
    those of the reports a full page adds (``parts``, see ``overview.run``)."""
    out = [(s, result) for s in _measured(result)]
    for part in result.get("parts", ()):
        out += [(s, part) for s in _measured(part) if s.title != "Leads per month"]
    return out


def _measured(result: dict[str, Any]) -> list[Section]:
    """``sections``, with measure rows keeping their values (formatted on the page) and
    their names said as words."""
    out = []
    for section in sections(result):
        source = {"Headline": "headline", "Velocity": "summary"}.get(section.title)
        if source:
            rows = [{"measure": _label(k), k: v} for k, v in result[source].items()]
            section = Section(section.title, [("measure", "Measure"), ("value", "Value")], rows)
        out.append(section)
    return out


def _label(key: str) -> str:
    """A measure's name as English ("median_lead_time_days" is "Median lead time": its unit
    is on the value, "79.6 d"), the one rule for the terminal and the page."""
    words = key.replace("_days", "").replace("_per_day", " per day").replace("_", " ")
    return words[0].upper() + words[1:]


def _cell(row: dict[str, Any], field: str, f: Any) -> str:
    if field == "value" and "measure" in row:  # a measure row: the value under its own key
        key = next((k for k in row if k not in ("measure",)), field)
        return f(key, row.get(key))
    return f(field, row.get(field))


def _totals(section: Section, result: dict[str, Any]) -> dict[str, Any] | None:
    if section.title not in _TOTALLED or len(section.rows) < 2:
        return None
    fields = {f for f, _ in section.columns}
    total: dict[str, Any] = {
        f: sum(r.get(f) or 0 for r in section.rows) for f in _ADDITIVE if f in fields
    }
    if section.title == "Sources":
        given = result.get("totals") or {}
        total.update({k: v for k, v in given.items() if k in fields})
    if section.title == "Lost reasons":
        total["share"] = 1.0
    first = section.columns[0][0]
    return {**total, first: "Total"}


_CSS = (
    f"body{{font-family:Helvetica,Arial,sans-serif;max-width:{WIDTH}px;margin:1em auto;"
    "color:#111;padding:0 12px}"
    "header{border-bottom:2px solid #1f3b73;margin-bottom:1em}"
    "h1{margin:0 0 .2em 0;font-size:26px}h2{margin:1.2em 0 .2em 0;font-size:19px}"
    ".meta{color:#333;margin:0 0 .6em 0}.definition{color:#444;margin:0 0 .6em 0;font-size:14px}"
    "table{border-collapse:collapse;margin:0 0 1.5em 0;font-size:14px}"
    "th,td{padding:3px 10px;border-bottom:1px solid #ccc;text-align:right;white-space:nowrap}"
    "th{border-bottom:2px solid #555}"
    "th:first-child,td:first-child{text-align:left;white-space:normal}"
    "tr.total td{font-weight:bold;border-top:2px solid #555}"
    "figure{margin:0 0 .8em 0}svg{max-width:100%;height:auto}"
    ".footer{display:none}"
    "@page{margin:14mm 12mm 16mm 12mm}"
    "@media print{body{margin:0;max-width:none;padding:0}"
    ".section{break-inside:avoid;page-break-inside:avoid}h2{break-after:avoid}"
    "table{font-size:11px}th,td{padding:2px 6px}"
    ".footer{display:block;position:fixed;bottom:0;left:0;right:0;font-size:10px;color:#333;"
    "border-top:1px solid #999;background:white}}"
)


def to_html(result: dict[str, Any], title: str, page: Page | None = None) -> str:
    """A standalone, printable page: inline CSS, charts as inline SVG, nothing external;
    the title, period and moment on top and, in print, at the foot of every sheet."""
    page = page or Page(title, period=period_of(result))
    f = formatter(page.locale)
    line = _markup(page.line())
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>{_markup(title)}</title>",
        f"<style>{_CSS}</style></head><body>",
        f'<header><h1 id="report-title">{_markup(title)}</h1>',
        f'<p class="meta" id="report-period">{line}</p>',
    ]
    filters = _filters_line(result)
    if filters:
        parts.append(f'<p class="meta" id="report-filters">{_markup(filters)}</p>')
    parts.append(f'</header><div class="footer">{_markup(title)} · {line}</div>')
    extra = note(result)
    if extra:
        parts.append(f'<p id="report-note">{_markup(extra)}</p>')
    from leadcli.reports import charts

    for n, (section, source) in enumerate(page_sections(result), start=1):
        parts.append(f'<section class="section" id="section-{n}"><h2>{_markup(section.title)}</h2>')
        if section.title in DEFINITIONS:
            parts.append(f'<p class="definition">{_markup(DEFINITIONS[section.title])}</p>')
        for k, svg in enumerate(charts.for_section(section, source, f, _CHART, f"s{n}")):
            parts.append(f'<figure id="chart-{n}-{k + 1}">{svg}</figure>')
        parts.append(_html_table(section, source, f))
        parts.append("</section>")
    parts.append("</body></html>\n")
    return "".join(parts)


def _html_table(section: Section, source: dict[str, Any], f: Any) -> str:
    parts = ["<table><thead><tr>"]
    parts.extend(f'<th scope="col">{_markup(h)}</th>' for _, h in section.columns)
    parts.append("</tr></thead><tbody>")
    total = _totals(section, source)
    for row in [*section.rows, *([total] if total else [])]:
        parts.append('<tr class="total">' if row is total else "<tr>")
        for i, (field, _) in enumerate(section.columns):
            text = _cell(row, field, f) or ("(none)" if i == 0 else "")
            parts.append(f"<td>{_markup(text)}</td>")
        parts.append("</tr>")
    parts.append("</tbody></table>")
    return "".join(parts)


_ROW = 26


def to_svg(result: dict[str, Any], title: str, page: Page | None = None) -> str:
    """One slide (16:9) per section, stacked: its chart where it has one, else its table with
    numbers right-aligned; the title and period at the foot of each. Fixed ids, in order."""
    from leadcli.reports import charts

    page = page or Page(title, period=period_of(result))
    f = formatter(page.locale)
    width, height = SLIDE
    slides: list[str] = []
    for n, (section, source) in enumerate(page_sections(result), start=1):
        y0 = (n - 1) * height
        body = [
            f'<rect x="0" y="0" width="{width}" height="{height}" fill="white" stroke="#ccc"/>',
            f'<text id="section-{n}" x="40" y="56" font-size="30" font-weight="bold">'
            f"{_markup(section.title)}</text>",
            f'<text x="40" y="{height - 24}" font-size="15" fill="#444">'
            f"{_markup(title)} · {_markup(page.line())}</text>",
        ]
        drawn = charts.for_section(section, source, f, (width - 80, height - 140), f"slide{n}")
        if drawn:
            body.append(f'<g transform="translate(40,80)">{drawn[0]}</g>')
        else:
            body.append(_svg_table(section, source, f, width))
        slides.append(f'<g transform="translate(0,{y0})">{"".join(body)}</g>')
    total = height * max(len(slides), 1)
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{total}" '
        f'viewBox="0 0 {width} {total}" font-family="Helvetica, Arial, sans-serif" '
        f'font-size="18" role="img" aria-label="{_markup(title)}">'
        f"<title>{_markup(title)}</title>" + "".join(slides) + "</svg>\n"
    )


def _svg_table(section: Section, source: dict[str, Any], f: Any, width: int) -> str:
    """A table as text: the first column from the left, the others right-aligned on their
    column's right edge (so digits line up)."""
    columns = section.columns
    first = 320 if len(columns) <= 3 else 220
    step = (width - 80 - first) / max(len(columns) - 1, 1)
    total = _totals(section, source)
    lines = []
    y = 110
    for row in [None, *section.rows[:20], *([total] if total else [])]:
        bold = row is None or row is total
        weight = ' font-weight="bold"' if bold else ""
        for i, (field, header) in enumerate(columns):
            text = header if row is None else _cell(row, field, f) or ("(none)" if i == 0 else "")
            x = 40 if i == 0 else 40 + first + step * i
            anchor = "" if i == 0 else ' text-anchor="end"'
            lines.append(f'<text x="{x:.0f}" y="{y}"{anchor}{weight}>{_markup(text)}</text>')
        y += _ROW
    return "".join(lines)


def period_of(result: dict[str, Any]) -> str:
    """The period a report covers, from its stored bounds (a page made by the CLI says the
    options as written instead)."""
    f = result.get("filters") or {}
    names = (("since", "since"), ("until", "until"), ("as_of", "as of"))
    return "; ".join(f"{label} {f[k]}" for k, label in names if f.get(k))


def _filters_line(result: dict[str, Any]) -> str:
    f = result.get("filters") or {}
    parts = [f"{k} {', '.join(v)}" for k, v in f.items() if isinstance(v, list) and v]
    return "; ".join(parts)
