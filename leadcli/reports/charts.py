"""A report's charts as static SVG: drawn by pygal, with no script and nothing remote.

pygal (pure Python, maintained, no browser or binary) draws the charts; vl-convert-python
would draw them too, but ships a 100 MB engine for what a few bar charts need. pygal is
imported only here, and this module only when a page is written (``--html``, ``--svg``,
``--pdf``). Its output is passed through ``_clean``: the inline ``<script>`` pygal adds
for its tooltips (even with ``js=[]``), comments, and any attribute that could load
something (``href``, ``src``, ``xlink:href`` other than a ``#fragment``, ``url(`` in a
style) are dropped, so a page with charts still loads and runs nothing. Labels reach
pygal as plain text and its XML writer escapes them; the shared ``visible`` also makes
control characters visible first, as everywhere else. Colours differ in lightness and
every bar carries its value, so a chart reads in grey print.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Callable
from typing import Any

from leadcli.text.safe_text import visible

#: Dark, mid and light: still three different greys on a black-and-white printer.
COLOURS = ("#1f3b73", "#e08a1e", "#8fb3de", "#5c5c5c", "#c94f4f", "#b5b5b5")
_SVG = "http://www.w3.org/2000/svg"
ET.register_namespace("", _SVG)
ET.register_namespace("xlink", "http://www.w3.org/1999/xlink")


def _style(colours: tuple[str, ...] = COLOURS, values_in: tuple[str, ...] | None = None) -> Any:
    from pygal.style import Style

    font = "Helvetica, Arial, sans-serif"
    return Style(
        background="white",
        plot_background="white",
        foreground="#222",
        foreground_strong="#111",
        foreground_subtle="#888",
        colors=colours,
        font_family=font,
        label_font_family=font,
        major_label_font_family=font,
        value_font_family=font,
        value_label_font_family=font,
        title_font_family=font,
        legend_font_family=font,
        tooltip_font_family=font,
        title_font_size=18,
        label_font_size=13,
        major_label_font_size=13,
        legend_font_size=13,
        value_font_size=12,
        tooltip_font_size=12,
        value_colors=values_in or ("white", "#111", "#111", "white", "white", "#111"),
        opacity="1",
        opacity_hover="1",
    )


def _text(value: Any) -> str:
    return visible("(none)" if value is None or value == "" else str(value))


def _make(kind: str, title: str, width: int, height: int, **options: Any) -> Any:
    import pygal

    colours = options.pop("colours", COLOURS)
    values_in = options.pop("value_colours", None)
    settings: dict[str, Any] = {"print_values": True, **options}
    chart = getattr(pygal, kind)(
        js=[],
        disable_xml_declaration=True,
        explicit_size=True,
        width=width,
        height=height,
        title=_text(title),
        style=_style(colours, values_in),
        print_zeroes=False,
        legend_at_bottom=True,
        truncate_label=-1,
        truncate_legend=-1,
        **settings,
    )
    return chart


def _clean(svg: str, chart_id: str, title: str) -> str:
    """pygal's SVG with scripts, comments and every outside reference removed, a fixed id
    (pygal draws a random one: pages must be the same bytes each time), and a title and
    role a screen reader announces."""
    root = ET.fromstring(svg)  # comments are not kept by the parser
    for parent in list(root.iter()):
        for child in list(parent):
            if child.tag in (f"{{{_SVG}}}script", "script", f"{{{_SVG}}}foreignObject"):
                parent.remove(child)
    for node in root.iter():
        for name in list(node.attrib):
            local = name.rsplit("}", 1)[-1].lower()
            value = node.attrib[name]
            if local.startswith("on") or (local in ("href", "src") and not value.startswith("#")):
                del node.attrib[name]
        if node.text and "url(" in node.text and node.tag.endswith("style"):
            node.text = re.sub(r"url\([^)]*\)", "none", node.text)
    root.set("role", "img")
    root.set("aria-label", visible(title))
    text = ET.tostring(root, encoding="unicode")
    # the page (HTML, or the slides' own <svg>) gives the namespace: no address in the markup
    text = text.replace(f' xmlns="{_SVG}"', "").replace(
        ' xmlns:xlink="http://www.w3.org/1999/xlink"', ""
    )
    return text.replace(root.get("id") or "\0", chart_id).replace("ns0:", "")


def _render(chart: Any, chart_id: str, title: str) -> str:
    chart.uuid = chart_id  # before rendering: pygal scopes its CSS by this id
    return _clean(chart.render(is_unicode=True), f"chart-{chart_id}", title)


def _number(value: Any) -> float:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else 0.0


def _bars(
    title: str,
    labels: list[Any],
    series: list[tuple[str, list[Any]]],
    formatter: Callable[[float], str],
    *,
    horizontal: bool = True,
    size: tuple[int, int],
    chart_id: str,
) -> str:
    width, height = size
    if horizontal:  # as tall as its bars need (about 26 px a bar), within the size given
        height = max(170, min(height, 100 + 26 * len(labels) * len(series)))
    chart = _make(
        "HorizontalBar" if horizontal else "Bar",
        title,
        width,
        height,
        value_formatter=formatter,
        show_legend=len(series) > 1,
        x_label_rotation=0 if horizontal or len(labels) < 8 else 30,
    )
    flip = (lambda xs: list(reversed(xs))) if horizontal else list
    chart.x_labels = [_text(label) for label in flip(labels)]
    for name, values in series:
        chart.add(_text(name), [_number(v) for v in flip(values)])
    return _render(chart, chart_id, title)


def funnel(rows: list[dict[str, Any]], fmt: Callable[[float], str], **kw: Any) -> str:
    """The funnel as a funnel: each stage a band as wide as the leads that reached it,
    centred under the one before (stacked bars with a blank margin either side), so the
    drop-off is the narrowing; the first stage on top."""
    title = "Funnel: leads reaching each stage"
    width, height = kw["size"]
    ordered = list(reversed(rows))  # pygal draws the first label at the bottom
    reached = [_number(r["reached"]) for r in ordered]
    top = max(reached, default=0) or 1
    chart = _make(
        "HorizontalStackedBar",
        title,
        width,
        max(height, 120 + 46 * len(rows)),
        show_legend=False,
        show_y_guides=False,
        show_x_guides=False,
        show_x_labels=False,
        range=(0, top),
        margin_left=10,
        colours=(COLOURS[0],) * 3,
        value_colours=("#111", "white", "#111"),
    )
    chart.x_labels = [_text(r["stage"]) for r in ordered]
    margin = [{"value": (top - v) / 2, "color": "transparent"} for v in reached]
    blank: Callable[[Any], str] = lambda _v: ""  # noqa: E731 - pygal takes a callable
    chart.add("", margin, formatter=blank)
    chart.add("Leads reached", reached, formatter=fmt)
    chart.add("", margin, formatter=blank)
    return _render(chart, kw["chart_id"], title)


def trend(
    title: str,
    months: list[Any],
    series: list[tuple[str, list[Any]]],
    fmt: Callable[[float], str],
    **kw: Any,
) -> str:
    """Leads and wins per month: bars for leads, so each month's figure reads alone."""
    width, height = kw["size"]
    chart = _make(
        "Bar",
        title,
        width,
        height,
        value_formatter=fmt,
        show_legend=True,
        x_label_rotation=30 if len(months) > 8 else 0,
        print_values=len(months) <= 12,
    )
    chart.x_labels = [_text(m) for m in months]
    for name, values in series:
        chart.add(_text(name), [_number(v) for v in values])
    return _render(chart, kw["chart_id"], title)


