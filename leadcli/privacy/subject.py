"""Subject access: everything leadcli holds about one person, as one JSON-ready document.

A person asking "what do you hold about me?" names themselves by e-mail; every lead holding
that address (as ``email`` or in ``other_emails``) is theirs, with each table's rows about it
in full rather than the summaries ``show`` prints: fields and custom fields, tags, BANT
answers, activities, follow-ups, cadence enrolments, history (with that of leads merged into
it) and the import batches that brought it. The document also says whether the address is
on the suppression list, which is all that is left of a person after ``forget``.
"""

from __future__ import annotations

import sqlite3
from typing import Any

from leadcli.errors import InvalidValue
from leadcli.leads import history
from leadcli.leads.records import get_lead
from leadcli.privacy import suppression
from leadcli.storage.store import Store
from leadcli.text import dates

#: The rows of each table, by lead, as they are stored (every column).
_TABLES = {
    "bant_answers": "SELECT * FROM bant_answers WHERE lead_id = ? ORDER BY criterion",
    "activities": "SELECT * FROM activities WHERE lead_id = ? ORDER BY at, id",
    "followups": "SELECT * FROM followups WHERE lead_id = ? ORDER BY due_at, id",
    "enrolments": "SELECT * FROM enrolments WHERE lead_id = ? ORDER BY started_at, id",
}


def _batches(conn: sqlite3.Connection, lead_id: int) -> list[dict[str, Any]]:
    """The import batches that created the lead or whose rows were found to be it."""
    rows = conn.execute(
        "SELECT id, file_name, imported_at, 'created' AS how FROM import_batches "
        "WHERE ? BETWEEN first_lead_id AND last_lead_id "
        "UNION SELECT b.id, b.file_name, b.imported_at, 'created' FROM batch_leads AS l "
        "JOIN import_batches AS b ON b.id = l.batch_id WHERE l.lead_id = ? "
        "UNION SELECT b.id, b.file_name, b.imported_at, 'matched' FROM batch_matches AS m "
        "JOIN import_batches AS b ON b.id = m.batch_id WHERE m.lead_id = ? ORDER BY 1",
        (lead_id, lead_id, lead_id),
    )
    return [dict(r) for r in rows]


def subject_document(store: Store, email: str) -> dict[str, Any]:
    """Everything held about the person with ``email`` (see the module)."""
    from leadcli.text.contacts import normalise_email

    try:
        address = normalise_email(email)
    except ValueError as exc:
        raise InvalidValue("subject", str(exc)) from None
    with store.read() as conn:
        ids = [
            r[0]
            for r in conn.execute(
                "SELECT id FROM leads WHERE email = ?1 COLLATE NOCASE OR (other_emails IS NOT "
                "NULL AND EXISTS (SELECT 1 FROM json_each(other_emails) "
                "WHERE value = ?1 COLLATE NOCASE)) ORDER BY id",
                (address,),
            )
        ]
        suppressed = suppression.is_suppressed(conn, email=address)
    leads = []
    for lead_id in ids:
        record = get_lead(store, lead_id, with_history=False)
        with store.read() as conn:
            for name, sql in _TABLES.items():
                record[name] = [dict(r) for r in conn.execute(sql, (lead_id,))]
            record["history"] = history.for_lead(conn, lead_id)
            record["import_batches"] = _batches(conn, lead_id)
        leads.append(record)
    return {
        "subject": address,
        "generated_at": dates.now_text(),
        "leads": leads,
        "suppressed": suppressed,
    }
