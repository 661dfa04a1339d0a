"""The learned model: P(customer) from closed leads, as a table of log-odds points.

Training reads every closed lead's features (``features.value_sql``), leaves out sources
that cannot generalise (one value only, nearly all values distinct such as ids, long free
text), encodes categories (rare ones pooled as "other") and numbers in quantile bins, and
fits an additive model: an intercept plus points per category and per bin. Two forms are
tried, and their settings, by k-fold cross-validation on the closed leads:

- penalised logistic regression (ridge on every point, plus a penalty on the difference
  between neighbouring bins so a number's points change smoothly), fitted by Newton's method;
- naive Bayes (smoothed log ratios of counts), which holds up better on few leads.

Either way the result is the same table, stored as JSON with its evaluation. numpy is
imported inside the functions: nothing here runs at start-up or while scoring.
"""

from __future__ import annotations

import json
import math
import os
import sqlite3
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from leadcli.errors import LeadcliError
from leadcli.pipeline.stages import CLOSED_STAGES_SQL
from leadcli.scoring import features, leakage
from leadcli.storage.store import Store
from leadcli.text import dates

if TYPE_CHECKING:
    import numpy as np

#: Closed leads of each kind needed to train at all.
MIN_EACH = 10
CLOSED = f"stage IN {CLOSED_STAGES_SQL}"
#: A category seen fewer times than this is pooled with the other rare ones.
MIN_LEVEL_COUNT = 3
#: Form settings tried by cross-validation.
LOGISTIC_GRID = [
    {"form": "binned-logistic", "bins": bins, "ridge": ridge, "smooth": smooth}
    for bins in (8, 16)
    for ridge in (0.5, 2.0, 8.0, 32.0)
    for smooth in (0.0, 10.0)
]
BAYES_GRID = [{"form": "naive-bayes", "bins": 8, "alpha": alpha} for alpha in (0.5, 2.0)]


def _numpy() -> Any:
    """numpy, imported on first use, with one BLAS thread: the matrices are small (a few
    hundred columns), and on a busy machine threaded BLAS spent five times longer waiting
    for cores than computing (0.25 s against 0.05 s a solve, measured)."""
    if "numpy" not in sys.modules:
        for variable in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
            os.environ.setdefault(variable, "1")
    import numpy

    return numpy


class TrainingError(LeadcliError):
    """Training cannot start: too few closed leads, or nothing to learn from."""


class NoModel(LeadcliError):
    """No model has been trained on this database."""


# --------------------------------------------------------------------------- data


@dataclass
class Data:
    """Closed leads' feature values (a column per source) and outcomes (1 = customer)."""

    sources: list[dict[str, Any]]
    kinds: list[str]
    columns: list[list[Any]]
    y: list[int]


def _count_closed(conn: sqlite3.Connection) -> tuple[int, int]:
    customers, lost = conn.execute(
        "SELECT count(*) FILTER (WHERE stage = 'customer'), count(*) FILTER (WHERE stage = 'lost') "
        "FROM leads"
    ).fetchone()
    return customers, lost


def check_enough(customers: int, lost: int) -> None:
    """Refuse, saying what is missing and how many more are needed."""
    if customers >= MIN_EACH and lost >= MIN_EACH:
        return
    if customers == 0 and lost == 0:
        what = "there are no closed leads"
    elif customers == 0 or lost == 0:
        what = f"all {customers or lost} closed leads are {'customers' if customers else 'lost'}"
    else:
        what = f"there are {customers} customers and {lost} lost leads"
    needs = []
    if customers < MIN_EACH:
        needs.append(f"{MIN_EACH - customers} more customers")
    if lost < MIN_EACH:
        needs.append(f"{MIN_EACH - lost} more lost leads")
    raise TrainingError(
        f"a model needs at least {MIN_EACH} customers and {MIN_EACH} lost leads; {what}: "
        f"close {' and '.join(needs)}",
        hint="until then `leadcli score` scores by rules",
    )


