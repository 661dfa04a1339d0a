"""Hostile lead data against every command that prints it: nothing reaches the terminal, a
file or another program as Rich markup or as a control character, and CSV neutralises
formulas. The data is written straight into the database, as a leadcli from before input
cleaning (or a foreign tool) would have left it; one test imports it through the front door.

The check (``_leaks``) is written here from the characters' definitions, not taken from
``safe_text``, so a gap in the implementation's list cannot hide itself.
"""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import timedelta

import pytest

from leadcli.engagement import followups
from leadcli.leads.records import add_lead, get_lead
from leadcli.text import dates

OSC8 = "\x1b]8;;http://evil\x07click\x1b]8;;\x07"
BIG = "A" * 200_000 + "\x1b[2J"
#: One hostile value per field, so each table column and format meets some.
HOSTILE = {
    "first_name": "[bold]Eve" + OSC8,
    "last_name": "\x1b[2JZed\u202eevil",
    "company": "[link=http://evil]Acme[/link]\x00\x9b31m",
    "title": "zw\u200b\u200d\ufeff\u2060\U000e0041\U000e007f",
    "city": "line\u2028para\u2029end",
    "source": "web\x1b]0;pwned\x07",
    "owner": "sam\x1b[31m",
    "notes": BIG,
    "website": '=HYPERLINK("http://evil","x")',
}
#: Characters that must never come out raw: C0 but tab and newline (CR only in a CRLF line
#: end), DEL, C1, bidi embeddings / overrides / isolates, zero-width and tag characters,
#: line and paragraph separators, and a zero-width joiner next to ASCII.
_FORBIDDEN = re.compile(
    "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\u200b\u2060\ufeff"
    "\u2028\u2029\U000e0000-\U000e007f]|\r(?!\n)|[\x00-\x7f]\u200d|\u200d[\x00-\x7f]"
)


def _leaks(text: str) -> list[str]:
    return sorted({repr(m.group()) for m in _FORBIDDEN.finditer(text)})


@pytest.fixture
def hostile(store, tmp_path) -> dict[str, int]:
    """Two look-alike leads (so `dedupe` pairs them) and a third that opted out, with
    hostile values written raw, and a follow-up, a touch, a lost reason and a custom field
    that are hostile too."""
    ids = {}
    for key, extra in (("a", {}), ("b", {}), ("dnc", {"do_not_contact": True})):
        ids[key] = add_lead(
            store,
            {"first_name": "Eve", "email": f"{key}@example.com", **extra},
            tags=["vip"],
        )
    with store.write() as conn:
        for lead in ids.values():
            sets = ", ".join(f"{k} = ?" for k in HOSTILE)
            conn.execute(
                f"UPDATE leads SET {sets}, custom = ? WHERE id = ?",
                (
                    *HOSTILE.values(),
                    json.dumps({"fav\x1b[5mcolour": "red\x1b]8;;http://evil\x07"}),
                    lead,
                ),
            )
        conn.execute("INSERT INTO lead_tags (lead_id, tag) VALUES (?, ?)", (ids["a"], "t\x1b[2J"))
    for lead in ids.values():
        followups.add(store, lead, dates.now() + timedelta(days=1), "call " + OSC8)
    return ids


CASES = [
    ["list"],
    ["list", "-f", "csv"],
    ["list", "-f", "tsv"],
    ["list", "-f", "json"],
    ["list", "-f", "jsonl"],
    ["show", "{a}"],
    ["show", "{a}", "-f", "json"],
    ["show", "{a}", "-f", "csv"],
    ["due"],
    ["due", "-f", "csv"],
    ["followup", "list"],
    ["followup", "list", "--all"],
    ["followup", "list", "-f", "tsv"],
    ["history", "{a}"],
    ["history", "{a}", "-f", "json"],
    ["report"],
    ["report", "sources"],
    ["report", "sources", "-f", "csv"],
    ["report", "lost"],
    ["dedupe"],
    ["dedupe", "-f", "json"],
    ["export"],
    ["export", "-f", "jsonl"],
    ["score", "--explain", "{a}"],
    ["score", "--explain", "{a}", "-f", "json"],
]


@pytest.mark.parametrize("args", CASES, ids=[" ".join(c) for c in CASES])
def test_no_command_sends_hostile_data_raw(cli, hostile, args):
    result = cli(*(a.format(**hostile) for a in args))
    assert result.exit_code == 0, result.stderr
    assert _leaks(result.stdout) == []
    assert _leaks(result.stderr) == []
    if args[-1] not in ("json", "jsonl") and "-f" not in args and args[0] != "export":
        # A table: markup printed as typed, never interpreted (Rich would eat "[bold]").
        shown = result.stdout
        if args[0] in ("list", "show"):
            assert "[bold]Eve" in shown
        if args[0] == "show":
            assert "[link=http://evil]Acme[/link]" in shown.replace("\n", "")


