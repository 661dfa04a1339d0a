"""`forget`: the person's bytes leave every file leadcli keeps, and they stay out."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from leadcli.storage.paths import backup_dir
from leadcli.storage.store import connect

EMAIL = "zelda.quasimodo@example.org"
SECOND = "zq.private@example.net"
PHONE = "+1 415 555 0199"
FILE = (
    "First Name,Last Name,Email,Phone,Company,Notes\n"
    f"Zelda,Quasimodo,{EMAIL},{PHONE},Acme,met at the fair\n"
    "Bob,Other,bob@other.org,+1 415 555 0111,Other Inc,\n"
)


def _json(result) -> dict:
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


def _files(db: Path) -> list[Path]:
    """Every file the database is made of, and its automatic backups."""
    files = [p for p in db.parent.iterdir() if p.is_file()]
    folder = backup_dir(db)
    if folder.is_dir():
        files += [p for p in folder.iterdir() if p.is_file()]
    return files


def _holding(db: Path, *needles: bytes) -> list[str]:
    return [
        p.name for p in _files(db) for needle in needles if needle.lower() in p.read_bytes().lower()
    ]


def _backup(db: Path, name: str = "leads-20261124T2200Z.db") -> Path:
    folder = backup_dir(db)
    folder.mkdir(mode=0o700, exist_ok=True)
    target = folder / name
    src, dst = sqlite3.connect(db), sqlite3.connect(target)
    src.backup(dst)
    src.close()
    dst.close()
    return target


@pytest.fixture
def worked(cli, db_path: Path, tmp_path: Path) -> Path:
    """Zelda imported, edited, merged with a second lead of hers, logged and searched, and
    an automatic backup taken: her e-mail is in history, the search index, a merge journal
    and the backup."""
    source = tmp_path / "leads.csv"
    source.write_text(FILE)
    assert _json(cli("import", str(source), "-f", "json"))["imported"] == 2
    assert cli("edit", "1", "--email", SECOND, "--notes", "prefers e-mail").exit_code == 0
    assert cli("add", "--first-name", "Zelda", "--email", EMAIL).exit_code == 0
    assert cli("merge", "1", "3").exit_code == 0
    assert cli("log", "1", "call", "talked to Zelda").exit_code == 0
    assert cli("followup", "1", "tomorrow 10:00", "send the offer").exit_code == 0
    found = _json(cli("list", "--search", "quasimodo", "-f", "json"))
    assert [lead["id"] for lead in found] == [1]
    _backup(db_path)
    # Before: the e-mail really is in the database's files and in the backup.
    assert "leads.db" in _holding(db_path, EMAIL.encode()) or "leads.db-wal" in _holding(
        db_path, EMAIL.encode()
    )
    assert "leads-20261124T2200Z.db" in _holding(db_path, EMAIL.encode())
    return source


def test_forget_leaves_no_byte_of_the_person_and_a_reimport_is_suppressed(
    cli, db_path: Path, worked: Path
) -> None:
    report = _json(cli("forget", EMAIL, "--yes", "-f", "json"))
    assert report["erased"] == [1]
    assert report["merged_records"] == 1  # lead 3, merged into 1
    assert report["backups_purged"] and not report["backups_failed"]
    # Name, both e-mails, the phone as stored, notes: in no file, backups included.
    needles = (EMAIL.encode(), SECOND.encode(), b"Quasimodo", b"+14155550199", b"the fair")
    assert _holding(db_path, *needles) == []
    # Bob is untouched, in the database and in the backup.
    assert [lead["id"] for lead in _json(cli("list", "-f", "json"))] == [2]
    backup = connect(next(backup_dir(db_path).iterdir()))
    assert [r[0] for r in backup.conn.execute("SELECT email FROM leads")] == ["bob@other.org"]
    backup.close()

    again = _json(cli("import", str(worked), "-f", "json"))
    assert again["suppressed"] == 1 and again["imported"] == 0
    assert again["rows"] == (
        again["imported"]
        + again["updated"]
        + again["duplicates"]
        + again["rejected"]
        + again["suppressed"]
    )
    # The suppressed row was never written, so its bytes are still nowhere.
    assert _holding(db_path, EMAIL.encode(), b"Quasimodo") == []
    assert cli("list", "--search", "quasimodo", "-q").stdout == ""


def test_history_keeps_one_erased_event_and_stays_append_only(cli, store, worked: Path) -> None:
    top = store.conn.execute("SELECT max(id) FROM history").fetchone()[0]
    assert cli("forget", "1", "--yes").exit_code == 0
    rows = store.conn.execute(
        "SELECT id, lead_id, event, changes FROM history WHERE lead_id IN (1, 3) ORDER BY id"
    ).fetchall()
    assert [(r["lead_id"], r["event"], r["changes"]) for r in rows] == [
        (1, "erased", None),
        (3, "erased", None),
    ]
    assert rows[0]["id"] > top  # ids never go back: "changed since" comparisons hold
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        store.conn.execute("DELETE FROM history WHERE lead_id = 1")
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        store.conn.execute("UPDATE history SET reason = 'x'")


def test_the_suppression_list_holds_no_address(cli, store, worked: Path) -> None:
    assert cli("forget", EMAIL, "--yes").exit_code == 0
    rows = store.conn.execute("SELECT digest, kind FROM suppression").fetchall()
    assert sorted(r["kind"] for r in rows) == ["email", "email", "phone"]
    assert all(len(r["digest"]) == 32 for r in rows)
    dump = "\n".join(store.conn.iterdump())
    assert "quasimodo" not in dump.lower() and "zq.private" not in dump


def test_add_of_a_forgotten_person_is_refused_unless_allowed(cli, worked: Path) -> None:
    assert cli("forget", EMAIL, "--yes").exit_code == 0
    refused = cli("add", "--first-name", "Z", "--email", EMAIL.upper())
    assert refused.exit_code == 1
    assert "suppression" in refused.stderr and EMAIL not in refused.stderr
    # Her old second address is suppressed too.
    assert cli("add", "--email", SECOND).exit_code == 1
    back = cli("add", "--first-name", "Zelda", "--email", EMAIL, "--allow-suppressed")
    assert back.exit_code == 0
    # The suppression of that address is lifted: she is a lead again like any other.
    assert cli("forget", back.stdout.strip(), "--yes").exit_code == 0
    assert cli("add", "--email", EMAIL, "--allow-suppressed").exit_code == 0
    assert cli("add", "--email", "someone.else@example.org").exit_code == 0


def test_import_allow_suppressed_brings_the_person_back_and_lifts(cli, worked: Path) -> None:
    assert cli("forget", EMAIL, "--yes").exit_code == 0
    back = _json(cli("import", str(worked), "--allow-suppressed", "--again", "-f", "json"))
    assert back["suppressed"] == 0 and back["imported"] == 1
    assert len(_json(cli("list", "--search", "quasimodo", "-f", "json"))) == 1
    assert cli("add", "--allow-duplicate", "--email", EMAIL).exit_code == 0  # no longer suppressed


def test_a_colleague_sharing_the_phone_is_not_suppressed(cli, tmp_path: Path) -> None:
    first = tmp_path / "a.csv"
    first.write_text(f"Email,Phone\n{EMAIL},{PHONE}\n")
    assert _json(cli("import", str(first), "-f", "json"))["imported"] == 1
    assert cli("forget", EMAIL, "--yes").exit_code == 0
    second = tmp_path / "b.csv"
    second.write_text(f"Email,Phone\ncolleague@example.org,{PHONE}\n,{PHONE}\n")
    summary = _json(cli("import", str(second), "-f", "json"))
    # Her phone alone stops the row without an e-mail; a colleague's own address passes.
    assert (summary["imported"], summary["suppressed"]) == (1, 1)


def test_a_shared_phone_is_refused_with_the_ids(cli) -> None:
    for email in ("a@example.org", "b@example.org"):
        assert cli("add", "--email", email, "--phone", PHONE).exit_code == 0
    result = cli("forget", PHONE, "--yes")
    assert result.exit_code == 1
    assert "2 leads (1, 2)" in result.stderr
    assert len(_json(cli("list", "-f", "json"))) == 2


def test_an_email_on_several_leads_erases_them_all(cli) -> None:
    assert (
        cli(
            "add", "--allow-duplicate", "--first-name", "Ana", "--email", "ana@example.org"
        ).exit_code
        == 0
    )
    assert (
        cli(
            "add", "--allow-duplicate", "--first-name", "Ana S", "--email", "ana@example.org"
        ).exit_code
        == 0
    )
    assert (
        cli("add", "--allow-duplicate", "--first-name", "Bo", "--email", "bo@example.org").exit_code
        == 0
    )
    report = _json(cli("forget", "ana@example.org", "--yes", "-f", "json"))
    assert report["erased"] == [1, 2]
    assert [lead["id"] for lead in _json(cli("list", "-f", "json"))] == [3]


def test_forget_asks_on_a_terminal_and_needs_yes_in_a_script(
    cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    from leadcli.cli import options

    assert cli("add", "--email", "ana@example.org").exit_code == 0
    script = cli("forget", "1")
    assert script.exit_code == 2 and "--yes" in script.stderr
    monkeypatch.setattr(options, "stdin_is_interactive", lambda: True)
    declined = cli("forget", "1", input="n\n")
    assert declined.exit_code == 1
    assert len(_json(cli("list", "-f", "json"))) == 1
    accepted = cli("forget", "1", input="y\n")
    assert accepted.exit_code == 0 and "Erased lead 1" in accepted.stdout
    assert _json(cli("list", "-f", "json")) == []


def test_unknown_person(cli) -> None:
    result = cli("forget", "nobody@example.org", "--yes")
    assert result.exit_code == 1 and "no lead matches" in result.stderr


def test_rejects_files_lose_the_persons_rows(cli, tmp_path: Path) -> None:
    (tmp_path / "hers.csv").write_text(f"First Name,Email,Phone\nZelda,{EMAIL},{PHONE}\n")
    assert cli("import", str(tmp_path / "hers.csv")).exit_code == 0
    source = tmp_path / "in.csv"  # another import, which rejected a row of hers
    source.write_text(
        "First Name,Email,Phone\n"
        "Zelda,not-an-address,(415) 555-0199\n"
        "Bob,also-bad,+1 415 555 0111\n"
    )
    summary = _json(cli("import", str(source), "-f", "json"))
    rejects = tmp_path / "in.rejects.csv"
    assert summary["rejected"] == 2 and "555-0199" in rejects.read_text()
    report = _json(cli("forget", EMAIL, "--yes", "-f", "json"))
    assert report["rejects_scrubbed"] == [str(rejects)]
    text = rejects.read_text()
    assert "555-0199" not in text and "also-bad" in text


def test_forget_in_a_real_process(proc, db_path: Path, tmp_path: Path) -> None:
    source = tmp_path / "leads.csv"
    source.write_text(FILE)
    assert proc("import", str(source)).returncode == 0
    done = proc("forget", EMAIL, "--yes", "-f", "json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["erased"] == [1]
    assert _holding(db_path, EMAIL.encode(), b"Quasimodo") == []


def test_a_rejects_file_not_found_is_listed_to_check(
    cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "in.csv").write_text(
        f"First Name,Email,Phone\nZelda,{EMAIL},{PHONE}\nBo,bad-address,+1 415 555 0111\n"
    )
    monkeypatch.chdir(tmp_path)
    assert cli("import", "in.csv").exit_code == 0  # the rejects file recorded relative to here
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    report = _json(cli("forget", EMAIL, "--yes", "-f", "json"))
    assert report["rejects_scrubbed"] == []
    assert report["rejects_to_check"] == ["in.rejects.csv"]


def test_her_address_in_another_leads_history_is_replaced(cli, db_path: Path, store) -> None:
    assert cli("add", "--first-name", "Zelda", "--email", EMAIL).exit_code == 0
    assert cli("add", "--first-name", "Bob", "--email", "bob@other.org").exit_code == 0
    # A slip: her address typed on Bob's lead, then corrected.
    assert cli("edit", "2", "--email", EMAIL).exit_code == 0
    assert cli("edit", "2", "--email", "bob@other.org").exit_code == 0
    report = _json(cli("forget", "1", "--yes", "-f", "json"))
    assert report["erased"] == [1] and report["counts"]["scrubbed"] == 2
    assert _holding(db_path, EMAIL.encode()) == []
    changes = [
        json.loads(r[0])
        for r in store.conn.execute(
            "SELECT changes FROM history WHERE lead_id = 2 AND event = 'edited' ORDER BY id"
        )
    ]
    assert changes == [
        {"email": ["bob@other.org", "[erased]"]},
        {"email": ["[erased]", "bob@other.org"]},
    ]