def _looks_numeric(values: list[Any]) -> bool:
    present = [v for v in values if v is not None]
    if not present:
        return False
    numeric = 0
    for value in present:
        if isinstance(value, int | float):
            numeric += 1
            continue
        try:
            float(value)
            numeric += 1
        except ValueError:
            pass
    return numeric >= 0.95 * len(present)


def _usable_category(values: list[Any]) -> bool:
    """Not constant, not an identifier (nearly all distinct), not free text."""
    present = [v for v in values if v is not None]
    distinct = set(present)
    if len(distinct) < 2:
        return False
    if len(distinct) > 20 and len(distinct) > 0.5 * len(present):
        return False  # an id, an e-mail, a name: each lead its own value
    mean_length = sum(len(str(v)) for v in present) / len(present)
    return not (mean_length > 40 and len(distinct) > 0.2 * len(present))


def _usable_number(values: list[Any]) -> bool:
    present = [v for v in values if v is not None]
    distinct = set(present)
    if len(distinct) < 2:
        return False
    # A number different for nearly every lead and always whole is a running id.
    return not (
        len(distinct) > 0.95 * len(present)
        and len(present) > 50
        and all(float(v).is_integer() for v in present)
    )


def guarded_data(
    conn: sqlite3.Connection,
    keep: Sequence[str] = (),
    leave_out: Sequence[str] = (),
    where: str = CLOSED,
) -> tuple[Data, leakage.Guarded]:
    """The closed leads' data with the leakage guard's features left out (``keep``: the
    ``--keep-feature`` names or patterns that stay in; ``leave_out``: those that go
    whatever the guard finds), and what the guard found."""
    data = read_data(conn, where)
    guarded = leakage.guard(conn, data, where, keep, leave_out)
    data = Data(
        [data.sources[f] for f in guarded.use],
        [data.kinds[f] for f in guarded.use],
        [data.columns[f] for f in guarded.use],
        data.y,
    )
    return data, guarded


def _leakage(
    guarded: leakage.Guarded, keep: Sequence[str], leave_out: Sequence[str]
) -> dict[str, Any]:
    """The guard's findings as stored with a model and returned by evaluate."""
    return {
        "keep": list(keep),
        "leave_out": list(leave_out),
        "findings": [f.as_dict() for f in guarded.findings],
        "unmatched_keep": guarded.unmatched,
    }


def read_data(conn: sqlite3.Connection, where: str = CLOSED) -> Data:
    """Every usable feature of the leads matching ``where`` (closed ones for training)."""
    sources = features.candidates(conn, where)
    labels = ["stage = 'customer'"]
    as_text = [
        features.category_sql(features.raw_sql(s))
        if s["from"] != "activities"
        else features.raw_sql(s)
        for s in sources
    ]
    rows = conn.execute(
        f"SELECT {', '.join(labels + as_text)} FROM leads WHERE {where} ORDER BY id"
    ).fetchall()
    y = [int(r[0]) for r in rows]
    kinds: list[str] = []
    keep: list[int] = []
    for i, source in enumerate(sources):
        column = [r[i + 1] for r in rows]
        numeric = source["from"] in ("activities", "first_touch_days") or (
            source["from"] != "tag" and _looks_numeric(column)
        )
        if numeric:
            if source["from"] not in ("activities",) and not _usable_number(column):
                continue
            if source["from"] == "activities" and len(set(column)) < 2:
                continue
        elif not _usable_category(column):
            continue
        kinds.append("number" if numeric else "category")
        keep.append(i)
    kept = [sources[i] for i in keep]
    selects = [
        features.value_sql({"source": s, "kind": k}) for s, k in zip(kept, kinds, strict=True)
    ]
    columns: list[list[Any]] = [[] for _ in kept]
    if kept:
        cursor = conn.execute(f"SELECT {', '.join(selects)} FROM leads WHERE {where} ORDER BY id")
        for row in cursor:
            for j, value in enumerate(row):
                columns[j].append(value)
    return Data(kept, kinds, columns, y)


# --------------------------------------------------------------------------- encoding


