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
