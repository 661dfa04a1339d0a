"""capture end to end: the summary a script reads, stdin as a mail filter pipes it, data
shown literally, and a created lead that `due` lists from the time the person wrote."""

from __future__ import annotations

import json
from pathlib import Path

from tests.capture.mail import AUTO_REPLY, INQUIRY, NEWSLETTER, REPLY, TEXT_FORM, eml, mbox
from tests.conftest import REPO

EXAMPLES = REPO / "examples" / "mail"
HOSTILE = eml(
    sender='"[bold red]Eve\x1b[2J" <eve@evil.example>',
    subject="\x1b]0;pwned\x07 [link=http://x]click[/link]",
    message_id="<hostile@evil.example>",
    body="hello \x1b[31mred\n",
)


def test_json_accounts_for_every_message(cli, tmp_path: Path) -> None:
    box = mbox(tmp_path / "inbox", [INQUIRY, TEXT_FORM, AUTO_REPLY, NEWSLETTER, REPLY])
    result = cli("capture", str(box), "-f", "json")
    assert result.exit_code == 0, result.stderr
    out = json.loads(result.stdout)
    assert out["messages"] == 5
    assert (out["created"], out["matched"], out["skipped"], out["failed"]) == (2, 1, 2, 0)
    assert out["skipped_reasons"] == {"auto-reply": 1, "bulk or list mail": 1}
    assert out["lead_ids"] == [1, 2]
    assert "Captured 5 messages" in result.stderr
    again = json.loads(cli("capture", str(box), "-f", "json").stdout)
    assert (again["created"], again["matched"]) == (0, 0)
    assert again["skipped_reasons"]["already captured"] == 3


def test_the_examples_capture_as_the_readme_says(cli) -> None:
    files = sorted(str(p) for p in EXAMPLES.glob("*.eml"))
    result = cli("capture", *files, "--dry-run", "-f", "json")
    out = json.loads(result.stdout)
    assert (out["created"], out["skipped"], out["dry_run"]) == (3, 1, True)
    assert json.loads(cli("list", "-f", "json").stdout) == []
    assert cli("capture", *files, "-q").stdout.split() == ["1", "2", "3"]


def test_stdin_takes_one_message_from_a_mail_filter(proc) -> None:
    data = b"From MAILER-DAEMON Tue Nov 24 10:00:00 2026\n" + TEXT_FORM
    result = proc("capture", "-", "-f", "json", input=data, text=False)
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout)
    assert out["created"] == 1
    lead = json.loads(proc("show", str(out["lead_ids"][0]), "-f", "json").stdout)
    assert (lead["email"], lead["company"]) == ("bruno.stone@globex.example", "Globex")


def test_a_created_lead_is_dated_by_its_message_and_due(cli, monkeypatch) -> None:
    monkeypatch.setenv("LEADCLI_NOW", "2026-11-24T12:00:00Z")
    cli("capture", "-", input=INQUIRY.decode())
    lead = json.loads(cli("show", "1", "-f", "json").stdout)
    assert lead["created_at"] == "2026-11-24T08:12:00Z"  # Date: 09:12 +0100
    due = json.loads(cli("due", "-f", "json").stdout)["items"]
    # overdue from one hour (the speed-to-lead SLA) after Ana wrote, not after the capture
    assert [(d["lead_id"], d["kind"], d["detail"], d["due_at"]) for d in due] == [
        (1, "new_lead", "not contacted yet", "2026-11-24T09:12:00Z")
    ]


def test_hostile_names_and_subjects_are_shown_literally(cli, tmp_path: Path) -> None:
    path = tmp_path / "hostile.eml"
    path.write_bytes(HOSTILE)
    result = cli("capture", str(path))
    # Markup shown as text; the escape dropped on the way in, as import, add and edit do.
    assert "[bold red]Eve[2J" in result.stdout
    shown = cli("show", "1")
    for output in (result.stdout, result.stderr, shown.stdout, shown.stderr):
        assert "\x1b" not in output and "\x07" not in output
    assert "[link=http://x]click[/link]" in shown.stdout
    records = json.loads(cli("capture", str(path), "-f", "json").stdout)["results"]
    assert records[0]["name"] == "[bold red]Eve[2J"
    lead = json.loads(cli("show", "1", "-f", "json").stdout)
    assert "\x1b" not in lead["first_name"] + lead["last_name"]
    assert not [a for a in lead.get("activities", []) if "\x1b" in (a.get("note") or "")]


def test_own_addresses_from_the_config_are_skipped(cli) -> None:
    cli("config", "set", "capture.own_addresses", "@acme.example")
    out = json.loads(cli("capture", "-", "-f", "json", input=INQUIRY.decode()).stdout)
    assert out["skipped_reasons"] == {"own address": 1}


def test_a_missing_path_changes_nothing(cli, tmp_path: Path) -> None:
    good = tmp_path / "one.eml"
    good.write_bytes(INQUIRY)
    result = cli("capture", str(good), str(tmp_path / "missing.mbox"))
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: there is no file or folder")
    assert json.loads(cli("list", "-f", "json").stdout) == []


def test_a_forgotten_person_writing_again_is_suppressed_not_captured(cli, tmp_path) -> None:
    """forget's promise reaches capture: the person's next e-mail is counted, not a lead."""
    first = json.loads(cli("capture", "-", "-f", "json", input=INQUIRY.decode()).stdout)
    (lead,) = first["lead_ids"]
    email = json.loads(cli("show", str(lead), "-f", "json").stdout)["email"]
    assert cli("forget", email, "--yes").exit_code == 0
    again = eml(
        sender=f"Someone <{email}>",
        subject="Me again",
        message_id="<again@example.com>",
        body="Could you send the price list?\n",
    )
    out = json.loads(cli("capture", "-", "-f", "json", input=again.decode()).stdout)
    assert (out["created"], out["skipped_reasons"]) == (0, {"suppressed": 1})
    assert json.loads(cli("list", "-f", "json").stdout) == []
