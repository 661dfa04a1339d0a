"""How well does `leadcli model train` predict who becomes a customer, against scikit-learn?

On two real data sets (../shared/datasets): X Education's Leads.csv (leaving out the
columns the sales team filled in after contact: Tags, Lead Quality, Lead Profile, Last
Notable Activity, Asymmetrique *; Converted 1 = customer, 0 = lost) and UCI bank-marketing
(leaving out duration, known only after the call; y). Each is split 70/30 with
``numpy.random.RandomState(0).permutation``. The 70 % is imported with its outcomes (a
``stage`` column, customer or lost), the model is trained, the 30 % is imported as open
leads and scored THROUGH THE CLI (`score --model predictive`), and the held-out AUC of the
stored ``win_probability`` is printed beside scikit-learn's LogisticRegression (one-hot
categories, empty and "Select" as missing, standardised numbers) and
HistGradientBoostingClassifier, measured in the same run on the same split. Then the same
with only 200, 500 and 1,000 closed training leads (the first of the permuted 70 %).

Rows get a generated ``external_id`` (bank rows have no name, e-mail, phone or company,
which an import needs to tell leads apart); it is not a feature.

    pip install -e ".[bench]"
    python benchmarks/scoring_quality.py [--sizes 200,500,1000] [--only leads|bank]
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from _common import leadcli_command

SHARED = Path(__file__).resolve().parent.parent.parent / "shared" / "datasets"
PLACEHOLDERS = {"", "select", "n/a", "na", "none", "null", "nan", "unknown"}


def _load(name: str) -> tuple[list[str], list[list[str]], list[int]]:
    """Header, rows (outcome and leaking columns removed) and outcomes (1 = customer)."""
    if name == "leads":
        path = SHARED / "x-education" / "Leads.csv"
        with open(path, newline="", encoding="utf-8") as handle:
            reader = csv.reader(handle)
            header = next(reader)
            rows = list(reader)
        leaking = {"Tags", "Lead Quality", "Lead Profile", "Last Notable Activity"}
        drop = {
            i
            for i, h in enumerate(header)
            if h in leaking or h.startswith("Asymmetrique") or h == "Converted"
        }
        outcome = header.index("Converted")
        y = [int(r[outcome]) for r in rows]
    else:
        path = SHARED / "bank-marketing" / "bank-additional-full.csv"
        with open(path, newline="", encoding="utf-8") as handle:
            reader = csv.reader(handle, delimiter=";")
            header = next(reader)
            rows = list(reader)
        drop = {header.index("duration"), header.index("y")}
        y = [1 if r[header.index("y")] == "yes" else 0 for r in rows]
    keep = [i for i in range(len(header)) if i not in drop]
    return [header[i] for i in keep], [[r[i] for i in keep] for r in rows], y


def _write_csv(path: Path, header: list[str], rows, ids, outcomes=None) -> None:
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        extra = ["external_id"] + (["stage"] if outcomes is not None else [])
        writer.writerow(extra + header)
        for k, (i, row) in enumerate(zip(ids, rows, strict=True)):
            cells = [f"row-{i}"]
            if outcomes is not None:
                cells.append("customer" if outcomes[k] else "lost")
            writer.writerow(cells + row)


def _run(db: Path, *args: str) -> str:
    result = subprocess.run(
        [*leadcli_command(), "--db", str(db), *args],
        capture_output=True,
        text=True,
        env={**os.environ, "LEADCLI_CONFIG": str(db.parent / "config.toml")},
    )
    if result.returncode != 0:
        raise SystemExit(f"leadcli {' '.join(args)} failed: {result.stderr.strip()}")
    return result.stdout


def leadcli_auc(header, rows, y, train_idx, test_idx, work: Path) -> tuple[float, str, float]:
    """Held-out AUC of leadcli's model, trained and scored through the CLI."""
    from sklearn.metrics import roc_auc_score

    db = work / "leads.db"
    for suffix in ("", "-wal", "-shm"):
        Path(str(db) + suffix).unlink(missing_ok=True)
    train_csv, test_csv = work / "train.csv", work / "test.csv"
    _write_csv(
        train_csv, header, [rows[i] for i in train_idx], train_idx, [y[i] for i in train_idx]
    )
    _write_csv(test_csv, header, [rows[i] for i in test_idx], test_idx)
    _run(db, "import", str(train_csv), "-f", "json")
    start = time.perf_counter()
    trained = json.loads(_run(db, "model", "train", "-f", "json"))
    seconds = time.perf_counter() - start
    _run(db, "import", str(test_csv), "-f", "json")
    _run(db, "score", "--model", "predictive", "-f", "json")
    probability: dict[str, float] = {}
    for line in _run(db, "list", "--stage", "prospect", "-f", "jsonl").splitlines():
        record = json.loads(line)
        probability[record["external_id"]] = record["win_probability"]
    scores = [probability[f"row-{i}"] for i in test_idx]
    return roc_auc_score([y[i] for i in test_idx], scores), trained["form"], seconds