@dataclass
class Encoded:
    """A one-hot design: ``index[:, f]`` is the column each lead takes for feature ``f``."""

    index: np.ndarray
    width: int
    specs: list[dict[str, Any]]  # per feature: kind, first column, levels or edges
    smooth_pairs: list[tuple[int, int]]


def encode(data: Data, bins: int, fitted: list[dict[str, Any]] | None = None) -> Encoded:
    """Columns per feature: [missing, other, level...] or [missing, bin 0..k]. With
    ``fitted`` (the specs of a training encoding) the same columns are reused."""
    np = _numpy()

    n = len(data.y)
    index = np.zeros((n, len(data.sources)), dtype=np.int64)
    specs: list[dict[str, Any]] = []
    pairs: list[tuple[int, int]] = []
    width = 1  # column 0: the intercept
    for f, (kind, column) in enumerate(zip(data.kinds, data.columns, strict=True)):
        start = width
        if kind == "number":
            values = np.array([np.nan if v is None else float(v) for v in column])
            if fitted is not None:
                edges = np.array(fitted[f]["edges"])
            else:
                present = values[~np.isnan(values)]
                quantiles = np.quantile(present, np.arange(1, bins) / bins) if present.size else []
                edges = np.unique(quantiles)
                # An edge at the minimum would leave the first bin empty.
                edges = edges[edges > present.min()] if present.size else edges
            which = np.searchsorted(edges, np.nan_to_num(values, nan=0.0), side="right")
            index[:, f] = np.where(np.isnan(values), start, start + 1 + which)
            spec = {"kind": kind, "start": start, "edges": [float(e) for e in edges]}
            width += 2 + len(edges)
            pairs += [(start + 1 + b, start + 2 + b) for b in range(len(edges))]
        else:
            if fitted is not None:
                levels = fitted[f]["levels"]
            else:
                counts: dict[str, int] = {}
                for v in column:
                    if v is not None:
                        counts[v] = counts.get(v, 0) + 1
                levels = sorted(v for v, c in counts.items() if c >= MIN_LEVEL_COUNT)
            position = {v: start + 2 + i for i, v in enumerate(levels)}
            index[:, f] = [start if v is None else position.get(v, start + 1) for v in column]
            spec = {"kind": kind, "start": start, "levels": list(levels)}
            width += 2 + len(levels)
        specs.append(spec)
    return Encoded(index, width, specs, pairs)


# --------------------------------------------------------------------------- fitting


def _penalty(enc: Encoded, ridge: float, smooth: float) -> np.ndarray:
    np = _numpy()

    p = np.eye(enc.width) * ridge
    p[0, 0] = 0.0
    for a, b in enc.smooth_pairs:
        p[a, a] += smooth
        p[b, b] += smooth
        p[a, b] -= smooth
        p[b, a] -= smooth
    return p


def _pairs(index: np.ndarray, width: int) -> np.ndarray:
    """Flat positions in a width x width matrix of every pair of columns each lead has
    (the upper triangle and the diagonal): one bincount of these gives X^T W X."""
    np = _numpy()

    columns = np.concatenate([np.zeros((index.shape[0], 1), dtype=np.int64), index], axis=1)
    f, g = np.triu_indices(columns.shape[1])
    return (columns[:, f] * width + columns[:, g]).T


