"""Reports and spend: ``report`` (overview), ``report pipeline|funnel|...`` and ``spend``."""

from __future__ import annotations

import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer

from leadcli.cli.options import (
    FormatOption,
    OutputFormat,
    OwnerFilter,
    SourceFilter,
    TagFilter,
    split_commas,
)
from leadcli.cli.output import emit, render_table, say, write_object
from leadcli.cli.state import state

app = typer.Typer()

report_app = typer.Typer(
    help="What is working: pipeline, funnel, sources, velocity, response time, as of any day.\n\n"
    "Without a sub-command, an overview: headline measures, leads by stage, pipeline, funnel.\n\n"
    "Example: leadcli report --since 2026-01-01 -f json",
    invoke_without_command=True,
)
app.add_typer(report_app, name="report")


class By(StrEnum):
    count = "count"
    value = "value"


SinceOption = Annotated[
    str | None, typer.Option("--since", help="Only leads created on or after this date.")
]
UntilOption = Annotated[
    str | None, typer.Option("--until", help="Only leads created up to this date (inclusive).")
]
AsOfOption = Annotated[
    str | None,
    typer.Option("--as-of", help="The state at the end of this day, rebuilt from history."),
]
HtmlOption = Annotated[
    Path | None, typer.Option("--html", metavar="FILE", help="Write a standalone HTML page.")
]
SvgOption = Annotated[
    Path | None,
    typer.Option("--svg", metavar="FILE", help="Write the report as SVG, a 16:9 slide a section."),
]
PdfOption = Annotated[
    Path | None,
    typer.Option("--pdf", metavar="FILE", help="Print the HTML page to PDF (needs Chromium)."),
]
TitleOption = Annotated[
    str | None,
    typer.Option("--title", help="The page's title (default: the database's name)."),
]
LocaleOption = Annotated[
    str | None,
    typer.Option("--locale", help="Numbers on the page as this locale writes them, e.g. de_DE."),
]
ReportFormat = Annotated[
    OutputFormat | None,
    typer.Option(
        "--format",
        "-f",
        case_sensitive=False,
        help="table for people (the default); json, jsonl, csv or tsv for scripts "
        "(fields in the README).",
    ),
]


def _moment(text: str | None, option: str, *, end_of_day: bool) -> str | None:
    """A date option as a stored UTC time. A bare day is the local midnight that starts it,
    or, as an end bound, the next one (exclusive): the whole of that day, also on a day
    whose midnight the clocks skip. A local time the clocks skip is refused naming the gap."""
    if text is None:
        return None
    from datetime import time, timedelta

    from leadcli.text import dates

    try:
        moment = dates.parse_when(text)
        if moment.time() == time(0):
            day = moment.date() + timedelta(days=1 if end_of_day else 0)
            return dates.to_store(dates.local_start_of_day(day))
        resolved = dates.resolve_local(moment)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint=option) from None
    if resolved.notice:
        say(f"Note: {resolved.notice}.")
    return dates.to_store(resolved.utc)


def _run(
    ctx: typer.Context,
    name: str,
    *,
    since: str | None,
    until: str | None,
    as_of: str | None,
    source: list[str] | None,
    owner: list[str] | None,
    tag: list[str] | None,
    fmt: OutputFormat | None,
    html: Path | None,
    svg: Path | None,
    pdf: Path | None = None,
    title: str | None = None,
    locale: str | None = None,
    by: By = By.count,
) -> None:
    from leadcli.reports.filters import ReportFilter
    from leadcli.reports.overview import run

    app_state = state(ctx)
    config = app_state.config()
    flt = ReportFilter(
        since=_moment(since, "--since", end_of_day=False),
        until=_moment(until, "--until", end_of_day=True),
        as_of=_moment(as_of, "--as-of", end_of_day=True),
        sources=tuple(source or ()),
        owners=tuple(owner or ()),
        tags=tuple(split_commas(tag)),
        aliases=config["sources.aliases"],
    )
    pages = html or svg or pdf
    if pages:
        locale = _locale(locale, config)
    store = app_state.store()
    result = run(store, name, flt, config.values, by=by.value, full=bool(pages))
    if pages:
        period = {"since": since, "until": until, "as of": as_of}
        page = _page(result, store.path, title, period, locale)
        _write_files(result, page, html, svg, pdf)
        if fmt is None:
            return
    result.pop("parts", None)  # scripts read the report they asked for
    _show(result, fmt or OutputFormat.table)