def _matrix(header, rows):
    """Numbers as numbers (missing as NaN), the rest as categories (placeholders missing)."""
    columns = list(zip(*rows, strict=True))
    kinds = []
    for column in columns:
        present = [v for v in column if v.strip().lower() not in PLACEHOLDERS]
        try:
            [float(v) for v in present]
            kinds.append("number")
        except ValueError:
            kinds.append("category")
    return columns, kinds


def sklearn_aucs(header, rows, y, train_idx, test_idx) -> tuple[float, float]:
    from sklearn.compose import ColumnTransformer
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.impute import SimpleImputer
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import roc_auc_score
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder, OrdinalEncoder, StandardScaler

    columns, kinds = _matrix(header, rows)
    identifiers = {h for h in header if h in ("Prospect ID", "Lead Number")}
    num = [i for i, k in enumerate(kinds) if k == "number" and header[i] not in identifiers]
    cat = [i for i, k in enumerate(kinds) if k == "category" and header[i] not in identifiers]
    x = np.empty((len(rows), len(num) + len(cat)), dtype=object)
    for j, i in enumerate(num):
        x[:, j] = [
            float(v) if v.strip().lower() not in PLACEHOLDERS else np.nan for v in columns[i]
        ]
    for j, i in enumerate(cat):
        x[:, len(num) + j] = [
            "__missing__" if v.strip().lower() in PLACEHOLDERS else v for v in columns[i]
        ]
    yy = np.array(y)
    nums = list(range(len(num)))
    cats = list(range(len(num), len(num) + len(cat)))
    lr = make_pipeline(
        ColumnTransformer(
            [
                ("n", make_pipeline(SimpleImputer(), StandardScaler()), nums),
                ("c", OneHotEncoder(handle_unknown="ignore"), cats),
            ]
        ),
        LogisticRegression(max_iter=2000),
    )
    lr.fit(x[train_idx], yy[train_idx])
    lr_auc = roc_auc_score(yy[test_idx], lr.predict_proba(x[test_idx])[:, 1])
    hgb = make_pipeline(
        ColumnTransformer(
            [
                ("n", "passthrough", nums),
                (
                    "c",
                    OrdinalEncoder(handle_unknown="use_encoded_value", unknown_value=-1),
                    cats,
                ),
            ]
        ),
        HistGradientBoostingClassifier(
            categorical_features=list(range(len(nums), len(nums) + len(cats))), random_state=0
        ),
    )
    hgb.fit(x[train_idx], yy[train_idx])
    hgb_auc = roc_auc_score(yy[test_idx], hgb.predict_proba(x[test_idx])[:, 1])
    return lr_auc, hgb_auc


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="200,500,1000")
    parser.add_argument("--only", choices=["leads", "bank"])
    args = parser.parse_args()
    if not SHARED.exists():
        print("../shared/datasets is not present; nothing to measure")
        return 0
    sizes = [int(s) for s in args.sizes.split(",") if s]
    names = [args.only] if args.only else ["leads", "bank"]
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        for name in names:
            header, rows, y = _load(name)
            order = np.random.RandomState(0).permutation(len(rows))
            cut = round(0.7 * len(rows))
            train_idx, test_idx = list(order[:cut]), list(order[cut:])
            print(
                f"{name}: {len(rows):,} rows, train {len(train_idx):,}, held out {len(test_idx):,}"
            )
            for size in [None, *sizes]:
                part = train_idx if size is None else train_idx[:size]
                ours, form, seconds = leadcli_auc(header, rows, y, part, test_idx, work)
                lr, hgb = sklearn_aucs(header, rows, y, part, test_idx)
                label = "all" if size is None else f"{size:,}"
                print(
                    f"  train {label:>6}: leadcli {ours:.4f} ({form}, trained in {seconds:.1f} s)"
                    f"  LogisticRegression {lr:.4f}  HistGradientBoosting {hgb:.4f}"
                )
    return 0


if __name__ == "__main__":
    sys.exit(main())
