"""`export`: every field back through `import`, atomic owner-only files, shared CSV safety."""

from __future__ import annotations

import csv
import io
import json
import os
import stat
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from leadcli.exporting import leads as exporting
from leadcli.exporting.writers import list_cell
from leadcli.importing.loader import ImportOptions, import_file
from leadcli.importing.rows import split_tags
from leadcli.leads.records import RECORD_FIELDS, LeadQuery, add_lead, list_leads
from leadcli.pipeline.transitions import advance
from leadcli.storage.store import connect
from leadcli.text.safe_text import strip_controls

# Any text a person or a web form may send, but NUL (which no CSV reader takes).
_CHARS = st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00")
_TEXT = st.text(_CHARS, max_size=12).map(str.strip)
_NONEMPTY = _TEXT.filter(bool)
_TAG = st.one_of(_NONEMPTY, st.sampled_from(["a;b", "c,d", '"q"', "[x]", "x\ny", "é ü"]))
_CUSTOM_NAME = _NONEMPTY.filter(lambda n: n not in RECORD_FIELDS)
_STAGES = ["prospect", "lead", "mql", "sql", "opportunity", "customer", "lost"]

_lead = st.fixed_dictionaries(
    {
        "first_name": _NONEMPTY,
        "last_name": _TEXT,
        "company": _TEXT,
        "title": _TEXT,
        "website": _TEXT,
        "city": _TEXT,
        "country": _TEXT,
        "source": _TEXT,
        "owner": _TEXT,
        "has_phone": st.booleans(),
        "has_external_id": st.booleans(),
        "street": _TEXT,
        "postal_code": _TEXT,
        "region": _TEXT,
        "notes": st.text(_CHARS, max_size=30).map(str.strip),
        "value": st.one_of(st.none(), st.integers(0, 10**7)),
        "do_not_contact": st.booleans(),
        "tags": st.lists(_TAG, max_size=3),
        "custom": st.dictionaries(_CUSTOM_NAME, _NONEMPTY, max_size=2),
        "stage": st.sampled_from(_STAGES),
        # A reason of control characters only is no reason (`advance` refuses it).
        "lost_reason": _NONEMPTY.filter(lambda r: strip_controls(r).strip()),
        "other_emails": st.lists(st.sampled_from(["b@x.io", "c@y.org"]), max_size=2, unique=True),
        # A number that is not one is kept as written, commas and all.
        "other_phones": st.sampled_from([[], ["+14155550199"], ["ext. 5, ask for Bob"]]),
        "external_system": st.sampled_from([None, "hubspot"]),
        "win_probability": st.one_of(st.none(), st.floats(0.01, 0.99)),
    }
)

#: What must survive the trip (ids, timestamps leadcli sets itself and scores excepted: an
#: import computes those; `custom` shows that none came back as a custom field).
_COMPARED = [
    f
    for f in RECORD_FIELDS
    if f not in ("id", "updated_at", "score", "rating", "win_probability", "bant", "tags", "custom")
]


def _make(store, specs: list[dict]) -> None:
    for number, spec in enumerate(specs):
        fields = {
            k: spec[k]
            for k in (
                "first_name",
                "last_name",
                "company",
                "title",
                "website",
                "city",
                "country",
                "source",
                "owner",
                "street",
                "postal_code",
                "region",
                "notes",
                "value",
                "do_not_contact",
            )
        }
        # Distinct e-mails: the same address twice is one person on import, by design.
        fields["email"] = f"person{number}@example.com"
        if spec["has_phone"]:
            fields["phone"] = f"+1415555{number:04d}"
        if spec["has_external_id"]:
            fields["external_id"] = f"X-{number}"
        lead = add_lead(store, fields, tags=spec["tags"], custom=spec["custom"])
        with store.write() as conn:  # what merges and imports fill
            conn.execute(
                "UPDATE leads SET other_emails = ?, other_phones = ?, external_system = ?, "
                "win_probability = ? WHERE id = ?",
                (
                    json.dumps(spec["other_emails"]) if spec["other_emails"] else None,
                    json.dumps(spec["other_phones"]) if spec["other_phones"] else None,
                    spec["external_system"] if spec["has_external_id"] else None,
                    spec["win_probability"],
                    lead,
                ),
            )
        if spec["stage"] == "lost":
            advance(store, [lead], lost=True, reason=spec["lost_reason"])
        elif spec["stage"] != "prospect":
            advance(store, [lead], to=spec["stage"])


