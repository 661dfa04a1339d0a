"""Import never merges two people and loses nothing: the reproductions of issue 11."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from leadcli.importing import loader
from leadcli.importing.undo import undo_batch
from leadcli.storage.store import Store, connect


@pytest.fixture
def store(tmp_path: Path) -> Store:
    return connect(tmp_path / "leads.db")


def load(store: Store, tmp_path: Path, name: str, text: str, **options) -> loader.ImportSummary:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    opts = loader.ImportOptions(rejects=tmp_path / f"{name}.rejects.csv", **options)
    summary = loader.import_file(store, str(path), opts)
    s = summary
    assert s.rows == s.imported + s.updated + s.duplicates + s.rejected
    return summary


def rows(store: Store, columns: str = "first_name, last_name, email, phone") -> list[tuple]:
    return [tuple(r) for r in store.conn.execute(f"SELECT {columns} FROM leads ORDER BY id")]


def all_emails(store: Store) -> set[str]:
    found = set()
    for email, others in store.conn.execute("SELECT email, other_emails FROM leads"):
        found |= {email} if email else set()
        found |= set(json.loads(others)) if others else set()
    return found


def test_kestrel_labs_switchboard_is_three_leads(store, tmp_path):
    summary = load(
        store,
        tmp_path,
        "show.csv",
        "First Name,Last Name,Email,Phone,Company\n"
        "Ann,Ko,ann@kestrel.io,+1 415 555 0100,Kestrel Labs\n"
        "Bob,Li,bob@kestrel.io,+1 415 555 0100,Kestrel Labs\n"
        "Cy,Oh,cy@kestrel.io,(415) 555-0100,Kestrel Labs\n",
    )
    assert (summary.imported, summary.updated, summary.duplicates) == (3, 0, 0)
    # Three people at one switchboard (other names, other e-mails): none looks like another.
    assert summary.possible_duplicates == 0
    assert all_emails(store) == {"ann@kestrel.io", "bob@kestrel.io", "cy@kestrel.io"}
    assert [r[0] for r in rows(store)] == ["Ann", "Bob", "Cy"]
    assert store.conn.execute("SELECT count(*) FROM possible_duplicates").fetchone()[0] == 0


@pytest.mark.parametrize("bulk", [False, True])
def test_many_people_over_few_office_lines_stay_many(store, tmp_path, monkeypatch, bulk):
    monkeypatch.setattr(loader, "BULK_MIN_BYTES", 0 if bulk else 1 << 40)
    lines = ["First Name,Last Name,Email,Phone"]
    for i in range(2000):
        lines.append(f"P{i},L{i},p{i}@corp{i % 7}.com,+1 415 555 {i % 100:04d}")
    summary = load(store, tmp_path, "many.csv", "\n".join(lines) + "\n")
    assert summary.imported == 2000
    assert len(all_emails(store)) == 2000


def test_placeholders_and_role_addresses_are_not_evidence(store, tmp_path):
    summary = load(
        store,
        tmp_path,
        "forms.csv",
        "First Name,Last Name,Email,Phone\n"
        "Ann,Ko,ann@a.io,0000000000\n"
        "Bob,Li,bob@b.io,0000000000\n"
        "Cy,Oh,cy@c.io,555-555-5555\n"
        "Di,Wu,info@shared.io,\n"
        "Ed,Ng,info@shared.io,\n"
        "Fay,Lo,test@test.com,n/a\n"
        "Gus,Po,test@test.com,-\n",
    )
    assert summary.imported == 7
    assert [r[3] for r in rows(store)] == [None] * 7  # placeholder phones are missing values
    assert [r[2] for r in rows(store)][5:] == [None, None]


def test_role_address_with_the_same_name_is_one_person(store, tmp_path):
    summary = load(
        store,
        tmp_path,
        "roles.csv",
        "First Name,Last Name,Email,City\nDi,Wu,info@shared.io,\ndi,WU,info@shared.io,Lyon\n",
    )
    assert (summary.imported, summary.updated) == (1, 1)


def test_same_external_id_from_two_systems_is_two_people(store, tmp_path):
    load(store, tmp_path, "sf.csv", "Id,FirstName,LastName,IsConverted\n1001,Ann,Ko,false\n")
    hubspot = "Record ID,First Name,Last Name,Lifecycle Stage\n1001,Bob,Li,lead\n"
    summary = load(store, tmp_path, "hs.csv", hubspot)
    assert summary.system == "hubspot" and summary.imported == 1
    assert rows(store, "first_name, external_id, external_system") == [
        ("Ann", "1001", "salesforce"),
        ("Bob", "1001", "hubspot"),
    ]
    # The same system again is the same person.
    again = load(store, tmp_path, "hs2.csv", hubspot + "1002,Cy,Oh,lead\n")
    assert (again.imported, again.duplicates) == (1, 1)


def test_system_option_names_the_ids_source(store, tmp_path):
    load(store, tmp_path, "a.csv", "External ID,Name\n7,Ann Ko\n", system="Legacy")
    summary = load(store, tmp_path, "b.csv", "External ID,Name\n7,Bob Li\n")
    assert summary.imported == 1
    assert rows(store, "external_system") == [("legacy",), (None,)]


def test_an_opt_out_stays_with_its_person(store, tmp_path):
    load(
        store,
        tmp_path,
        "office.csv",
        "First Name,Last Name,Email,Phone,Do Not Contact\n"
        "Alice,Ng,alice@x.io,+1 415 555 0100,\n"
        "Bob,Ng,bob@x.io,+1 415 555 0100,yes\n",
    )
    load(store, tmp_path, "again.csv", "First Name,Last Name,Phone\nBob,Ng,+1 415 555 0100\n")
    assert rows(store, "first_name, do_not_contact") == [("Alice", 0), ("Bob", 1)]


def test_update_never_writes_placeholders_over_good_values(store, tmp_path):
    load(
        store,
        tmp_path,
        "good.csv",
        "Email,Phone,Company,Last Name\nana@x.io,+1 415 555 0100,Acme,Silva\n",
    )
    summary = load(
        store,
        tmp_path,
        "bad.csv",
        "Email,Phone,Company,Last Name\nana@x.io,n/a,N/A,-\n",
        on_duplicate="update",
    )
    assert summary.updated == 0
    assert rows(store, "phone, company, last_name") == [("+14155550100", "Acme", "Silva")]


def test_the_same_person_written_twice_is_one_lead(store, tmp_path):
    summary = load(
        store,
        tmp_path,
        "twice.csv",
        "First Name,Last Name,Email,Phone\n"
        "Ana,Silva,Ana.Silva@Acme.com ,+1 (415) 555-0100\n"
        " ana , SILVA ,ana.silva@acme.com,415.555.0100\n"
        "ANA,silva,,4155550100\n",
    )
    assert summary.imported == 1
    assert rows(store) == [("Ana", "Silva", "ana.silva@acme.com", "+14155550100")]


def test_every_distinct_email_is_kept_and_a_second_column_is_other_emails(store, tmp_path):
    load(
        store,
        tmp_path,
        "two.csv",
        "Name,Email,Email,Phone,Phone\n"
        "Ana Silva,ana@a.io,ana@home.io,+1 415 555 0100,+1 415 555 0199\n"
        "Ana Silva,ana@a.io,ana@work.io,,\n"
        "Ana Silva,,ana@new.io,+1 415 555 0100,\n",
    )
    assert all_emails(store) == {"ana@a.io", "ana@home.io", "ana@work.io", "ana@new.io"}
    [(others, phones, custom)] = rows(store, "other_emails, other_phones, custom")
    assert custom is None
    assert json.loads(phones) == ["+14155550199"]
    assert sorted(json.loads(others)) == ["ana@home.io", "ana@new.io", "ana@work.io"]


def test_undo_never_deletes_a_lead_another_live_batch_brought(store, tmp_path):
    u1 = load(store, tmp_path, "u1.csv", "Email,Name\nana@x.io,Ana\n")
    u2 = load(store, tmp_path, "u2.csv", "Email,Name\nana@x.io,Ana\nbob@x.io,Bob\n")
    result = undo_batch(store, u1.batch)
    assert result.removed == [] and result.kept == [1]
    assert rows(store, "email") == [("ana@x.io",), ("bob@x.io",)]
    again = load(store, tmp_path, "u1.csv", "Email,Name\nana@x.io,Ana\n")
    assert again.already_imported_as is None and again.duplicates == 1
    undo_batch(store, u2.batch)
    assert rows(store, "email") == [("ana@x.io",)]


def test_undo_takes_back_what_a_batch_merged_into_older_leads(store, tmp_path):
    load(store, tmp_path, "a.csv", "Email,Name,City,Tags\nana@x.io,Ana,,old\n")
    b = load(store, tmp_path, "b.csv", "Email,Name,City,Tags,Email\nana@x.io,Ana,Lyon,new,a@y.io\n")
    assert b.updated == 1
    result = undo_batch(store, b.batch)
    assert result.restored == [1]
    assert rows(store, "city, other_emails") == [(None, None)]
    tags = store.conn.execute("SELECT tag FROM lead_tags").fetchall()
    assert [t[0] for t in tags] == ["old"]
    # ...and the same file imports again.
    again = load(
        store, tmp_path, "b.csv", "Email,Name,City,Tags,Email\nana@x.io,Ana,Lyon,new,a@y.io\n"
    )
    assert again.updated == 1


@pytest.mark.parametrize(
    ("header", "system"),
    [
        (["Id", "IsConverted", "Email"], "salesforce"),
        (["Lead ID", "Lead Owner", "Email"], None),  # a Salesforce report: not Zoho
        (["Zoho ID", "Lead Owner", "Email"], "zoho"),
        (["Record ID", "Lifecycle Stage", "Email"], "hubspot"),
        (["Person - Name", "Person - Email"], "pipedrive"),
    ],
)
def test_the_system_is_told_by_columns_only_it_writes(header, system):
    from leadcli.importing.mapping import detect_system

    assert detect_system(header) == system