def fit_logistic(enc: Encoded, rows: np.ndarray, y: np.ndarray, penalty: np.ndarray) -> np.ndarray:
    """Penalised logistic regression by Newton's method.

    The design is one-hot (each lead has one column per feature), so X w is a sum of
    looked-up points and X^T W X one weighted count of column pairs: no dense matrix."""
    np = _numpy()

    width = enc.width
    index = enc.index[rows]
    pairs = _pairs(index, width)
    flat = index.ravel()
    w = np.zeros(width)
    rate = min(max(float(y.mean()), 1e-3), 1 - 1e-3)
    w[0] = math.log(rate / (1 - rate))
    for _ in range(30):
        z = np.clip(w[0] + w[index].sum(axis=1), -30, 30)
        p = 1.0 / (1.0 + np.exp(-z))
        r = p - y
        gradient = np.bincount(flat, weights=np.repeat(r, index.shape[1]), minlength=width)
        gradient[0] += r.sum()
        gradient += penalty @ w
        weights = p * (1 - p)
        upper = np.bincount(
            pairs.ravel(), weights=np.tile(weights, pairs.shape[0]), minlength=width * width
        ).reshape(width, width)
        hessian = upper + upper.T
        hessian[np.diag_indices(width)] /= 2.0
        hessian += penalty
        hessian[np.diag_indices(width)] += 1e-9
        step = np.linalg.solve(hessian, gradient)
        w -= step
        if np.max(np.abs(step)) < 1e-7:
            break
    return w


def fit_bayes(enc: Encoded, rows: np.ndarray, y: np.ndarray, alpha: float) -> np.ndarray:
    """Naive Bayes as points: each column's smoothed log ratio of customers to lost."""
    np = _numpy()

    w = np.zeros(enc.width)
    index = enc.index[rows]
    n1, n0 = y.sum(), len(y) - y.sum()
    w[0] = math.log(max(n1, 0.5) / max(n0, 0.5))
    for f, spec in enumerate(enc.specs):
        end = enc.specs[f + 1]["start"] if f + 1 < len(enc.specs) else enc.width
        k = end - spec["start"]
        c1 = np.bincount(index[y == 1, f] - spec["start"], minlength=k)
        c0 = np.bincount(index[y == 0, f] - spec["start"], minlength=k)
        w[spec["start"] : end] = np.log((c1 + alpha) / (n1 + alpha * k)) - np.log(
            (c0 + alpha) / (n0 + alpha * k)
        )
    return w


def _fit(settings: dict[str, Any], enc: Encoded, rows: np.ndarray, y: np.ndarray) -> np.ndarray:
    if settings["form"] == "naive-bayes":
        return fit_bayes(enc, rows, y, settings["alpha"])
    return fit_logistic(enc, rows, y, _penalty(enc, settings["ridge"], settings["smooth"]))


def _predict(w: np.ndarray, enc: Encoded, rows: np.ndarray | slice = slice(None)) -> np.ndarray:
    return w[0] + w[enc.index[rows]].sum(axis=1)


# --------------------------------------------------------------------------- evaluation


def auc(y: np.ndarray, score: np.ndarray) -> float:
    """Area under the ROC curve (Mann-Whitney, ties counted half)."""
    np = _numpy()

    order = np.argsort(score, kind="mergesort")
    ranks = np.empty(len(score))
    sorted_scores = score[order]
    _, first, counts = np.unique(sorted_scores, return_index=True, return_counts=True)
    average = first + (counts - 1) / 2.0 + 1
    ranks[order] = np.repeat(average, counts)
    n1 = y.sum()
    n0 = len(y) - n1
    if n1 == 0 or n0 == 0:
        return float("nan")
    return float((ranks[y == 1].sum() - n1 * (n1 + 1) / 2) / (n1 * n0))


def log_loss(y: np.ndarray, z: np.ndarray) -> float:
    np = _numpy()

    z = np.clip(z, -30, 30)
    return float(np.mean(np.logaddexp(0, z) - y * z))


def calibration(y: np.ndarray, z: np.ndarray, groups: int = 10) -> list[dict[str, Any]]:
    """Leads in tenths by predicted probability: mean predicted versus observed rate."""
    np = _numpy()

    p = 1 / (1 + np.exp(-np.clip(z, -30, 30)))
    order = np.argsort(p, kind="mergesort")
    table = []
    for part in np.array_split(order, min(groups, len(order))):
        if len(part) == 0:
            continue
        table.append(
            {
                "from": float(p[part].min()),
                "to": float(p[part].max()),
                "leads": len(part),
                "predicted": float(p[part].mean()),
                "observed": float(y[part].mean()),
            }
        )
    return table