def _locale(option: str | None, config: Any) -> str | None:
    """--locale, else ``report.locale``, else ``import.locale``, else None (1,234.5)."""
    if option is None:
        return config["report.locale"] or config["import.locale"] or None
    from leadcli.text.numbers import check_locale

    try:
        return check_locale(option)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--locale") from None


def _page(
    result: dict[str, Any],
    db: Path | str,
    title: str | None,
    period: dict[str, str | None],
    locale: str | None,
) -> Any:
    """What the page says above its figures: the title (--title, else the database's name
    and the report), the period as the options were written, when it was made."""
    from leadcli.reports.render import TITLES, Page
    from leadcli.text.dates import now_text

    database = Path(db).name
    heading = title or f"{Path(db).stem}: {TITLES[result['report']]}"
    said = "; ".join(f"{k} {v}" for k, v in period.items() if v)
    return Page(heading, database=database, period=said, made=now_text(), locale=locale)


def _write_files(
    result: dict[str, Any], page: Any, html: Path | None, svg: Path | None, pdf: Path | None
) -> None:
    from leadcli.reports import render

    for path, make in ((html, render.to_html), (svg, render.to_svg)):
        if path is not None:
            path.write_text(make(result, page.title, page), encoding="utf-8")
            say(f"Wrote {path}")
    if pdf is not None:
        from leadcli.reports.pdf import print_pdf

        print_pdf(render.to_html(result, page.title, page), pdf)
        say(f"Wrote {pdf}")


_BLOCKS = " ▏▎▍▌▋▊▉█"
_SPARK = "▁▂▃▄▅▆▇█"


