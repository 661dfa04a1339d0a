"""After `forget`, no file leadcli wrote holds the person: not their e-mail, name or phone,
nor a key derived from them (a Message-ID, a vCard UID, a file name), whichever way they
came in (capture, CSV and vCard import, dedupe --merge, merge). Real processes on a temporary
database, as scripts and cron run leadcli; the raw bytes of every file are searched."""

from __future__ import annotations

import json
import re
import sqlite3
from pathlib import Path

import pytest

from leadcli.storage.paths import backup_dir

EMAIL = "yolanda.yarb@example.net"
WORK = "y.yarborough@work.example"
PHONE = "+1 415 555 0199"
EML = f"""From: Yolanda Y\u00e1rborough <{EMAIL}>
To: Me <me@consulting.example>
Subject: A quote for our offices
Date: Tue, 24 Nov 2026 09:12:00 +0100
Message-ID: <yolanda.yarb-123@example.net>
MIME-Version: 1.0
Content-Type: text/plain; charset=utf-8

Hello, could you send a quote? Call me on {PHONE}.

Yolanda
"""
CSV = (
    "First Name,Last Name,Email,Phone,Company\n"
    f"Yolanda,Y\u00e1rborough,{EMAIL},{PHONE},Yarb Holdings\n"
    "Bob,Other,bob@other.org,+1 415 555 0111,Other Inc\n"
    f"Yolanda,Y\u00e1rborough,yolanda@@broken,{PHONE},Yarb Holdings\n"  # hers, rejected
    "Carl,Keeper,carl@@broken,+1 415 555 0122,Keeper Co\n"  # his, rejected: stays listed
)
VCF = (
    "BEGIN:VCARD\r\nVERSION:3.0\r\nUID:urn:uuid:yolanda-yarb-card-77\r\n"
    "N:Y\u00e1rborough;Yolanda;;;\r\nFN:Yolanda Y\u00e1rborough\r\n"
    f"EMAIL;TYPE=work:{WORK}\r\nTEL;TYPE=cell:{PHONE}\r\nORG:Yarb Holdings\r\nEND:VCARD\r\n"
    "BEGIN:VCARD\r\nVERSION:3.0\r\nUID:urn:uuid:zed-card-1\r\nN:Zeta;Zed;;;\r\n"
    "FN:Zed Zeta\r\nEMAIL:zed@zeta.example\r\nTITLE:Buyer\r\nEND:VCARD\r\n"
    "BEGIN:VCARD\r\nVERSION:3.0\r\nUID:urn:uuid:quentin-card-9\r\nN:Quist;Quentin;;;\r\n"
    "FN:Quentin Quist\r\nEMAIL:quentin@@broken\r\nEND:VCARD\r\n"  # rejected: stays listed
)
_INPUTS = {"y.eml", "people.csv", "yolanda-yarborough.vcf"}

#: The person as text may spell them: the name (with and without its accent), the e-mail and
#: its local part (inside the Message-ID and the vCard UID: ``yolanda.yarb``, ``yarb``), the
#: phone as written, national and as E.164 digits.
WORDS = (
    "yolanda",
    "y\u00e1rborough",
    "yarborough",
    "yarb",
    EMAIL,
    "yolanda.yarb",
    WORK,
    PHONE,
    "415 555 0199",
    "+14155550199",
    "14155550199",
    "4155550199",
)


def _caseless(text: str, encoding: str) -> bytes:
    """A bytes pattern for ``text`` in ``encoding``, each letter in either case (re's
    IGNORECASE folds ASCII bytes only, not ``Á`` in UTF-8 nor any letter in UTF-16)."""
    parts = []
    for char in text:
        spellings = {char.lower().encode(encoding), char.upper().encode(encoding)}
        parts.append(b"(?:" + b"|".join(re.escape(s) for s in sorted(spellings)) + b")")
    return b"".join(parts)


NEEDLES = [
    re.compile(_caseless(word, encoding))
    for word in WORDS
    for encoding in ("utf-8", "utf-16-le", "utf-16-be")
] + [
    re.compile(rb"y\\u00e1rborough", re.IGNORECASE),  # JSON's ASCII escape
    re.compile(rb"555\D{0,3}0199"),  # the phone with any separators
]


def _ok(result) -> str:
    assert result.returncode == 0, result.stderr
    return result.stdout


def _written(db: Path, out: Path) -> list[Path]:
    """Every file leadcli wrote: the database's folder (db, -wal, -shm, backups) and what it
    wrote beside the inputs (rejects files) and the exports."""
    files = [p for p in db.parent.rglob("*") if p.is_file()]
    return files + [p for p in out.rglob("*") if p.is_file() and p.name not in _INPUTS]


def _holding(files: list[Path]) -> list[tuple[str, bytes]]:
    """(file, the bytes around it) for each needle found in a file, or in its name."""
    found = []
    for path in files:
        for data in (path.read_bytes(), path.name.encode()):
            for needle in NEEDLES:
                match = needle.search(data)
                if match:
                    found.append((path.name, data[max(0, match.start() - 30) : match.end() + 30]))
    return found


def _rows(db: Path, sql: str) -> list[tuple]:
    conn = sqlite3.connect(db)
    try:
        return conn.execute(sql).fetchall()
    finally:
        conn.close()