def _comparable(record: dict) -> dict:
    out = {f: record[f] for f in _COMPARED}
    out["tags"] = sorted(record["tags"])
    out["custom"] = record["custom"]
    return out


@pytest.mark.parametrize("fmt", ["csv", "json", "jsonl"])
@settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(specs=st.lists(_lead, min_size=1, max_size=4))
def test_export_then_import_into_an_empty_database_gives_the_same_leads(fmt, specs):
    with tempfile.TemporaryDirectory() as folder:
        source = connect(Path(folder) / "a.db")
        target = connect(Path(folder) / "b.db")
        try:
            _make(source, specs)
            path = Path(folder) / f"leads.{fmt}"
            query = LeadQuery()
            columns = exporting.all_columns(source)
            with exporting.atomic_output(path) as out:
                exporting.write_records(exporting.export_records(source, query), fmt, columns, out)
            summary = import_file(target, str(path), ImportOptions())
            assert summary.rejected == 0
            before = [_comparable(r) for r in list_leads(source, query)]
            after = [_comparable(r) for r in list_leads(target, query)]
            assert after == before
        finally:
            source.close()
            target.close()


@given(st.lists(_TAG, max_size=5))
def test_a_tag_list_cell_reads_back_as_the_same_tags(tags):
    assert [t.strip() for t in split_tags(list_cell(tags)) if t.strip()] == [
        t.strip() for t in tags if t.strip()
    ]


def test_plain_tags_stay_a_plain_comma_list():
    """Scripts reading `list -f csv` keep their format when no tag needs quoting."""
    assert list_cell(["vip", "webinar"]) == "vip,webinar"
    assert list_cell(["a;b", "c"]) == '["a;b", "c"]'


def test_csv_export_neutralises_formulas_like_list(store, cli):
    add_lead(store, {"first_name": '=HYPERLINK("x")', "phone": "+1 415 555 0100"})
    exported = cli("export").stdout
    listed = cli("list", "-f", "csv").stdout
    assert exported == listed
    row = next(csv.DictReader(io.StringIO(exported)))
    assert row["first_name"] == '\'=HYPERLINK("x")'
    assert row["phone"] == "+14155550100"


def test_output_file_is_owner_only_and_replaced_whole(store, cli, tmp_path):
    add_lead(store, {"first_name": "Ana"})
    path = tmp_path / "out.csv"
    path.write_text("old")
    result = cli("export", "--output", str(path))
    assert result.exit_code == 0
    assert result.stdout == ""
    assert "Exported 1 lead" in result.stderr
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert path.read_text().startswith("id,first_name")
    assert [n for n in os.listdir(tmp_path) if n.endswith(".tmp")] == []


def test_a_failed_export_leaves_no_temp_file_and_the_old_file(tmp_path):
    folder = tmp_path / "exports"
    folder.mkdir()
    path = folder / "out.csv"
    path.write_text("old")
    with pytest.raises(RuntimeError), exporting.atomic_output(path) as out:
        out.write("partial")
        raise RuntimeError("disk full")
    assert path.read_text() == "old"
    assert os.listdir(folder) == ["out.csv"]


def test_output_into_a_missing_folder_is_one_clear_error(store, cli, tmp_path):
    add_lead(store, {"first_name": "Ana"})
    result = cli("export", "-o", str(tmp_path / "nowhere" / "out.csv"))
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: cannot use")


def test_for_outreach_leaves_out_do_not_contact_but_keeps_lost(store, cli):
    ana = add_lead(store, {"first_name": "Ana"})
    add_lead(store, {"first_name": "Bob", "do_not_contact": True})
    cy = add_lead(store, {"first_name": "Cy"})
    advance(store, [cy], lost=True, reason="budget")
    ids = [r["id"] for r in json.loads(cli("export", "--for-outreach", "-f", "json").stdout)]
    assert ids == [ana, cy]