def _folds(n: int, k: int, seed: int = 0) -> list[np.ndarray]:
    np = _numpy()

    return np.array_split(np.random.RandomState(seed).permutation(n), k)


def cross_validate(
    data: Data, settings: dict[str, Any], folds: int = 5, enc: Encoded | None = None
) -> dict[str, Any]:
    """Out-of-fold log-odds for every closed lead, and their AUC, log-loss and calibration."""
    np = _numpy()

    y = np.array(data.y, dtype=float)
    enc = enc or encode(data, settings["bins"])
    z = np.zeros(len(y))
    aucs = []
    for held in _folds(len(y), folds):
        train = np.setdiff1d(np.arange(len(y)), held)
        w = _fit(settings, enc, train, y[train])
        z[held] = _predict(w, enc, held)
        aucs.append(auc(y[held], z[held]))
    return {
        "folds": folds,
        "auc": float(np.nanmean(aucs)),
        "log_loss": log_loss(y, z),
        "calibration": calibration(y, z),
    }


# --------------------------------------------------------------------------- the table


def _table(data: Data, enc: Encoded, w: np.ndarray) -> dict[str, Any]:
    """The fitted weights as points per feature, each centred on the training leads'
    average (the shift goes into the intercept), so a point reads "versus a typical lead"."""
    np = _numpy()

    intercept = float(w[0])
    table_features = []
    for f, (source, spec) in enumerate(zip(data.sources, enc.specs, strict=True)):
        end = enc.specs[f + 1]["start"] if f + 1 < len(enc.specs) else enc.width
        points = w[spec["start"] : end].copy()
        mean = float(np.mean(points[enc.index[:, f] - spec["start"]]))
        points -= mean
        intercept += mean
        feature: dict[str, Any] = {
            "name": features.describe(source),
            "source": source,
            "kind": spec["kind"],
            "missing": float(points[0]),
        }
        if spec["kind"] == "number":
            feature["edges"] = spec["edges"]
            feature["bins"] = [float(v) for v in points[1:]]
        else:
            feature["other"] = float(points[1])
            feature["levels"] = {
                level: float(v) for level, v in zip(spec["levels"], points[2:], strict=True)
            }
        table_features.append(feature)
    return {"intercept": intercept, "features": table_features}


def train(
    store: Store, *, folds: int = 5, keep: Sequence[str] = (), leave_out: Sequence[str] = ()
) -> dict[str, Any]:
    """Choose a form and its settings by cross-validation, fit it on every closed lead,
    store it, and return what was stored. Features the leakage guard finds are left out
    unless ``keep`` names them; the findings are stored with the model (``leakage``)."""
    np = _numpy()

    with store.read() as conn:
        check_enough(*_count_closed(conn))
        data, guarded = guarded_data(conn, keep, leave_out)
    customers = sum(data.y)
    lost = len(data.y) - customers
    if not data.sources:
        left = " once the leakage guard left some out" if guarded.findings else ""
        raise TrainingError(
            f"the closed leads have nothing a model can learn from (no field varies){left}",
            hint="import or record more about your leads; `leadcli score` scores by rules"
            + ("; --keep-feature NAME keeps a feature the guard left out" if left else ""),
        )
    y = np.array(data.y, dtype=float)
    folds = max(2, min(folds, customers, lost))
    encodings: dict[int, Encoded] = {}
    best: tuple[float, dict[str, Any], dict[str, Any]] | None = None
    for settings in LOGISTIC_GRID + BAYES_GRID:
        if settings["bins"] not in encodings:
            encodings[settings["bins"]] = encode(data, settings["bins"])
        enc = encodings[settings["bins"]]
        result = cross_validate(data, settings, folds, enc)
        if best is None or result["auc"] > best[0]:
            best = (result["auc"], settings, result)
    assert best is not None
    _, settings, evaluation = best
    enc = encodings[settings["bins"]]
    w = _fit(settings, enc, np.arange(len(y)), y)
    table = _table(data, enc, w)
    trained_at = dates.now_text()
    record = {
        "form": settings["form"],
        "settings": settings,
        **table,
        "leakage": _leakage(guarded, keep, leave_out),
    }
    with store.write() as conn:
        cursor = conn.execute(
            "INSERT INTO scoring_models (trained_at, form, closed_leads, customers, lost, "
            "evaluation, model) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (
                trained_at,
                settings["form"],
                len(y),
                customers,
                lost,
                json.dumps(evaluation),
                json.dumps(record),
            ),
        )
        model_id = int(cursor.lastrowid or 0)
    return load(store, model_id)


