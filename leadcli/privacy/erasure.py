"""Erasing a person (``forget``): every row and every copy of their values, bytes included.

A person is the lead found by id, e-mail or phone, together with every lead merged into it
(``merged_leads``, recursively): a merge is one person's records made one. What goes:

- the leads, and their rows in every table referring to a lead (tags, activities,
  follow-ups, enrolments, BANT answers: by the foreign keys' cascade, children first);
- their import-batch links, possible-duplicate pairs, merges and merge journals (which hold
  the rows as they were), and ``merged_leads`` entries;
- their history. History is append-only (triggers refuse updates and deletes); erasure is the
  one exception: the triggers are dropped and made again inside the erasing transaction (no
  other connection ever sees them gone), the person's rows go, and one ``erased`` event per
  lead id, holding no personal data, says that it happened. A value of theirs quoted in
  another lead's history or merge journal (an address edited away from a lead, say) is
  replaced by ``[erased]``;
- the search index's entries (deleted, then the index optimised into one segment, so no old
  segment keeps their words).

With ``secure_delete`` on, freed content is overwritten with zeros; after the commit the
database is VACUUMed and the WAL checkpointed with TRUNCATE, so none of the person's bytes stay
in ``.db`` or ``-wal``. The normalised e-mails and phones the person ever had go to the
suppression list (``privacy.suppression``).

Automatic backups (``storage.paths.backup_dir``) are purged, not deleted: the same erasure
runs in each backup file, which is then VACUUMed. Deleting them would also throw away
everyone else's data the user kept them for. Rejects files that imports wrote are rewritten
without the person's rows.
"""

from __future__ import annotations

import contextlib
import json
import re
import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from leadcli.errors import InvalidValue, LeadcliError, NotFound
from leadcli.identity.evidence import DEFAULT_LISTS, Lists, is_personal_email
from leadcli.leads import history
from leadcli.leads.records import delete_leads, drop_trigger
from leadcli.privacy import suppression
from leadcli.privacy.erasure_files import (
    ERASED_VALUE,
    fold,
    move_rejects,
    naming_pattern,
    rename_files,
    scrub_pattern,
    scrub_rejects,
)
from leadcli.privacy.erasure_plan import by_lead_id
from leadcli.storage.store import BeforeWrite, Store
from leadcli.text import dates

#: Name columns: not suppressed, but what tells whether a file name names the person.
_NAME_FIELDS = ("first_name", "last_name")
_HISTORY_TRIGGERS = ("history_no_update", "history_no_delete")
_CONTACT_FIELDS = {
    "email": suppression.EMAIL,
    "other_emails": suppression.EMAIL,
    "phone": suppression.PHONE,
    "other_phones": suppression.PHONE,
}


class Ambiguous(LeadcliError):
    """A phone or role address that several leads share: not evidence of one person."""


@dataclass
class Person:
    """Whom ``forget`` erases: the lead ids (with those merged into them) and every e-mail
    and phone they ever held (the suppression list's entries and the values to scrub)."""

    ids: list[int] = field(default_factory=list)
    live: list[int] = field(default_factory=list)
    emails: set[str] = field(default_factory=set)
    phones: set[str] = field(default_factory=set)
    #: First and last names they held: what says that a file name or a key names them.
    first_names: set[str] = field(default_factory=set)
    last_names: set[str] = field(default_factory=set)


def _marks(values: Iterable[Any]) -> str:
    return ", ".join("?" for _ in values)


def _ids_of(conn: sqlite3.Connection, target: str, region: str, lists: Lists) -> list[int]:
    """The live leads ``target`` names: an id (a merged-away id stands for the lead it went
    into), an e-mail (every lead holding it: a personal address is one person), or a phone
    (one lead only: a shared phone is not evidence of one person)."""
    text = target.strip()
    if text.isdigit():
        lead_id = int(text)
        seen = set()
        while lead_id not in seen:
            seen.add(lead_id)
            if conn.execute("SELECT 1 FROM leads WHERE id = ?", (lead_id,)).fetchone():
                return [lead_id]
            row = conn.execute(
                "SELECT into_id FROM merged_leads WHERE lead_id = ?", (lead_id,)
            ).fetchone()
            if row is None:
                break
            lead_id = row[0]
        # Not an id: perhaps a phone written as digits only.
    if "@" in text:
        from leadcli.text.contacts import normalise_email

        try:
            email = normalise_email(text)
        except ValueError:
            email = text.lower()
        ids = _matching(conn, "email", "other_emails", email)
        if len(ids) > 1 and not is_personal_email(email, lists):
            raise Ambiguous(
                f"that address is a role address or placeholder held by {len(ids)} leads "
                f"({', '.join(map(str, ids))}), not one person's",
                hint="forget them by id: leadcli forget ID",
            )
        return ids
    ids = _phone_ids(conn, text, region)
    if len(ids) > 1:
        raise Ambiguous(
            f"that phone is held by {len(ids)} leads ({', '.join(map(str, ids))}); a shared "
            "phone is not evidence of one person",
            hint="forget the person by id or e-mail: leadcli forget ID",
        )
    return ids


