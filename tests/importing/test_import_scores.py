"""An import scores the leads it creates as it inserts them: the scores, ratings and win
probabilities it stores must be exactly what a separate rescore of the same leads gives, for
rules (tag rules included), a model and a blend, for rows merged into older leads and into
earlier rows of the same file, in a small load and a bulk one."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

from leadcli.engagement.activities import log
from leadcli.importing import loader, worker
from leadcli.leads.records import add_lead
from leadcli.scoring import model, rules
from leadcli.scoring.apply import Scorer, explain, rescore
from leadcli.storage.store import Store

#: The shipped rules (tag, source, custom and activity rules, caps) and some that read other
#: columns a file fills or leaves to the table's defaults.
RULES = (
    rules.DEFAULT_RULES.read_text(encoding="utf-8")
    + """
[[rule]]
name = "closed won"
group = "fit"
points = 12
field = "stage"
equals = ["customer"]

[[rule]]
name = "big deal"
group = "fit"
points = 9
field = "value"
min = 1000

[[rule]]
name = "acme people"
group = "fit"
points = 7
field = "email_domain"
equals = ["acme.com"]

[[rule]]
name = "visited often"
group = "engagement"
points = 11
field = "custom.Visits"
min = 10

[[rule]]
name = "vip"
group = "fit"
points = 13
field = "tags"
equals = ["vip"]

[[rule]]
name = "allowed to contact"
group = "fit"
points = 3
field = "do_not_contact"
equals = ["false"]