def bar(value: Any, top: float, width: int = 20) -> str:
    """A bar of block characters: readable in a cron mail without colour."""
    if not isinstance(value, int | float) or value <= 0 or top <= 0:
        return ""
    eighths = round(width * 8 * value / top)
    return "█" * (eighths // 8) + (_BLOCKS[eighths % 8] if eighths % 8 else "")


def sparkline(values: list[float]) -> str:
    """A small trend line, one character per value."""
    top, low = max(values, default=0), min(values, default=0)
    span = (top - low) or 1
    return "".join(_SPARK[round((v - low) / span * (len(_SPARK) - 1))] for v in values)


def _show(result: dict[str, Any], fmt: OutputFormat) -> None:
    if fmt is OutputFormat.json:
        write_object(result, sys.stdout)
        return
    if fmt is not OutputFormat.table:
        rows = result.get("rows", [])
        columns = list(rows[0]) if rows else []
        emit(rows, fmt, columns=columns)
        return
    from leadcli.reports import render  # tables only: scripts' formats start faster without it

    extra = render.note(result)
    if extra:
        say(extra)
    for section in render.sections(result):
        top = max(
            (r.get(section.bar) or 0 for r in section.rows if section.bar),
            default=0,
        )
        headers = [h for _, h in section.columns] + ([""] if section.bar else [])
        rows = [
            [
                render.fmt(f, r.get(f)) or ("(none)" if i == 0 else "")
                for i, (f, _) in enumerate(section.columns)
            ]
            + ([bar(r.get(section.bar), top, 12)] if section.bar else [])
            for r in section.rows
        ]
        title = section.title
        if section.trend and len(section.rows) > 1:
            title += "  " + sparkline([r.get(section.trend) or 0 for r in section.rows])
        render_table(
            rows,
            headers,
            title=title,
            justify_right=headers[1:-1] if section.bar else headers[1:],
            no_wrap=headers[1:],
        )


@report_app.callback()
def overview(
    ctx: typer.Context,
    since: SinceOption = None,
    until: UntilOption = None,
    as_of: AsOfOption = None,
    source: SourceFilter = None,
    owner: OwnerFilter = None,
    tag: TagFilter = None,
    fmt: ReportFormat = None,
    html: HtmlOption = None,
    svg: SvgOption = None,
    pdf: PdfOption = None,
    title: TitleOption = None,
    locale: LocaleOption = None,
) -> None:
    """Headline measures, leads by stage, the pipeline and the funnel.

    Example: leadcli report --as-of 2026-06-30 --html report.html
    """
    if ctx.invoked_subcommand is None:
        _run(ctx, "overview", **_opts(locals()))


def _opts(values: dict[str, Any]) -> dict[str, Any]:
    keys = ("since", "until", "as_of", "source", "owner", "tag", "fmt", "html", "svg", "pdf")
    keys += ("title", "locale")
    return {k: values[k] for k in keys}


def _sub(name: str, doc: str, example: str) -> None:
    def command(
        ctx: typer.Context,
        since: SinceOption = None,
        until: UntilOption = None,
        as_of: AsOfOption = None,
        source: SourceFilter = None,
        owner: OwnerFilter = None,
        tag: TagFilter = None,
        fmt: ReportFormat = None,
        html: HtmlOption = None,
        svg: SvgOption = None,
        pdf: PdfOption = None,
        title: TitleOption = None,
        locale: LocaleOption = None,
    ) -> None:
        _run(ctx, name, **_opts(locals()))

    command.__doc__ = f"{doc}\n\nExample: {example}"
    report_app.command(name)(command)


@report_app.command("funnel")
def funnel(
    ctx: typer.Context,
    since: SinceOption = None,
    until: UntilOption = None,
    as_of: AsOfOption = None,
    source: SourceFilter = None,
    owner: OwnerFilter = None,
    tag: TagFilter = None,
    by: Annotated[By, typer.Option("--by", help="Count leads, or sum their value.")] = By.count,
    fmt: ReportFormat = None,
    html: HtmlOption = None,
    svg: SvgOption = None,
    pdf: PdfOption = None,
    title: TitleOption = None,
    locale: LocaleOption = None,
) -> None:
    """Leads that reached each stage, conversion to the next and cumulative, drop-off.

    Example: leadcli report funnel --by value --since 2026-01-01
    """
    _run(ctx, "funnel", by=by, **_opts(locals()))


for _name, _doc, _example in (
    (
        "pipeline",
        "Open leads per stage: count, value, weighted value (by win rate), average age.",
        "leadcli report pipeline --owner ana",
    ),
    (
        "sources",
        "Per source: leads, qualified, customers, conversion, won value, lead time, and "
        "cost per lead, cost per customer and ROI where spend is recorded.",
        "leadcli report sources --since 2026-01-01 -f csv",
    ),
    (
        "velocity",
        "Lead time (median, p90), time in each stage, win rate, sales velocity, leads per "
        "month and their growth.",
        "leadcli report velocity",
    ),
    (
        "response",
        "Speed to lead: first outbound touch after creation, median, p90 and buckets, "
        "overall and by source.",
        "leadcli report response --source web",
    ),
    ("lost", "Lost reasons with their counts and share.", "leadcli report lost --since 2026-01-01"),
    (
        "cohorts",
        "Leads by month created, and the share of each month that reached each stage.",
        "leadcli report cohorts -f json",
    ),
    (
        "ratings",
        "Hot, warm and cold leads (from scoring) and how many became customers.",
        "leadcli report ratings",
    ),
):
    _sub(_name, _doc, _example)


@app.command("spend")
def spend(
    ctx: typer.Context,
    source: Annotated[str, typer.Argument(help="The source the money went to.")],
    amount: Annotated[
        str, typer.Argument(help="The amount, e.g. 1500 or 1,500.50; negative corrects.")
    ],
    month: Annotated[
        str | None, typer.Option("--month", metavar="YYYY-MM", help="Month (default: this one).")
    ] = None,
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """Record marketing spend on a source, for cost per lead and ROI in `report sources`.

    Example: leadcli spend web 1500 --month 2026-03
    """
    from leadcli.reports.spend import record_spend

    row = record_spend(state(ctx).store(create=True), source, amount, month)
    if fmt is OutputFormat.table:
        say(f"Recorded {row['amount']:,.2f} for {row['source']} in {row['month']}.")
    elif fmt is OutputFormat.json:
        write_object(row, sys.stdout)
    else:
        emit([row], fmt, columns=list(row))