def _phone_ids(conn: sqlite3.Connection, text: str, region: str) -> list[int]:
    """The leads holding the phone ``text``, however leadcli stored it: in E.164 (now only
    a valid number), in the E.164 of a merely possible number (older versions stored
    ``06 12 34 56 78`` read as American so), or kept as written (an import keeps an invalid
    number so). The lookup parses leniently (``valid_only=False``): a number ``add`` would
    refuse today must still find the lead it names. Failing those, the same digits with
    other separators (``(415) 555-0199`` kept as written, ``415.555.0199`` typed)."""
    from leadcli.text.contacts import normalise_phone

    forms = {text}
    for valid_only in (True, False):
        with contextlib.suppress(ValueError):
            forms.add(normalise_phone(text, region, valid_only=valid_only))
    digits = {d for d in (re.sub(r"\D", "", f) for f in forms) if len(d) >= 7}
    if len(forms) > 1:  # kept as written without its country code: "(415) 555-0199"
        digits.add(_national_digits(text, region))
    if len(forms) == 1 and not digits:
        raise InvalidValue("forget", "give a lead id, an e-mail address or a phone number")
    ids = sorted({i for form in forms for i in _matching(conn, "phone", "other_phones", form)})
    if ids or not digits:
        return ids
    conn.create_function(
        "leadcli_digits", 1, lambda t: re.sub(r"\D", "", t) if t else None, deterministic=True
    )
    found = json.dumps(sorted(digits))
    rows = conn.execute(
        "SELECT id FROM leads WHERE leadcli_digits(phone) IN (SELECT value FROM json_each(?1)) "
        "OR (other_phones IS NOT NULL AND EXISTS (SELECT 1 FROM json_each(other_phones) AS o "
        "WHERE leadcli_digits(o.value) IN (SELECT value FROM json_each(?1)))) ORDER BY id",
        (found,),
    ).fetchall()
    return [r[0] for r in rows]


def _national_digits(text: str, region: str) -> str:
    import phonenumbers

    return phonenumbers.national_significant_number(phonenumbers.parse(text, region.upper()))


def _matching(conn: sqlite3.Connection, column: str, others: str, value: str) -> list[int]:
    rows = conn.execute(
        f"SELECT id FROM leads WHERE {column} = ?1 COLLATE NOCASE OR ({others} IS NOT NULL "
        f"AND EXISTS (SELECT 1 FROM json_each({others}) WHERE value = ?1 COLLATE NOCASE)) "
        "ORDER BY id",
        (value,),
    ).fetchall()
    return [r[0] for r in rows]


def find_person(
    conn: sqlite3.Connection, target: str, *, region: str = "US", lists: Lists = DEFAULT_LISTS
) -> Person:
    """The person ``target`` names, with every record and value of theirs (see Person)."""
    live = _ids_of(conn, target, region, lists)
    if not live:
        raise NotFound("no lead matches that id, e-mail or phone", hint="`leadcli list`")
    return _gather(conn, live)


