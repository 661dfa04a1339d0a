"""After `forget`, no file leadcli wrote holds the person: not their e-mail, name or phone,
nor a key derived from them (a Message-ID, a file name), whichever way they came in."""

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
    f"Yolanda,Y\u00e1rborough,yolanda@@broken,{PHONE},Yarb Holdings\n"  # rejected
)
VCF = (
    "BEGIN:VCARD\r\nVERSION:3.0\r\nUID:urn:uuid:yolanda-yarb-card-77\r\n"
    "N:Y\u00e1rborough;Yolanda;;;\r\nFN:Yolanda Y\u00e1rborough\r\n"
    f"EMAIL;TYPE=work:{WORK}\r\nTEL;TYPE=cell:{PHONE}\r\nORG:Yarb Holdings\r\nEND:VCARD\r\n"
    "BEGIN:VCARD\r\nVERSION:3.0\r\nUID:urn:uuid:zed-card-1\r\nN:Zeta;Zed;;;\r\n"
    "FN:Zed Zeta\r\nEMAIL:zed@zeta.example\r\nTITLE:Buyer\r\nEND:VCARD\r\n"
)

#: The person as bytes may spell them: UTF-8 (any case), accents folded (the search index),
#: JSON's ASCII escapes, the e-mail's local part alone (inside a Message-ID), the phone with
#: or without separators, and the vCard UID.
NEEDLES = (
    re.compile(rb"yolanda", re.IGNORECASE),
    re.compile("y\u00e1rborough".encode(), re.IGNORECASE),
    re.compile("Y\u00c1RBOROUGH".encode()),
    re.compile(rb"yarborough", re.IGNORECASE),
    re.compile(rb"y\\u00e1rborough", re.IGNORECASE),
    re.compile(rb"yarb", re.IGNORECASE),
    re.compile(rb"555\D{0,3}0199"),
    re.compile(rb"4155550199"),
)


def _ok(result) -> str:
    assert result.exit_code == 0, result.stderr
    return result.stdout


def _written(db: Path, out: Path) -> list[Path]:
    """Every file leadcli wrote: the database's folder (db, -wal, -shm, backups) and what it
    wrote beside the inputs (rejects files) and exports."""
    files = [p for p in db.parent.rglob("*") if p.is_file()]
    files += [p for p in out.rglob("*") if p.is_file() and p.name not in _INPUTS]
    return files


_INPUTS = {"y.eml", "people.csv", "yolanda-yarborough.vcf"}


def _count(db: Path, where: str) -> int:
    conn = sqlite3.connect(db)
    try:
        return conn.execute(f"SELECT count(*) FROM {where}").fetchone()[0]
    finally:
        conn.close()


def _holding(files: list[Path]) -> list[tuple[str, bytes]]:
    found = []
    for path in files:
        data = path.read_bytes()
        for needle in NEEDLES:
            match = needle.search(data)
            if match:
                found.append((path.name, data[max(0, match.start() - 30) : match.end() + 30]))
    return found


@pytest.fixture
def everywhere(cli, db_path: Path, tmp_path: Path) -> Path:
    """Yolanda captured from a message, imported from a CSV (beside a colleague sharing her
    phone, and a row of hers rejected) and from a vCard file named after her, her two
    leads merged by `dedupe --merge`, a third one merged by hand."""
    out = tmp_path / "in"
    out.mkdir()
    (out / "y.eml").write_text(EML, encoding="utf-8")
    (out / "people.csv").write_text(CSV, encoding="utf-8")
    (out / "yolanda-yarborough.vcf").write_text(VCF, encoding="utf-8")
    _ok(cli("add", "--first-name", "Zed", "--last-name", "Zeta", "--email", "zed@zeta.example"))
    _ok(cli("capture", str(out / "y.eml")))
    _ok(cli("import", str(out / "people.csv")))
    _ok(cli("import", str(out / "yolanda-yarborough.vcf")))
    assert _count(db_path, "possible_duplicates") == 1  # her two leads: a name and a phone
    _ok(cli("dedupe", "--merge", "--yes", "--min-score", "0.5"))
    added = _ok(
        cli("add", "--first-name", "Yolanda", "--email", "yolanda@home.example", "-f", "json")
    )
    third = json.loads(added)["id"]
    keep = next(
        lead["id"] for lead in json.loads(_ok(cli("list", "-f", "json"))) if lead["email"] == EMAIL
    )
    _ok(cli("merge", str(keep), str(third)))
    assert _count(db_path, "captured_messages WHERE key LIKE '<yolanda.yarb-123@%'") == 1
    assert _count(db_path, "merges") == 2
    # Before: she is in the database files, in a backup and in the rejects file.
    held = {name for name, _ in _holding(_written(db_path, out))}
    assert "people.rejects.csv" in held
    assert any(n.startswith("leads-") for n in held)
    return out


def test_forget_leaves_no_derived_key_in_any_file(cli, db_path: Path, everywhere: Path) -> None:
    leads = json.loads(_ok(cli("list", "-f", "json")))
    assert any(lead["email"] == EMAIL for lead in leads)
    report = json.loads(_ok(cli("forget", EMAIL, "--yes", "-f", "json")))
    assert report["compacted"] and not report["backups_failed"]
    _ok(cli("export", "-o", str(everywhere / "after.csv")))
    _ok(cli("export", "--vcf", "-o", str(everywhere / "after.vcf")))
    assert _holding(_written(db_path, everywhere)) == []
    # The others are still there, and the vCard batch can still be undone: Zed's title,
    # which it brought, is taken back.
    names = {lead["first_name"] for lead in json.loads(_ok(cli("list", "-f", "json")))}
    assert {"Zed", "Bob"} <= names
    batches = json.loads(_ok(cli("import", "list", "-f", "json")))
    assert [b["file_name"] for b in batches][-1] == "[erased].vcf"
    _ok(cli("import", "undo", str(batches[-1]["id"])))
    zed = [
        lead for lead in json.loads(_ok(cli("list", "-f", "json"))) if lead["first_name"] == "Zed"
    ]
    assert zed[0]["title"] in (None, "")


def test_capturing_the_message_again_brings_nothing_back(
    cli, db_path: Path, everywhere: Path
) -> None:
    _ok(cli("forget", EMAIL, "--yes"))
    result = cli("capture", str(everywhere / "y.eml"), "-f", "json")
    assert result.exit_code == 0, result.stderr
    assert not any(lead["email"] == EMAIL for lead in json.loads(_ok(cli("list", "-f", "json"))))
    assert _holding([db_path, *backup_dir(db_path).iterdir()]) == []