def test_filters_and_columns(store, cli):
    add_lead(store, {"first_name": "Ana", "source": "web"}, custom={"Plan": "gold"})
    add_lead(store, {"first_name": "Bob", "source": "fair"})
    out = cli("export", "--source", "web", "--columns", "first_name,Plan", "-f", "jsonl")
    assert out.stdout == '{"first_name": "Ana", "Plan": "gold"}\n'
    csv_out = cli("export", "--columns", "Plan,first_name").stdout
    assert csv_out.splitlines() == ["Plan,first_name", "gold,Ana", ",Bob"]


def test_unknown_column_is_a_usage_error(store, cli):
    result = cli("export", "--columns", "first_name,shoe_size")
    assert result.exit_code == 2
    assert "first_name" in result.stderr


def test_custom_field_named_like_a_field_stays_custom_through_the_trip(store, cli, tmp_path):
    """A custom "Tags" or "Opt Out" column is not the tags or the opt-out when read back."""
    add_lead(store, {"first_name": "Ana"}, custom={"Tags": "x;y", "Opt Out": "yes"})
    path = tmp_path / "out.csv"
    cli("export", "-o", str(path))
    other = tmp_path / "other.db"
    assert cli("--db", str(other), "import", str(path)).exit_code == 0
    record = json.loads(cli("--db", str(other), "export", "-f", "json").stdout)[0]
    assert record["custom"] == {"Tags": "x;y", "Opt Out": "yes"}
    assert record["tags"] == []
    assert record["do_not_contact"] is False


def test_a_lost_reason_on_a_lead_that_is_not_lost_stays_a_custom_field(cli, tmp_path):
    path = tmp_path / "crm.csv"
    path.write_text(
        "Name,Status,Lost Reason,Created Date,Closed Date\n"
        "Ana Silva,Closed Lost,Budget,2025-01-01,2025-03-01\n"
        "Bo Li,Working,Timing,2025-01-01,\n"
    )
    assert cli("import", str(path)).exit_code == 0
    ana, bo = json.loads(cli("export", "-f", "json").stdout)
    assert (ana["stage"], ana["lost_reason"], ana["closed_at"]) == (
        "lost",
        "Budget",
        "2025-03-01T00:00:00Z",
    )
    assert bo["lost_reason"] is None
    assert bo["custom"] == {"Lost Reason": "Timing"}


def test_export_filters_are_lists_filters(cli, store, tmp_path):
    """The same filters select the same leads in `list` and `export`; a wrong --db path is
    an error, not a new empty database."""
    lead = add_lead(store, {"first_name": "Ana"}, tags=["vip", "webinar"])
    add_lead(store, {"first_name": "Bo"}, tags=["vip"])
    for args in (["--tag", "vip, webinar"], ["--tag", "vip", "--tag", "webinar"]):
        listed = json.loads(cli("list", *args, "-f", "json").stdout)
        exported = json.loads(cli("export", *args, "-f", "json").stdout)
        assert [r["id"] for r in exported] == [r["id"] for r in listed] == [lead]
    missing = tmp_path / "none.db"
    result = cli("--db", str(missing), "export")
    assert result.exit_code == 1 and not missing.exists()


def test_a_custom_field_named_like_a_crm_column_does_not_make_an_export_that_crm(tmp_path):
    """An own export says each lead's system in ``external_system``; a custom field named
    ``CONTACTOWNER`` (a HubSpot column) must not label the ids as HubSpot's on the way back."""
    source, target = connect(tmp_path / "a.db"), connect(tmp_path / "b.db")
    add_lead(source, {"email": "a@x.com", "external_id": "X-1"}, custom={"CONTACTOWNER": "0"})
    path = tmp_path / "leads.csv"
    with exporting.atomic_output(path) as out:
        exporting.write_records(
            exporting.export_records(source, LeadQuery()), "csv", exporting.all_columns(source), out
        )
    summary = import_file(target, str(path), ImportOptions())
    assert summary.system is None
    (lead,) = list_leads(target, LeadQuery())
    assert (lead["external_id"], lead["external_system"]) == ("X-1", None)
    source.close()
    target.close()