def _gather(conn: sqlite3.Connection, live: list[int]) -> Person:
    ids = conn.execute(
        "WITH RECURSIVE ids(id) AS (SELECT value FROM json_each(?) UNION "
        "SELECT m.lead_id FROM merged_leads AS m JOIN ids ON m.into_id = ids.id) "
        "SELECT id FROM ids ORDER BY id",
        (json.dumps(live),),
    ).fetchall()
    person = Person(ids=[r[0] for r in ids], live=list(live))
    marks = _marks(person.ids)
    for row in conn.execute(
        "SELECT email, phone, other_emails, other_phones, first_name, last_name FROM leads "
        f"WHERE id IN ({marks})",
        person.ids,
    ):
        _collect(person, dict(row))
    # Values they held before an edit or a merge: in their history and merge journals.
    for (text,) in conn.execute(
        f"SELECT changes FROM history WHERE lead_id IN ({marks}) AND changes IS NOT NULL",
        person.ids,
    ):
        changes = json.loads(text)
        for name in (*_CONTACT_FIELDS, *_NAME_FIELDS):
            pair = changes.get(name)
            if isinstance(pair, list):
                for value in pair:
                    _collect(person, {name: value})
    for (journal,) in conn.execute(
        f"SELECT journal FROM merges WHERE {_merges_of(person.ids)}", _merge_params(person.ids)
    ):
        for lead in json.loads(journal).get("leads", []):
            _collect(person, lead)
    return person


def _collect(person: Person, values: dict[str, Any]) -> None:
    for name, names in (("first_name", person.first_names), ("last_name", person.last_names)):
        value = values.get(name)
        if isinstance(value, str) and value.strip():
            names.add(value.strip())
    for name, kind in _CONTACT_FIELDS.items():
        value = values.get(name)
        if not value:
            continue
        items = suppression._others(value) if name.startswith("other_") else [value]
        target = person.emails if kind == suppression.EMAIL else person.phones
        for item in items:
            if item and str(item).strip():
                text = str(item).strip()
                target.add(text.lower() if kind == suppression.EMAIL else text)


def _full_names(person: Person) -> set[tuple[str, str]]:
    """Their (first, last) name pairs, folded as ``erasure_files`` compares them."""
    return {(fold(f), fold(la)) for f in person.first_names for la in person.last_names}


def _merges_of(ids: list[int]) -> str:
    marks = _marks(ids)
    return (
        f"keep_id IN ({marks}) OR EXISTS (SELECT 1 FROM json_each(merges.merged_ids) "
        f"WHERE value IN ({marks}))"
    )


def _merge_params(ids: list[int]) -> list[int]:
    return [*ids, *ids]