def load(store: Store, model_id: int | None = None) -> dict[str, Any]:
    """A stored model (the newest when no id), or NoModel."""
    sql = "SELECT * FROM scoring_models"
    row = store.conn.execute(
        sql + (" WHERE id = ?" if model_id else " ORDER BY id DESC LIMIT 1"),
        (model_id,) if model_id else (),
    ).fetchone()
    if row is None:
        raise NoModel(
            "no model has been trained on this database",
            hint="close some leads as customer or lost, then run `leadcli model train`",
        )
    return {
        "id": row["id"],
        "trained_at": row["trained_at"],
        "form": row["form"],
        "closed_leads": row["closed_leads"],
        "customers": row["customers"],
        "lost": row["lost"],
        "evaluation": json.loads(row["evaluation"]) if row["evaluation"] else None,
        "model": json.loads(row["model"]),
    }


def load_latest(store: Store) -> dict[str, Any] | None:
    try:
        return load(store)
    except NoModel:
        return None


def evaluate(
    store: Store, *, folds: int = 5, keep: Sequence[str] = (), leave_out: Sequence[str] = ()
) -> dict[str, Any]:
    """Cross-validate the stored model's form and settings on today's closed leads, the
    leakage guard applied again (today's leads may leak what the trained ones did not);
    what the model was trained keeping or leaving out stays so, with ``keep`` and
    ``leave_out`` besides."""
    stored = load(store)
    trained = stored["model"].get("leakage", {})
    kept = list(dict.fromkeys([*trained.get("keep", []), *keep]))
    left = list(dict.fromkeys([*trained.get("leave_out", []), *leave_out]))
    with store.read() as conn:
        check_enough(*_count_closed(conn))
        data, guarded = guarded_data(conn, kept, left)
    if not data.sources:
        raise TrainingError(
            "the closed leads have nothing a model can learn from once the leakage guard "
            "left features out",
            hint="--keep-feature NAME keeps a feature the guard left out",
        )
    customers = sum(data.y)
    folds = max(2, min(folds, customers, len(data.y) - customers))
    result = cross_validate(data, stored["model"]["settings"], folds)
    return {
        "model_id": stored["id"],
        "form": stored["form"],
        "closed_leads": len(data.y),
        "customers": customers,
        "lost": len(data.y) - customers,
        **result,
        "leakage": _leakage(guarded, kept, left),
    }


def strongest(stored: dict[str, Any], limit: int = 20) -> list[dict[str, Any]]:
    """The table's points, largest first by size: what moves a lead's odds most."""
    rows = []
    for feature in stored["model"]["features"]:
        if feature["kind"] == "number":
            edges = feature["edges"]
            for b, points in enumerate(feature["bins"]):
                low = f"{edges[b - 1]:g}" if b > 0 else ""
                high = f"{edges[b]:g}" if b < len(edges) else ""
                label = (
                    f"{low} to under {high}"
                    if low and high
                    else (f"under {high}" if high else f"{low} or more")
                )
                rows.append({"feature": feature["name"], "value": label, "points": points})
        else:
            for level, points in feature["levels"].items():
                rows.append({"feature": feature["name"], "value": level, "points": points})
            rows.append(
                {"feature": feature["name"], "value": "(other)", "points": feature["other"]}
            )
        rows.append(
            {"feature": feature["name"], "value": "(missing)", "points": feature["missing"]}
        )
    rows.sort(key=lambda r: -abs(r["points"]))
    return rows[:limit]
