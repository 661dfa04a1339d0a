"""Schema steps from m018 on; a released step is frozen: never edited (add a new one)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sqlite_utils import Database


def m018_outreach(db: Database) -> None:
    """The messages ``mail`` sent or drafted, by the Message-ID it made: so a reply captured
    later (In-Reply-To / References) finds its lead, and a second run of the same template
    sends nothing new the same day (lead, template, day). No lead data: a lead erased later
    leaves its message ids with no lead, as ``captured_messages`` does."""
    db.execute(
        """
        CREATE TABLE sent_messages (
            message_id TEXT PRIMARY KEY,
            lead_id INTEGER REFERENCES leads(id) ON DELETE SET NULL,
            template TEXT NOT NULL,
            day TEXT NOT NULL,  -- the local day it went (YYYY-MM-DD): once a day a template
            outcome TEXT NOT NULL CHECK (outcome IN ('sent', 'drafted')),
            at TEXT NOT NULL
        ) WITHOUT ROWID
        """
    )
    db.execute("CREATE INDEX sent_messages_lead ON sent_messages (lead_id, template, day)")


def m019_unreachable_ends_enrolments(db: Database) -> None:
    """A lead that becomes unreachable (do-not-contact, or a closed stage) ends its active
    enrolments, whoever changed it: the event is the lead's update, so the lead record
    need not know that cadences exist (``engagement.cadences.unreachable_because`` is the
    rule in words; a test checks that the two agree for every stage).

    The enrolment ends when the opt-out was written (``updated_at``) or when the deal
    closed (``closed_at``, which a back-dated stage change sets to the day it happened).
    The trigger fires only for an update naming ``stage`` or ``do_not_contact``: rescoring
    and the other bulk writers never pay for it. Active enrolments of leads that are
    unreachable today (none, if every writer kept the rule) are ended once, here."""
    ends = """
        ended_at = CASE WHEN {lead}.do_not_contact THEN {lead}.updated_at
                        ELSE coalesce({lead}.closed_at, {lead}.updated_at) END,
        end_reason = CASE WHEN {lead}.do_not_contact THEN 'do not contact'
                          ELSE 'closed (' || {lead}.stage || ')' END,
        next_due_at = NULL
    """
    unreachable = "{lead}.do_not_contact OR {lead}.stage IN ('customer', 'lost')"
    db.execute(
        "CREATE TRIGGER leads_unreachable_end_enrolments "
        "AFTER UPDATE OF stage, do_not_contact ON leads "
        f"WHEN {unreachable.format(lead='new')} BEGIN "
        f"UPDATE enrolments SET {ends.format(lead='new')} "
        "WHERE lead_id = new.id AND ended_at IS NULL; END"
    )
    db.execute(
        f"UPDATE enrolments SET {ends.format(lead='leads')} FROM leads "
        f"WHERE leads.id = enrolments.lead_id AND enrolments.ended_at IS NULL "
        f"AND ({unreachable.format(lead='leads')})"
    )