def _leads(proc) -> list[dict]:
    return json.loads(_ok(proc("list", "-f", "json")))


@pytest.fixture
def everywhere(proc, db_path: Path, tmp_path: Path) -> Path:
    """Yolanda captured from a message, imported from a CSV (a row of hers rejected beside
    Carl's) and from a vCard file named after her (with Zed's card, which gives his lead a
    title, and Quentin's, rejected), her two leads merged by `dedupe --merge`, a third merged
    into one by hand: she survives as the kept lead."""
    out = tmp_path / "in"
    out.mkdir()
    (out / "y.eml").write_text(EML, encoding="utf-8")
    (out / "people.csv").write_text(CSV, encoding="utf-8")
    (out / "yolanda-yarborough.vcf").write_text(VCF, encoding="utf-8")
    _ok(proc("add", "--first-name", "Zed", "--last-name", "Zeta", "--email", "zed@zeta.example"))
    _ok(proc("capture", str(out / "y.eml")))
    _ok(proc("import", str(out / "people.csv")))
    _ok(proc("import", str(out / "yolanda-yarborough.vcf")))
    assert _rows(db_path, "SELECT count(*) FROM possible_duplicates") == [(1,)]  # name + phone
    _ok(proc("dedupe", "--merge", "--yes", "--min-score", "0.5"))
    added = _ok(
        proc("add", "--first-name", "Yolanda", "--email", "yolanda@home.example", "-f", "json")
    )
    third = json.loads(added)["id"]
    keep = next(lead["id"] for lead in _leads(proc) if lead["email"] == EMAIL)
    _ok(proc("merge", str(keep), str(third)))
    assert _rows(db_path, "SELECT count(*) FROM captured_messages WHERE key LIKE '%yarb%'") == [
        (1,)
    ]
    assert _rows(db_path, "SELECT count(*) FROM merges") == [(2,)]
    # Before: she is in the database's files, in a backup and in both rejects files.
    held = {name for name, _ in _holding(_written(db_path, out))}
    assert {"people.rejects.csv", "yolanda-yarborough.rejects.csv"} <= held
    assert any(n.startswith("leads-") for n in held)
    return out


def _others_before(proc) -> dict[str, dict]:
    keep = ("first_name", "last_name", "email", "phone", "company", "title")
    return {
        lead["email"]: {k: lead[k] for k in keep}
        for lead in _leads(proc)
        if lead["email"] in ("bob@other.org", "zed@zeta.example")
    }


def test_forget_leaves_no_derived_key_in_any_file(proc, db_path: Path, everywhere: Path) -> None:
    others = _others_before(proc)
    assert len(others) == 2 and others["zed@zeta.example"]["title"] == "Buyer"
    report = json.loads(_ok(proc("forget", EMAIL, "--yes", "-f", "json")))
    assert report["leads"] == 1 and report["merged_records"] == 2
    assert report["compacted"] and report["backups_purged"] and not report["backups_failed"]
    _ok(proc("export", "-o", str(everywhere / "after.csv")))
    _ok(proc("export", "--vcf", "-o", str(everywhere / "after.vcf")))
    assert _holding(_written(db_path, everywhere)) == []
    # The others are intact, in the database and in the files around it.
    assert _others_before(proc) == others
    assert len(_leads(proc)) == 2
    rejects = (everywhere / "people.rejects.csv").read_text(encoding="utf-8")
    assert "carl@@broken" in rejects and "Keeper Co" in rejects
    batches = json.loads(_ok(proc("import", "list", "-f", "json")))
    assert [Path(b["file_name"]).name for b in batches] == ["people.csv", "[erased].vcf"]
    renamed = Path(batches[-1]["rejects_file"])
    assert renamed.name == f"erased-{batches[-1]['id']}.rejects.csv"
    assert "quentin@@broken" in renamed.read_text(encoding="utf-8")
    # The vCard batch, named [erased].vcf now, can still be undone: Zed's title, which it
    # brought, is taken back.
    _ok(proc("import", "undo", str(batches[-1]["id"])))
    zed = next(lead for lead in _leads(proc) if lead["email"] == "zed@zeta.example")
    assert zed["title"] in (None, "")


def test_capturing_the_message_again_brings_nothing_back(
    proc, db_path: Path, everywhere: Path
) -> None:
    _ok(proc("forget", EMAIL, "--yes"))
    _ok(proc("capture", str(everywhere / "y.eml"), "-f", "json"))
    assert not any(lead["email"] == EMAIL for lead in _leads(proc))
    assert _holding([db_path, *backup_dir(db_path).iterdir()]) == []


def test_a_database_held_open_keeps_nothing_in_its_wal_or_shm(
    proc, db_path: Path, everywhere: Path
) -> None:
    """Another program holding the database open (idle) keeps -wal and -shm on disk after
    `forget` exits: they are searched too."""
    watcher = sqlite3.connect(db_path)
    try:
        watcher.execute("SELECT count(*) FROM leads").fetchone()
        report = json.loads(_ok(proc("forget", EMAIL, "--yes", "-f", "json")))
        assert report["compacted"]
        files = _written(db_path, everywhere)
        assert {"leads.db-wal", "leads.db-shm"} <= {p.name for p in files}
        assert _holding(files) == []
    finally:
        watcher.close()