def bars(
    title: str,
    labels: list[Any],
    series: list[tuple[str, list[Any]]],
    fmt: Callable[[float], str],
    **kw: Any,
) -> str:
    return _bars(title, labels, series, fmt, **kw)


def svg_element_count(page: str) -> int:
    """How many charts a page holds (their root elements carry ``pygal-chart``)."""
    return page.count('class="pygal-chart"')


def _percent(f: Callable[[str, Any], str]) -> Callable[[float], str]:
    return lambda v: f("share", v)


def for_section(
    section: Any,
    result: dict[str, Any],
    f: Callable[[str, Any], str],
    size: tuple[int, int],
    prefix: str,
) -> list[str]:
    """The charts drawn for a section of a report (``render.Section``), as SVG elements;
    ``f`` formats a field's value as the page does. Sections of measures have none."""
    rows = section.rows
    if not rows:
        return []
    kw = {"size": size}

    def one(n: int) -> dict[str, Any]:
        return {**kw, "chart_id": f"{prefix}-{n}"}

    def count(v: float) -> str:  # axis ticks fall between whole leads: those go unlabelled
        return f("leads", int(v)) if float(v).is_integer() else ""

    def money(v: float) -> str:
        return f("value", v)

    title = section.title
    if title == "Funnel":
        return [funnel(rows, count, **one(1))]
    if title == "Leads by stage":
        return [
            bars(
                "Leads by stage",
                [r["stage"] for r in rows],
                [("Leads", [r["leads"] for r in rows])],
                count,
                **one(1),
            )
        ]
    if title == "Pipeline":
        labels = [r["stage"] for r in rows]
        series = [
            ("Value", [r["value"] for r in rows]),
            ("Weighted value", [r["weighted_value"] for r in rows]),
        ]
        return [bars("Open pipeline value by stage", labels, series, money, **one(1))]
    if title == "Sources":
        return _sources(rows, f, count, money, one)
    if title == "Time in stage":
        labels = [r["stage"] for r in rows]
        series = [
            ("Median", [r["median_days"] for r in rows]),
            ("90th percentile", [r["p90_days"] for r in rows]),
        ]
        return [bars("Time in stage (days)", labels, series, lambda v: f("x_days", v), **one(1))]
    if title in ("Leads per month", "Cohorts"):
        months = [r["month"] for r in rows]
        series = [("Leads created", [r["leads"] for r in rows])]
        if title == "Cohorts":
            won = [round((r["leads"] or 0) * (r.get("customer_share") or 0)) for r in rows]
            series.append(("Won (by month created)", won))
        return [trend("Leads and wins per month", months, series, count, **one(1))]
    if title == "Response time":
        overall = rows[0]
        buckets = [
            ("< 1 h", "within_1h_share"),
            ("1-24 h", "within_24h_share"),
            ("> 24 h", "over_24h_share"),
            ("Never", "never_share"),
            ("Unknown", "unknown_share"),
        ]
        return [
            bars(
                "Response time: share of leads by first touch",
                [b for b, _ in buckets],
                [("Leads", [overall.get(k) for _, k in buckets])],
                _percent(f),
                **one(1),
            )
        ]
    if title == "Lost reasons":
        return [
            bars(
                "Lost reasons",
                [r["reason"] for r in rows],
                [("Lost leads", [r["leads"] for r in rows])],
                count,
                **one(1),
            )
        ]
    if title == "Ratings":
        labels = [r["rating"] for r in rows]
        series = [
            ("Leads", [r["leads"] for r in rows]),
            ("Customers", [r["customers"] for r in rows]),
        ]
        return [bars("Leads and customers by rating", labels, series, count, **one(1))]
    return []


def _ratio(part: Any, whole: Any) -> float | None:
    return part / whole if whole and part is not None else None


def _sources(
    rows: list[dict[str, Any]],
    f: Callable[[str, Any], str],
    count: Callable[[float], str],
    money: Callable[[float], str],
    one: Callable[[int], dict[str, Any]],
) -> list[str]:
    """Leads by source, win rate by source, and cost per lead where spend is recorded."""
    labels = [r["source"] for r in rows]
    out = [
        bars("Leads by source", labels, [("Leads", [r["leads"] for r in rows])], count, **one(1))
    ]
    rates = [
        _ratio(r.get("customers"), (r.get("customers") or 0) + (r.get("lost") or 0)) for r in rows
    ]
    out.append(bars("Win rate by source", labels, [("Win rate", rates)], _percent(f), **one(2)))
    if any(r.get("cost_per_lead") is not None for r in rows):
        out.append(
            bars(
                "Cost per lead by source",
                labels,
                [("Cost per lead", [r.get("cost_per_lead") for r in rows])],
                money,
                **one(3),
            )
        )
    return out
