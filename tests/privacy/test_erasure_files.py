"""What names a person outside their rows: import file names, rejects rows, keys left by an
older erasure."""

from __future__ import annotations

import csv
import string
from pathlib import Path

from hypothesis import assume, given
from hypothesis import strategies as st

from leadcli.leads.records import add_lead
from leadcli.privacy.erasure import forget
from leadcli.privacy.erasure_files import (
    erased_file_name,
    fold,
    names,
    naming_pattern,
    scrub_rejects,
)
from leadcli.storage.store import Store

_name = st.text(alphabet=string.ascii_letters + "áéíöñçøÅ", min_size=3, max_size=12)


@given(first=_name, last=_name, sep=st.sampled_from(["-", "_", " ", ".", ""]))
def test_a_file_named_after_the_person_is_found_however_spelled(
    first: str, last: str, sep: str
) -> None:
    pattern = naming_pattern([], [first], [last])
    for spelled in (f"{first}{sep}{last}", f"{last.upper()}{sep}{first}", f"{first}{last}"):
        assert names(pattern, f"/exports/{spelled}.vcf"), spelled


@given(first=_name, last=_name)
def test_a_first_name_alone_or_a_longer_word_does_not_name_them(first: str, last: str) -> None:
    assume(fold(first) != fold(last) and fold(last) + "son" != fold(first + last))
    pattern = naming_pattern([], [first], [last])
    assert not names(pattern, f"{first}.csv")
    assert not names(pattern, f"{last}son-leads.csv")


def test_a_role_address_local_part_names_no_one() -> None:
    pattern = naming_pattern(["info@acme.example", "ana.s@acme.example"], [], [])
    assert not names(pattern, "info.csv")
    assert names(pattern, "from-ana.s.csv")


def test_an_erased_file_name_keeps_its_kind_and_drops_its_folder() -> None:
    assert erased_file_name("/home/u/yarborough/yolanda-yarborough.vcf") == "[erased].vcf"
    assert erased_file_name("yarborough") == "[erased]"


def test_a_rejected_row_with_only_their_name_goes_and_a_colleagues_stays(tmp_path: Path) -> None:
    path = tmp_path / "x.rejects.csv"
    rows = [
        ["First Name", "Last Name", "Email", "line", "reason"],
        ["Yolanda", "Yárborough", "oops@@", "2", "email: is not valid"],
        ["Yolanda", "Smith", "oops@@", "3", "email: is not valid"],
        ["Ann", "Yárborough", "yolanda.yarb@exmple", "4", "email: is not valid"],
    ]
    with open(path, "w", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerows(rows)
    changed, missing = scrub_rejects(
        [str(path)], {"yolanda.yarb@example.net"}, set(), {("yolanda", "yarborough")}
    )
    assert (changed, missing) == ([str(path)], [])
    with open(path, newline="", encoding="utf-8") as handle:
        assert list(csv.reader(handle)) == [rows[0], rows[2]]


def test_keys_an_older_erasure_left_without_a_lead_go(store: Store) -> None:
    ana = add_lead(store, {"first_name": "Ana", "email": "ana@example.org"})
    bob = add_lead(store, {"first_name": "Bob", "email": "bob@example.org"})
    with store.write() as conn:
        conn.executemany(
            "INSERT INTO captured_messages (key, lead_id, outcome, captured_at) "
            "VALUES (?, ?, 'created', '2026-11-01T00:00:00Z')",
            [
                ("<old.person-1@example.net>", None),
                ("sha256:ab12", None),
                ("<a-1@x>", ana),
                ("<bob-1@example.org>", bob),
            ],
        )
    forget(store, "ana@example.org")
    keys = [r[0] for r in store.conn.execute("SELECT key FROM captured_messages")]
    assert keys == ["<bob-1@example.org>"]


def test_only_file_names_that_name_the_person_are_rewritten(store: Store) -> None:
    ana = add_lead(store, {"first_name": "Ana", "last_name": "Silva", "email": "ana@x.example"})
    add_lead(store, {"first_name": "Ana", "last_name": "Other", "email": "ao@x.example"})
    with store.write() as conn:
        conn.executemany(
            "INSERT INTO import_batches (file_name, sha256, imported_at, rows, imported, "
            "updated, duplicates, rejected, rejects_file, mapping, options, last_history_id) "
            "VALUES (?, 'h', '2026-11-01T00:00:00Z', 1, 0, 0, 0, 0, ?, '{}', '{}', 0)",
            [
                ("/in/ana-silva.vcf", "/in/ana-silva.rejects.csv"),
                ("/in/silva/leads.csv", None),
                ("/in/ana.csv", "/in/ana.rejects.csv"),
            ],
        )
    forget(store, str(ana))
    rows = store.conn.execute("SELECT file_name, rejects_file FROM import_batches ORDER BY id")
    assert [tuple(r) for r in rows] == [
        ("[erased].vcf", "/in/erased-1.rejects.csv"),
        ("[erased].csv", None),
        ("/in/ana.csv", "/in/ana.rejects.csv"),
    ]
