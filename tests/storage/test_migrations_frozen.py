"""Released migrations are history: changing a live constant must not change what an old
step builds, or two databases at the same schema version would differ."""

from __future__ import annotations

from pathlib import Path

import pytest

from leadcli.storage import migrations
from leadcli.storage.store import connect


def test_released_steps_do_not_read_the_live_search_columns(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(migrations, "FTS_COLUMNS", ("first_name", "city"))
    store = connect(tmp_path / "leads.db")
    columns = [r[1] for r in store.conn.execute("PRAGMA table_info(leads_fts)")]
    trigger = store.conn.execute(
        "SELECT sql FROM sqlite_master WHERE name = 'leads_fts_au'"
    ).fetchone()[0]
    store.close()
    # the columns the last step that built the index wrote out (m007)
    assert columns == [
        "first_name",
        "last_name",
        "company",
        "email",
        "notes",
        "other_emails",
        "other_phones",
    ]
    assert "city" not in trigger and "notes" in trigger
