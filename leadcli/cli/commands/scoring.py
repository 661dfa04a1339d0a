"""Scoring commands: ``score`` and ``model train | show | evaluate`` (the scorer they build,
and ``rescoring``, live in ``cli.shared``)."""

from __future__ import annotations

import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer

from leadcli.cli.options import MAX_INT, FormatOption, OutputFormat, read_ids
from leadcli.cli.output import emit, progress, render_table, say, write_object
from leadcli.cli.shared import build_scorer
from leadcli.cli.state import state
from leadcli.scoring import MODES

app = typer.Typer()
model_app = typer.Typer(
    help="Train, inspect and evaluate the predictive model learned from closed leads.\n\n"
    "Example: leadcli model train",
    no_args_is_help=True,
)


ScoreModel = StrEnum("ScoreModel", {m: m for m in MODES})  # type: ignore[misc]


RulesOption = Annotated[
    Path | None,
    typer.Option(
        "--rules",
        metavar="FILE",
        help="Score with this rules file instead of scoring.toml in the config folder "
        "(or the shipped defaults).",
        dir_okay=False,
    ),
]


@app.command()
def score(
    ctx: typer.Context,
    ids: Annotated[
        list[str] | None,
        typer.Argument(
            metavar="[ID...]",
            help="Leads to rescore (all open leads when none; - reads ids from stdin).",
            show_default=False,
        ),
    ] = None,
    explain: Annotated[
        int | None,
        typer.Option(
            "--explain",
            metavar="ID",
            max=MAX_INT,
            help="List each rule or model term behind this lead's score, with its points.",
        ),
    ] = None,
    model_mode: Annotated[
        ScoreModel | None,
        typer.Option(
            "--model",
            case_sensitive=False,
            help="rules, predictive (the trained model) or blend; default: scoring.model.",
            show_default=False,
        ),
    ] = None,
    rules_file: RulesOption = None,
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """Recompute scores (0-100) and ratings (hot / warm / cold), or explain one.

    Example: leadcli score --explain 42
    """
    from leadcli.scoring.apply import explain as explain_score
    from leadcli.scoring.apply import rescore

    app_state = state(ctx)
    scorer = build_scorer(app_state, model_mode.value if model_mode else None, rules_file)
    store = app_state.store()
    if explain is not None:
        if ids:
            raise typer.BadParameter("give either ids or --explain ID", param_hint="--explain")
        _show_explanation(explain_score(store, scorer, explain), fmt)
        return
    lead_ids = read_ids(ids) if ids else None
    with progress("scoring", "leads") as update:
        result = rescore(store, scorer, lead_ids, progress=update)
    summary = result.as_dict()
    if fmt is OutputFormat.table:
        say(
            f"Scored {result.scored:,} leads by {result.mode}: {result.changed:,} changed, "
            f"{result.ratings_changed:,} changed rating."
        )
    elif fmt is OutputFormat.json:
        write_object(summary, sys.stdout)
    else:
        emit([summary], fmt, columns=list(summary))


def _show_explanation(result: dict[str, Any], fmt: OutputFormat) -> None:
    if fmt is OutputFormat.json:
        write_object(result, sys.stdout)
        return
    if result["model"] == "blend":
        rows = [
            {"part": "rules", "term": t["term"], "value": None, "points": t["points"]}
            for t in result["rules"]["terms"]
        ] + [
            {"part": "predictive", "term": t["term"], "value": t["value"], "points": t["points"]}
            for t in result["predictive"]["terms"]
        ]
    else:
        rows = [
            {
                "part": result["model"],
                "term": t["term"],
                "value": t.get("value"),
                "points": t["points"],
            }
            for t in result["terms"]
        ]
    if fmt is not OutputFormat.table:
        emit(rows, fmt, columns=["part", "term", "value", "points"])
        return
    for r in rows:
        if r["part"] == "predictive" and r["term"] != "intercept" and r["value"] is None:
            r["value"] = "(missing)"
    predictive = result["model"] != "rules"
    # Rules say their condition in the term; only a model's features have a value to show,
    # so under rules alone the column would be empty: it is left out then.
    with_value = any(r["value"] is not None for r in rows)
    render_table(
        [
            (
                r["part"],
                r["term"],
                *([r["value"]] if with_value else []),
                f"{r['points']:+.3f}"
                if predictive and r["part"] == "predictive"
                else f"{r['points']:+d}",
            )
            for r in rows
        ],
        ["Part", "Term", *(["Value"] if with_value else []), "Points"],
        title=f"Lead {result['id']}: score {result['score']} ({result['rating']})",
        justify_right=["Points"],
    )
    if "predictive" in result:
        p = result["predictive"]
        say(
            f"Log-odds {p['log_odds']:+.4f} (the sum of the predictive points); "
            f"win probability {_percent(p['win_probability'])}."
        )
    if result["model"] == "blend":
        say(
            f"Blend: (rules {result['rules']['score']} + 100 x probability) / 2, rounded = "
            f"{result['score']}."
        )


def _percent(p: float) -> str:
    """A probability for people: never "0 %" or "100 %", which it never is."""
    if p < 0.001:
        return "under 0.1 %"
    if p > 0.999:
        return "over 99.9 %"
    return f"{100 * p:.1f} %"


FoldsOption = Annotated[int, typer.Option("--folds", min=2, max=20, help="Cross-validation folds.")]
KeepOption = Annotated[
    list[str] | None,
    typer.Option(
        "--keep-feature",
        metavar="NAME",
        help="Learn from this feature though the leakage guard would leave it out (its name "
        "as the warning gives it, any case, or a pattern such as 'tag *'; repeatable).",
        show_default=False,
    ),
]

LeaveOutOption = Annotated[
    list[str] | None,
    typer.Option(
        "--leave-out",
        metavar="NAME",
        help="Do not learn from this feature (written after the outcome, as you know and "
        "the guard cannot see; a name or a pattern such as 'tag *'; repeatable).",
        show_default=False,
    ),
]


def _warn_leakage(leakage: dict[str, Any] | None) -> None:
    """The guard's findings, one line each on stderr (every format: a script's log shows
    them too); ``-f json`` carries them in ``leakage``."""
    if not leakage:
        return
    for finding in leakage["findings"]:
        name = finding["feature"]
        if finding["rule"] == "left out by name":
            continue  # as asked; -f json lists it
        if finding["kept"]:
            say(
                f"Warning: kept {name!r} (--keep-feature), though it {finding['rule']}: "
                f"{finding['detail']}."
            )
        else:
            say(
                f"Warning: left out {name!r}: it {finding['rule']} ({finding['detail']}); "
                f"--keep-feature {name!r} keeps it."
            )
    for pattern in leakage["unmatched_keep"]:
        say(f"Warning: {pattern!r} (--keep-feature / --leave-out) matches no feature.")


@model_app.command("train")
def model_train(
    ctx: typer.Context,
    folds: FoldsOption = 5,
    keep: KeepOption = None,
    leave_out: LeaveOutOption = None,
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """Learn P(customer) from closed leads (customer versus lost) and store the model.

    Features that give the outcome away (written at or after the lead closed, or
    separating won from lost almost perfectly) are named on stderr and left out, unless
    --keep-feature names them.

    Example: leadcli model train
    """
    from leadcli.scoring import model

    app_state = state(ctx)
    stored = model.train(app_state.store(), folds=folds, keep=keep or [], leave_out=leave_out or [])
    _warn_leakage(stored["model"].get("leakage"))
    summary = _summary(stored)
    if fmt is OutputFormat.table:
        evaluation = stored["evaluation"] or {}
        say(
            f"Trained model #{stored['id']} ({stored['form']}) on {stored['closed_leads']:,} "
            f"closed leads ({stored['customers']:,} customers, {stored['lost']:,} lost): "
            f"cross-validated AUC {evaluation.get('auc', float('nan')):.3f}. "
            "Score with it: leadcli score --model predictive"
        )
    elif fmt is OutputFormat.json:
        write_object(summary, sys.stdout)
    else:
        emit([summary], fmt, columns=[k for k in summary if k not in ("settings", "leakage")])


def _summary(stored: dict[str, Any]) -> dict[str, Any]:
    evaluation = stored["evaluation"] or {}
    return {
        "id": stored["id"],
        "trained_at": stored["trained_at"],
        "form": stored["form"],
        "closed_leads": stored["closed_leads"],
        "customers": stored["customers"],
        "lost": stored["lost"],
        "auc": evaluation.get("auc"),
        "log_loss": evaluation.get("log_loss"),
        "settings": stored["model"].get("settings"),
        "leakage": stored["model"].get("leakage"),
    }


@model_app.command("show")
def model_show(
    ctx: typer.Context,
    limit: Annotated[int, typer.Option("--limit", "-n", min=1, help="Factors to list.")] = 20,
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """List the model's strongest factors, in log-odds points.

    Example: leadcli model show --limit 10
    """
    from leadcli.scoring import model

    stored = model.load(state(ctx).store())
    factors = model.strongest(stored, limit)
    if fmt is OutputFormat.json:
        write_object(
            {**_summary(stored), "factors": factors, "intercept": stored["model"]["intercept"]},
            sys.stdout,
        )
        return
    if fmt is not OutputFormat.table:
        emit(factors, fmt, columns=["feature", "value", "points"])
        return
    summary = _summary(stored)
    render_table(
        [(f["feature"], f["value"], f"{f['points']:+.3f}") for f in factors],
        ["Feature", "Value", "Points"],
        title=f"Model #{summary['id']} ({summary['form']}), trained {summary['trained_at']} "
        f"on {summary['closed_leads']:,} closed leads",
        justify_right=["Points"],
    )
    say("Points are log-odds against a typical lead: +0.69 doubles the odds of winning.")


@model_app.command("evaluate")
def model_evaluate(
    ctx: typer.Context,
    folds: FoldsOption = 5,
    keep: KeepOption = None,
    leave_out: LeaveOutOption = None,
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """Cross-validated AUC, log-loss and calibration of the model's form on closed leads.

    The leakage guard runs again (as in `model train`); features the model was trained
    keeping stay kept.

    Example: leadcli model evaluate --folds 5 -f json
    """
    from leadcli.scoring import model

    result = model.evaluate(
        state(ctx).store(), folds=folds, keep=keep or [], leave_out=leave_out or []
    )
    _warn_leakage(result.get("leakage"))
    if fmt is OutputFormat.json:
        write_object(result, sys.stdout)
        return
    if fmt is not OutputFormat.table:
        emit(result["calibration"], fmt, columns=["from", "to", "leads", "predicted", "observed"])
        return
    say(
        f"Model #{result['model_id']} ({result['form']}), {result['folds']}-fold on "
        f"{result['closed_leads']:,} closed leads: AUC {result['auc']:.3f}, "
        f"log-loss {result['log_loss']:.3f}"
    )
    render_table(
        [
            (
                f"{_percent(r['from'])} - {_percent(r['to'])}",
                r["leads"],
                _percent(r["predicted"]),
                f"{100 * r['observed']:.1f} %",
            )
            for r in result["calibration"]
        ],
        ["Predicted range", "Leads", "Predicted", "Observed"],
        title="Calibration",
        justify_right=["Leads", "Predicted", "Observed"],
    )