def erase(
    conn: sqlite3.Connection, person: Person, *, at: str | None = None, lists: Lists = DEFAULT_LISTS
) -> dict[str, Any]:
    """Erase ``person`` inside the caller's write transaction; return counts (no values)."""
    now = at or dates.now_text()
    ids = person.ids
    marks = _marks(ids)
    counts: dict[str, int] = {}
    batches = [
        r[0]
        for r in conn.execute(
            f"SELECT id FROM import_batches AS b WHERE EXISTS (SELECT 1 FROM json_each(?) AS j "
            f"WHERE j.value BETWEEN b.first_lead_id AND b.last_lead_id) "
            f"UNION SELECT batch_id FROM batch_leads WHERE lead_id IN ({marks}) "
            f"UNION SELECT batch_id FROM batch_matches WHERE lead_id IN ({marks})",
            (json.dumps(ids), *ids, *ids),
        )
    ]
    tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    # Children first (the foreign keys cascade from leads too: this says it and counts);
    # a backup from an older schema lacks the later tables.
    for table in by_lead_id():
        if table in tables:
            counts[table] = conn.execute(
                f"DELETE FROM {table} WHERE lead_id IN ({marks})", ids
            ).rowcount
    if "captured_messages" in tables:  # keys older erasures left without their lead
        counts["captured_messages"] += conn.execute(
            "DELETE FROM captured_messages WHERE lead_id IS NULL"
        ).rowcount
    if "sqlite_stat4" in tables:  # sampled index keys: an e-mail of theirs among them
        conn.execute("DELETE FROM sqlite_stat4")
    counts["leads"] = conn.execute(
        f"SELECT count(*) FROM leads WHERE id IN ({marks})", ids
    ).fetchone()[0]
    delete_leads(conn, f"id IN ({marks})", tuple(ids))
    counts["possible_duplicates"] = conn.execute(
        f"DELETE FROM possible_duplicates WHERE lead_id IN ({marks}) OR other_id IN ({marks})",
        (*ids, *ids),
    ).rowcount
    conn.execute(
        f"DELETE FROM merged_leads WHERE lead_id IN ({marks}) OR into_id IN ({marks})",
        (*ids, *ids),
    )
    # The merge rows stay (their ids, quoted by `merge undo ID`, are never given to another
    # merge), their journals go: `merge undo` then says the kept lead no longer exists.
    counts["merges"] = conn.execute(
        f"UPDATE merges SET journal = '{{}}' WHERE {_merges_of(ids)}", _merge_params(ids)
    ).rowcount
    # The one exception to append-only history (see the module). History ids only grow
    # (batches and merges compare against them): the erased events continue after the
    # highest id there was, even when the person's rows were the newest.
    top = conn.execute("SELECT coalesce(max(id), 0) FROM history").fetchone()[0]
    triggers = [drop_trigger(conn, name) for name in _HISTORY_TRIGGERS]
    counts["history"] = conn.execute(
        f"DELETE FROM history WHERE lead_id IN ({marks})", ids
    ).rowcount
    counts["scrubbed"] = _scrub(conn, person)
    renamed = rename_files(
        conn, naming_pattern(person.emails, person.first_names, person.last_names, lists)
    )
    conn.executemany(
        "INSERT INTO history (id, lead_id, at, event, changes, reason) "
        "VALUES (?, ?, ?, ?, NULL, 'forget')",
        [(top + n, lead_id, now, history.ERASED) for n, lead_id in enumerate(ids, start=1)],
    )
    for sql in triggers:
        conn.execute(sql)
    # The files these batches held are no longer wholly here: importing one again must read
    # it (and report the person suppressed), not call it already imported.
    if batches:
        conn.execute(
            f"UPDATE import_batches SET sha256 = '' WHERE id IN ({_marks(batches)})", batches
        )
    counts["suppressed"] = suppression.add(
        conn, suppression.suppressible(sorted(person.emails), sorted(person.phones), lists), at=now
    )
    # Deleted entries stay in old index segments until merged: one segment, none left.
    conn.execute("INSERT INTO leads_fts (leads_fts) VALUES ('optimize')")
    # Every rejects file: a row of theirs may have been rejected from any import (a bad
    # address beside their phone), not only from those that brought a lead of theirs. Named
    # as they are on disk still (a rename follows their scrub, after the commit).
    rejects = conn.execute(
        "SELECT rejects_file, max(id IN (SELECT value FROM json_each(?))) FROM import_batches "
        "WHERE rejects_file IS NOT NULL GROUP BY rejects_file ORDER BY min(id)",
        (json.dumps(batches),),
    ).fetchall()
    on_disk = {new: old for old, new in renamed}
    return {
        "counts": counts,
        "batches": batches,
        "rejects_files": [on_disk.get(r[0], r[0]) for r in rejects],
        "their_rejects_files": [on_disk.get(r[0], r[0]) for r in rejects if r[1]],
        "rejects_renamed": renamed,
    }


def _scrub(conn: sqlite3.Connection, person: Person) -> int:
    """Replace the person's values quoted in other leads' history and in other merges'
    journals by ``[erased]``; return how many rows changed. A scan, but forget is rare."""
    pattern = scrub_pattern(person.emails)
    if pattern is None:
        return 0
    conn.create_function(
        "leadcli_mentions", 1, lambda t: bool(t and pattern.search(t)), deterministic=True
    )
    changed = 0
    for select, update in _SCRUBBED:
        rows = conn.execute(select).fetchall()
        conn.executemany(
            update, [(pattern.sub(ERASED_VALUE, text), row_id) for row_id, text in rows]
        )
        changed += len(rows)
    return changed


#: Where another lead's rows may quote the person: (the rows that do, their rewrite).
_SCRUBBED = (
    (
        "SELECT id, changes FROM history WHERE leadcli_mentions(changes)",
        "UPDATE history SET changes = ? WHERE id = ?",
    ),
    (
        "SELECT id, reason FROM history WHERE leadcli_mentions(reason)",
        "UPDATE history SET reason = ? WHERE id = ?",
    ),
    (
        "SELECT id, journal FROM merges WHERE leadcli_mentions(journal)",
        "UPDATE merges SET journal = ? WHERE id = ?",
    ),
)


def _compact(conn: sqlite3.Connection) -> bool:
    """VACUUM and truncate the WAL; False when another connection kept them from being done
    (it holds the database open): the erasure is committed, the old pages not yet rewritten."""
    try:
        conn.execute("VACUUM")
        busy, _, _ = conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
    except sqlite3.OperationalError:
        return False
    return not busy


