"""A refused bulk command writes nothing, no backup included; rotation spares each kind."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from leadcli.errors import LeadcliError
from leadcli.identity.merge import merge_leads, undo_merge
from leadcli.importing.undo import undo_batch
from leadcli.leads.records import add_lead
from leadcli.privacy import backups
from leadcli.privacy.erasure import forget
from leadcli.storage.store import Store


def _files(db: Path) -> dict[str, int]:
    """Every file in the database's folder (backups included), with its size."""
    return {
        str(p.relative_to(db.parent)): p.stat().st_size
        for p in sorted(db.parent.rglob("*"))
        if p.is_file()
    }


def _listed(cli) -> list[dict]:
    result = cli("backup", "list", "-f", "json")
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


REFUSED = (
    ("import", "undo", "999"),  # no such batch
    ("merge", "1", "1"),  # into itself
    ("merge", "1", "999"),  # no such lead
    ("merge", "3", "2"),  # 2 was merged into 1
    ("merge", "undo", "999"),  # no such merge
    ("forget", "nobody@example.com", "--yes"),  # no such person
)


def test_six_refused_commands_leave_the_pre_merge_backup_and_write_no_file(cli, db_path) -> None:
    for name in ("Ana", "Bob", "Cy"):
        assert (
            cli("add", "--first-name", name, "--email", f"{name.lower()}@acme.com").exit_code == 0
        )
    merged = cli("merge", "1", "2")
    assert merged.exit_code == 0, merged.stderr
    before = _listed(cli)
    assert [b["reason"] for b in before] == ["merge"]
    files = _files(db_path)
    for args in REFUSED:
        result = cli(*args)
        assert result.exit_code != 0, args
        assert "Backed up" not in result.stderr, args
        assert _files(db_path) == files, args  # not a byte more: no backup, no file
    assert cli("config", "set", "backup.keep", "5").exit_code == 0
    for args in REFUSED:  # twelve refusals in all, keep = 5
        assert cli(*args).exit_code != 0
    assert _listed(cli) == before  # the restore point from before the merge is still there


def test_a_dedupe_merge_whose_pairs_are_all_skipped_takes_no_backup(
    cli, db_path, monkeypatch
) -> None:
    from leadcli.cli import options

    for _ in range(2):
        cli(
            "add",
            "--allow-duplicate",
            "--first-name",
            "Ana",
            "--last-name",
            "Silva",
            "--email",
            "ana@acme.com",
        )
    monkeypatch.setattr(options, "stdin_is_interactive", lambda: True)
    result = cli("dedupe", "--merge", input="s\n")
    assert result.exit_code == 0, result.stderr
    assert "0 merges done" in result.stderr
    assert _listed(cli) == []
    result = cli("dedupe", "--merge", input="l\n")  # the first merge done takes it
    assert [b["reason"] for b in _listed(cli)] == ["dedupe"]


def test_each_kind_keeps_its_newest_backup(cli, db_path, tmp_path) -> None:
    """Five real `import undo` runs with backup.keep = 2 leave the one merge backup."""
    assert cli("config", "set", "backup.keep", "2").exit_code == 0
    for name in ("Ana", "Bob"):
        cli("add", "--first-name", name, "--email", f"{name.lower()}@acme.com")
    assert cli("merge", "1", "2").exit_code == 0
    merge_backup = _listed(cli)[0]
    for n in range(5):
        csv = tmp_path / f"more{n}.csv"
        csv.write_text(f"Name,Email\nDee Dent,dee{n}@zeta.com\n")
        assert cli("import", str(csv)).exit_code == 0
        assert cli("import", "undo", str(n + 1)).exit_code == 0
    listed = _listed(cli)
    assert [b["reason"] for b in listed] == ["merge", "import-undo", "import-undo"]
    assert listed[0] == merge_backup


def test_prune_keeps_the_newest_of_each_kind(store: Store, db_path: Path) -> None:
    taken = [backups.take_backup(store, reason) for reason in ("forget", "merge", "merge")]
    taken += [backups.take_backup(store, "import-undo") for _ in range(3)]
    removed = backups.prune(db_path, keep=2)
    left = [b.path for b in backups.list_backups(db_path)]
    assert left == [taken[0].path, taken[2].path, taken[4].path, taken[5].path]
    assert sorted(removed) == sorted([taken[1].path, taken[3].path])


class _Recorder:
    """A ``before_write`` that notes whether it ran inside the write transaction and what
    the committed database held then (what a backup would copy)."""

    def __init__(self) -> None:
        self.calls: list[tuple[bool, int]] = []

    def __call__(self, store: Store) -> None:
        import sqlite3

        other = sqlite3.connect(store.path)
        try:
            leads = other.execute("SELECT count(*) FROM leads").fetchone()[0]
        finally:
            other.close()
        self.calls.append((store.conn.in_transaction, leads))


@pytest.mark.parametrize(
    "refused",
    [
        lambda s, b: undo_batch(s, 999, before_write=b),
        lambda s, b: merge_leads(s, 1, [999], before_write=b),
        lambda s, b: merge_leads(s, 1, [1], before_write=b),
        lambda s, b: undo_merge(s, 999, before_write=b),
        lambda s, b: forget(s, "nobody@example.com", before_write=b),
    ],
)
def test_the_core_calls_before_write_only_after_its_checks(store: Store, refused) -> None:
    add_lead(store, {"first_name": "Ana", "email": "ana@acme.com"})
    recorder = _Recorder()
    with pytest.raises(LeadcliError):
        refused(store, recorder)
    assert recorder.calls == []


def test_before_write_runs_under_the_lock_on_the_state_before(store: Store) -> None:
    for name in ("Ana", "Bob"):
        add_lead(store, {"first_name": name, "email": f"{name.lower()}@acme.com"})
    recorder = _Recorder()
    merge_leads(store, 1, [2], dry_run=True, before_write=recorder)  # a dry run writes nothing
    merge_leads(store, 1, [2], before_write=recorder)
    with pytest.raises(LeadcliError):
        merge_leads(store, 1, [2], before_write=recorder)
    undo_merge(store, 1, before_write=recorder)
    forget(store, "ana@acme.com", before_write=recorder)
    assert recorder.calls == [(True, 2), (True, 1), (True, 2)]