[[rule]]
name = "no website"
group = "fit"
points = 2
field = "website"
present = false
"""
)


def _trained(store: Store) -> dict:
    """A model over closed leads whose source, a custom number and a tag decide (noisily)
    whether they became customers: its features read a column, a custom field and a tag."""
    rng = random.Random(3)
    rows, tagged = [], []
    for i in range(400):
        source = rng.choice(["referral", "web", "ads"])
        visits = rng.randint(0, 20)
        vip = rng.random() < 0.3
        odds = {"referral": 1.5, "web": 0.0, "ads": -1.0}[source] + (visits - 10) / 4
        won = rng.random() < 1 / (1 + pow(2.718, -(odds + (2 if vip else 0))))
        custom = json.dumps({"Visits": str(visits)})
        rows.append((i + 1, source, custom, "customer" if won else "lost"))
        if vip:
            tagged.append((i + 1, "vip"))
    with store.write() as conn:
        conn.executemany(
            "INSERT INTO leads (id, first_name, source, custom, stage, created_at, updated_at) "
            "VALUES (?, 'Closed', ?, ?, ?, '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z')",
            rows,
        )
        conn.executemany("INSERT INTO lead_tags (lead_id, tag) VALUES (?, ?)", tagged)
    trained = model.train(store, folds=3)
    sources = [f["source"]["from"] for f in trained["model"]["features"]]
    assert "tag" in sources and "custom" in sources and "column" in sources
    return model.load(store)


HEADER = "First Name,Last Name,Email,Company,Lead Source,Lead Status,Amount,Visits,Tags\n"


def _row(i: int, rng: random.Random) -> str:
    tags = rng.choice(["", "vip", "demo", "vip;chat", "newsletter", "Registered"])
    source = rng.choice(["referral", "web", "ads", "chat", "demo form", ""])
    status = rng.choice(["New", "Working - Contacted", "Closed - Converted", "Closed - Lost"])
    amount = rng.choice(["", "500", "2500", "n/a"])
    domain = "acme.com" if i % 2 else "example.org"
    return (
        f"Ann{i},Lee{i},ann{i}@{domain},Co{i % 7},{source},{status},{amount},"
        f"{rng.randint(0, 20)},{tags}\n"
    )


def _file(path: Path, rows: int, seed: int = 5) -> Path:
    """Rows of new people, an older lead again (merged into it), and earlier rows of this
    file again with more to say (merged into the lead the earlier row became)."""
    rng = random.Random(seed)
    lines = [_row(i, rng) for i in range(rows)]
    # The older lead (added below) again, with a tag and a title it did not have.
    lines.append("Old,Timer,old@acme.com,Acme,web,Working - Contacted,3000,15,vip;demo\n")
    # Earlier rows again: the new leads they became gain tags, an amount, a close.
    lines.append("Ann1,Lee1,ann1@acme.com,Co1,,,,,vip;trial\n")
    lines.append("Ann2,Lee2,ann2@example.org,Co2,,Closed - Converted,9000,,chat\n")
    lines.append("Ann2,Lee2,ann2@example.org,Co2,,,,,cart\n")
    path.write_text(HEADER + "".join(lines), encoding="utf-8")
    return path


def _scorer(mode: str, store: Store) -> Scorer:
    ruleset = rules.parse(RULES, "test rules")
    stored = _trained(store) if mode != "rules" else None
    return Scorer(mode=mode, rules=ruleset, model=stored)


def _scores(store: Store) -> dict[int, tuple]:
    return {
        row[0]: tuple(row[1:])
        for row in store.conn.execute(
            "SELECT id, score, rating, win_probability FROM leads ORDER BY id"
        )
    }


def _rating_events(store: Store) -> int:
    return store.conn.execute("SELECT count(*) FROM history WHERE event = 'rating'").fetchone()[0]


@pytest.mark.parametrize(
    ("mode", "rows"),
    [("rules", 60), ("predictive", 60), ("blend", 60), ("rules", 3000), ("blend", 3000)],
)
def test_imported_scores_are_a_rescores(store: Store, tmp_path: Path, monkeypatch, mode, rows):
    """3,000 rows: loaded as a big file is (indexes dropped, rows converted by the worker)."""
    monkeypatch.setattr(worker, "PARALLEL_MIN_BYTES", 0)
    monkeypatch.setattr(loader, "BULK_MIN_BYTES", 100_000)
    scorer = _scorer(mode, store)
    old = add_lead(store, {"first_name": "Old", "last_name": "Timer", "email": "old@acme.com"})
    log(store, old, "email", "asked for a demo", inbound=True)
    rescore(store, scorer, [old])
    events = _rating_events(store)
    path = _file(tmp_path / "leads.csv", rows)
    assert (path.stat().st_size >= loader.BULK_MIN_BYTES) == (rows > 1000)
    options = loader.ImportOptions(
        scorer=scorer, tags=["fair"], rejects=tmp_path / "r.csv", parallel=rows > 1000
    )
    summary = loader.import_file(store, str(path), options)
    assert summary.duplicates + summary.updated == 4 and summary.updated >= 3
    imported = _scores(store)
    first, last = store.conn.execute(
        "SELECT first_lead_id, last_lead_id FROM import_batches WHERE id = ?", (summary.batch,)
    ).fetchone()
    assert all(imported[i][0] is not None for i in range(first, last + 1) if i in imported)
    # The older lead's rating changed through the merge; fresh leads record no rating event.
    new_events = _rating_events(store) - events
    assert new_events <= 1
    assert (
        store.conn.execute(
            "SELECT count(*) FROM history WHERE event = 'rating' AND lead_id >= ?", (first,)
        ).fetchone()[0]
        == 0
    )
    # Every lead scored again, apart: nothing changes.
    touched = [old, *(i for i in imported if i >= first)]
    assert len(touched) == summary.imported + 1
    again = rescore(store, scorer, touched)
    assert again.scored == len(touched)
    assert again.changed == 0 and again.ratings_changed == 0
    assert _scores(store) == imported
    # The merged rows counted: the earlier rows gained points from what was merged in.
    merged = store.conn.execute(
        "SELECT id FROM leads WHERE email IN ('ann1@acme.com', 'ann2@example.org')"
    ).fetchall()
    assert len(merged) == 2
    for (lead,) in merged:
        assert explain(store, scorer, lead)["score"] == imported[lead][0]
        tags = {
            t for (t,) in store.conn.execute("SELECT tag FROM lead_tags WHERE lead_id = ?", (lead,))
        }
        assert tags & {"vip", "chat", "cart", "trial"}


def test_a_tag_rule_sees_the_tags_of_the_row_it_scores(store: Store, tmp_path: Path):
    """Tags (from the file and --tag) are in place when the lead's score is computed."""
    scorer = Scorer(mode="rules", rules=rules.parse(RULES, "test rules"))
    path = tmp_path / "leads.csv"
    path.write_text("email,tags\na@x.org,vip\nb@x.org,\n", encoding="utf-8")
    options = loader.ImportOptions(scorer=scorer, tags=["Demo"], rejects=tmp_path / "r.csv")
    loader.import_file(store, str(path), options)
    scores = dict(store.conn.execute("SELECT email, score FROM leads").fetchall())
    # demo (45, engagement), vip (13, fit), allowed to contact (3), no website (2)
    assert scores == {"a@x.org": 45 + 13 + 3 + 2, "b@x.org": 45 + 3 + 2}


def test_a_dry_run_scores_nothing_and_keeps_nothing(store: Store, tmp_path: Path):
    scorer = Scorer(mode="rules", rules=rules.parse(RULES, "test rules"))
    path = tmp_path / "leads.csv"
    path.write_text("email,tags\na@x.org,vip\n", encoding="utf-8")
    options = loader.ImportOptions(scorer=scorer, dry_run=True, rejects=tmp_path / "r.csv")
    assert loader.import_file(store, str(path), options).imported == 1
    assert store.conn.execute("SELECT count(*) FROM leads").fetchone()[0] == 0
    assert store.conn.execute("SELECT count(*) FROM lead_tags").fetchone()[0] == 0