@dataclass
class ForgetResult:
    erased: list[int]
    leads: int
    merged_records: int
    counts: dict[str, int]
    suppressed: int
    compacted: bool
    backups_purged: list[str] = field(default_factory=list)
    backups_failed: list[str] = field(default_factory=list)
    rejects_scrubbed: list[str] = field(default_factory=list)
    #: Rejects files of the person's imports that were not found where recorded.
    rejects_to_check: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        from dataclasses import asdict

        return asdict(self)


def forget(
    store: Store,
    target: str | Person,
    *,
    region: str = "US",
    lists: Lists = DEFAULT_LISTS,
    before_write: BeforeWrite | None = None,
) -> ForgetResult:
    """Erase the person ``target`` names (or the ``Person`` from ``find_person``) from the
    database, its automatic backups and its rejects files; see the module. ``before_write``
    runs once the person is found (``Store.checks_passed``): the backup it takes is then
    purged of them with every other automatic backup."""
    conn = store.conn
    before = conn.execute("PRAGMA secure_delete").fetchone()[0]
    conn.execute("PRAGMA secure_delete = ON")
    try:
        with store.write() as conn:
            person = (
                target
                if isinstance(target, Person)
                else find_person(conn, target, region=region, lists=lists)
            )
            live = [
                i
                for i in person.live
                if conn.execute("SELECT 1 FROM leads WHERE id = ?", (i,)).fetchone()
            ]
            if not live:  # erased by another process since it was found
                raise NotFound("no lead matches that id, e-mail or phone", hint="`leadcli list`")
            person = _gather(conn, live)  # as it is now, under the write lock
            store.checks_passed(before_write)
            done = erase(conn, person, lists=lists)
        compacted = _compact(conn)
    finally:
        conn.execute(f"PRAGMA secure_delete = {int(before)}")
    result = ForgetResult(
        erased=person.live,
        leads=len(person.live),
        merged_records=len(person.ids) - len(person.live),
        counts=done["counts"],
        suppressed=done["counts"]["suppressed"],
        compacted=compacted,
    )
    result.rejects_scrubbed, missing = scrub_rejects(
        done["rejects_files"], person.emails, person.phones, _full_names(person), lists
    )
    moved = move_rejects(done["rejects_renamed"])
    result.rejects_scrubbed = [moved.get(p, p) for p in result.rejects_scrubbed]
    # Of the files not found, those of imports that brought the person are worth a look;
    # any other was most likely deleted by the user long ago.
    result.rejects_to_check = [p for p in missing if p in done["their_rejects_files"]]
    _purge_backups(store, person, result, lists)
    return result


def backup_files(store: Store) -> list[Path]:
    """The automatic backups of this database (see ``storage.paths.backup_dir``)."""
    from leadcli.storage.paths import backup_dir, backup_glob

    if str(store.path) == ":memory:":
        return []
    folder = backup_dir(store.path)
    if not folder.is_dir():
        return []
    return sorted(folder.glob(backup_glob(store.path)))


def _purge_backups(store: Store, person: Person, result: ForgetResult, lists: Lists) -> None:
    """The same erasure in every automatic backup: the person's leads there are found by the
    same ids (never reused) and by every e-mail they held, and then VACUUMed."""
    from leadcli.storage.store import connect

    for path in backup_files(store):
        try:
            backup = connect(path)
        except LeadcliError:
            result.backups_failed.append(str(path))
            continue
        try:
            bconn = backup.conn
            bconn.execute("PRAGMA secure_delete = ON")
            with backup.write():
                live = {
                    r[0]
                    for r in bconn.execute(
                        f"SELECT id FROM leads WHERE id IN ({_marks(person.ids)})", person.ids
                    )
                }
                for email in person.emails:
                    live.update(_matching(bconn, "email", "other_emails", email))
                found = _gather(bconn, sorted(live))
                found.emails |= person.emails
                found.phones |= person.phones
                found.ids = sorted(set(found.ids) | set(person.ids))
                erase(bconn, found, lists=lists)
            _compact(bconn)
            bconn.execute("PRAGMA journal_mode = DELETE")  # one self-contained file again
            result.backups_purged.append(str(path))
        except (sqlite3.Error, LeadcliError):
            result.backups_failed.append(str(path))
        finally:
            backup.close()
