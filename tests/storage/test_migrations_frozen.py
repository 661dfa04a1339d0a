"""Released migrations are history: changing a live constant must not change what an old
step builds, or two databases at the same schema version would differ."""

from __future__ import annotations

from pathlib import Path

import pytest

from leadcli.storage import migrations
from leadcli.storage.store import connect


def _search_columns(store) -> tuple[list[str], str]:
    columns = [r[1] for r in store.conn.execute("PRAGMA table_info(leads_fts)")]
    trigger = store.conn.execute(
        "SELECT sql FROM sqlite_master WHERE name = 'leads_fts_au'"
    ).fetchone()[0]
    return columns, trigger


@pytest.mark.parametrize(
    ("step", "built"),
    [
        # Literals, not the module's frozen constants: editing one of those must fail here.
        (migrations.m001_initial, ("first_name", "last_name", "company", "email", "notes")),
        (migrations.m005_import_ranges, ("first_name", "last_name", "company", "email", "notes")),
        (
            migrations.m007_identity,
            (
                "first_name",
                "last_name",
                "company",
                "email",
                "notes",
                "other_emails",
                "other_phones",
            ),
        ),
    ],
)
def test_released_steps_do_not_read_the_live_search_columns(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, step, built
) -> None:
    """Each step that builds the search index, run with another live FTS_COLUMNS, builds the
    columns it always built."""
    monkeypatch.setattr(migrations, "FTS_COLUMNS", ("first_name", "city"))
    store = connect(tmp_path / "leads.db", migrate=False)
    migrations.migrate(store, target=migrations.MIGRATIONS.index(step) + 1)
    columns, trigger = _search_columns(store)
    store.close()
    assert columns == list(built)
    assert "city" not in trigger and "notes" in trigger


def test_the_live_search_columns_are_the_last_built() -> None:
    assert migrations.FTS_COLUMNS == migrations._FTS_COLUMNS_AT_M007