def test_hostile_values_are_shown_as_visible_escapes_in_tables(cli, hostile):
    """A person sees that something was there, and what: not blanks, not a cleared screen."""
    shown = cli("show", str(hostile["a"])).stdout.replace("\n", "").replace(" ", "")
    for escape in ("\\x1b[2J", "\\u202e", "\\x00", "\\x9b", "\\u200b", "\\U000e0041"):
        assert escape in shown


@pytest.mark.parametrize("fmt", ["csv", "tsv"])
def test_csv_and_tsv_drop_controls_and_neutralise_formulas(cli, hostile, fmt):
    out = cli("list", "-f", fmt).stdout
    dialect = {"delimiter": ","} if fmt == "csv" else {"delimiter": "\t", "quoting": csv.QUOTE_NONE}
    limit = csv.field_size_limit(1 << 20)  # the 200 KB notes
    try:
        first = next(csv.DictReader(io.StringIO(out), **dialect))
    finally:
        csv.field_size_limit(limit)
    # ESC and BEL dropped; what is left is inert text
    assert first["first_name"] == "[bold]Eve]8;;http://evilclick]8;;"
    assert first["last_name"] == "[2JZedevil"
    assert first["website"].startswith("'=HYPERLINK")
    assert first["city"] == ("line\npara\nend" if fmt == "csv" else "line\\npara\\nend")


def test_json_keeps_the_stored_value_escaped(cli, hostile):
    out = cli("list", "-f", "json").stdout
    assert "\\u001b" in out and "\\u202e" in out and "\\udb40\\udc41" in out
    record = next(r for r in json.loads(out) if r["id"] == hostile["a"])
    assert record["last_name"] == HOSTILE["last_name"]
    assert record["notes"] == BIG


def test_calendar_and_vcard_files_carry_no_controls(cli, hostile, tmp_path):
    ics, vcf = tmp_path / "f.ics", tmp_path / "l.vcf"
    assert cli("followup", "list", "--all", "--ics", str(ics)).exit_code == 0
    assert cli("due", "--ics", str(ics.with_name("due.ics"))).exit_code == 0
    assert cli("export", "--vcf", "-o", str(vcf)).exit_code == 0
    for path in (ics, ics.with_name("due.ics"), vcf):
        text = path.read_text(encoding="utf-8")
        assert _leaks(text) == [], path.name
    assert "click" in ics.read_text(encoding="utf-8")


def test_reports_as_html_and_svg_escape_everything(cli, hostile, tmp_path):
    page, image = tmp_path / "r.html", tmp_path / "r.svg"
    assert cli("report", "sources", "--html", str(page), "--svg", str(image)).exit_code == 0
    for path in (page, image):
        text = path.read_text(encoding="utf-8")
        assert _leaks(text) == []
        assert "\\x1b]0;pwned\\x07" in text  # the source's escape, made visible


def test_import_cleans_hostile_cells_and_counts_them(cli, tmp_path, store):
    """Through the front door: the stored values are clean, the summary says how many cells
    were cleaned, and import's own messages (a hostile file name) stay inert."""
    path = tmp_path / "evil\x1b[2J.csv"
    rows = [
        ["First Name", "Email", "Company", "Notes", "Fav\x1b[5m"],
        ["Eve" + OSC8, "eve@example.com", "Acme\u202e\x00", "ok\r\nnext", "red\x9b"],
        ["\u0645\u06cc\u200c\u0631\u200f", "mir@example.com", "Plain", "", ""],
    ]
    with path.open("w", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerows(rows)
    result = cli("import", str(path), "-f", "json")
    assert _leaks(result.stdout) == [] and _leaks(result.stderr) == []
    summary = json.loads(result.stdout)
    assert summary["imported"] == 2
    assert summary["cleaned"] == 4  # name, company, the custom value; CRLF in notes
    eve = get_lead(store, 1, with_history=False)
    assert (eve["first_name"], eve["company"], eve["notes"]) == (
        "Eve]8;;http://evilclick]8;;",
        "Acme",
        "ok\nnext",
    )
    assert eve["custom"] == {"Fav[5m": "red"}
    # A Persian name keeps its ZWNJ and its right-to-left mark.
    assert get_lead(store, 2, with_history=False)["first_name"] == "\u0645\u06cc\u200c\u0631\u200f"
    table = cli("import", str(path), "--dry-run")
    assert _leaks(table.stdout) == [] and _leaks(table.stderr) == []


def test_add_and_edit_clean_their_input(cli, store):
    assert cli("add", "--first-name", "Eve\x1b[2J", "--company", "A\u200bcme").exit_code == 0
    assert cli("edit", "1", "--title", "CTO\u202e\x07").exit_code == 0
    lead = get_lead(store, 1, with_history=False)
    assert (lead["first_name"], lead["company"], lead["title"]) == ("Eve[2J", "Acme", "CTO")


def test_a_real_process_piped_to_head_gets_no_control_bytes(proc, hostile):
    """`leadcli list -f csv | head`: the bytes a terminal would get."""
    for fmt in ("csv", "tsv", "table"):
        result = proc("list", "-f", fmt, text=False)
        assert result.returncode == 0
        assert _leaks(result.stdout.decode("utf-8")) == []
        assert _leaks(result.stderr.decode("utf-8")) == []
