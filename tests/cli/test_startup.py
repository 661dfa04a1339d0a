"""Start-up stays lean: commands do not import what they do not use.

Asserts on which modules are loaded, not on timings (those live in benchmarks/startup.py).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

HEAVY = ("phonenumbers", "email_validator", "sqlite_utils", "dateutil", "tomli_w", "numpy")

PROBE = """
import json, sys
sys.argv = ["leadcli", *json.loads(sys.argv[1])]
from leadcli.cli.app import main
try:
    main()
except SystemExit:
    pass
sys.stdout.flush()
sys.stderr.write("\\nMODULES " + json.dumps(sorted(sys.modules)))
"""


def loaded_modules(args: list[str], db: Path) -> set[str]:
    env = {**os.environ, "LEADCLI_DB": str(db)}
    result = subprocess.run(
        [sys.executable, "-c", PROBE, json.dumps(args)],
        capture_output=True,
        text=True,
        env=env,
        check=True,
    )
    return set(json.loads(result.stderr.rsplit("MODULES ", 1)[1]))


@pytest.fixture
def migrated_db(tmp_path: Path) -> Path:
    from leadcli.leads.records import add_lead
    from leadcli.storage.store import connect

    db = tmp_path / "leads.db"
    store = connect(db)
    add_lead(store, {"first_name": "Ana", "email": "ana@acme.com"})
    store.close()
    return db


@pytest.mark.parametrize(
    "args",
    [["--version"], ["--help"], ["list", "--limit", "10"], ["list", "-f", "json"], ["score"]],
)
def test_no_heavy_imports(args, migrated_db):
    modules = loaded_modules(args, migrated_db)
    assert "leadcli.cli.app" in modules  # the probe really ran leadcli
    heavy = sorted(m for m in modules if m.split(".")[0] in HEAVY)
    assert heavy == []


def test_version_does_not_draw_tables(migrated_db):
    modules = loaded_modules(["--version"], migrated_db)
    assert "rich.table" not in modules
    assert "leadcli.storage.store" not in modules


def test_json_list_does_not_load_rich(migrated_db):
    modules = loaded_modules(["list", "-f", "json"], migrated_db)
    assert not any(m == "rich" or m.startswith("rich.") for m in modules)


ENTRY_PROBE = """
import json, sys
sys.argv = ["leadcli", "--version"]
from leadcli.cli.entry import main
main()
sys.stdout.flush()
sys.stderr.write("MODULES " + json.dumps(sorted(sys.modules)))
"""


def test_version_fast_path_imports_nothing_of_the_command_line(migrated_db):
    """The console script (``leadcli.cli.entry``) answers ``--version`` in a fresh process
    without Typer, Rich, the commands or the database: the probe imports only the entry
    module, as the installed ``leadcli`` script does, so any import it adds shows here."""
    env = {**os.environ, "LEADCLI_DB": str(migrated_db)}
    result = subprocess.run(
        [sys.executable, "-c", ENTRY_PROBE], capture_output=True, text=True, env=env, check=True
    )
    assert result.stdout.startswith("leadcli ")
    modules = set(json.loads(result.stderr.rsplit("MODULES ", 1)[1]))
    assert "leadcli.cli.entry" in modules
    leadcli_modules = {m for m in modules if m.startswith("leadcli")}
    assert leadcli_modules <= {"leadcli", "leadcli.cli", "leadcli.cli.entry"}
    unwanted = ("typer", "click", "rich", "sqlite3", "_sqlite3", *HEAVY)
    assert not [m for m in modules if m.split(".")[0] in unwanted]


def _top_level(app) -> set[str]:
    from typer.main import get_command

    return set(get_command(app).commands)


def test_each_command_is_found_in_the_module_the_table_names():
    """``main`` loads only the module ``COMMANDS`` names for the command run: a command
    added to a module but not to the table (or listed under another module) would be
    "No such command" from the console script while tests through ``app`` pass."""
    from leadcli.cli.app import COMMANDS, MODULES, build_app

    for module in MODULES:
        expected = {name for name, owner in COMMANDS.items() if owner == module}
        assert _top_level(build_app((module,))) == expected, module
    assert _top_level(build_app()) == set(COMMANDS)


@pytest.mark.parametrize(
    ("args", "modules"),
    [
        (["report", "lost"], ("reports",)),
        (["--db", "x.db", "due", "--db", "y.db"], ("due",)),
        (["--db=x.db", "import", "a.csv"], ("imports",)),
        (["--db", "report", "list"], ("leads",)),  # a database named "report"
    ],
)
def test_a_run_loads_only_its_commands_module(args, modules):
    from leadcli.cli.app import command_modules

    assert command_modules(args) == modules


@pytest.mark.parametrize("args", [[], ["--help"], ["-h", "list"], ["reprot"], ["--db", "x"]])
def test_help_and_unknown_names_load_every_command(args):
    from leadcli.cli.app import MODULES, command_modules

    assert command_modules(args) == MODULES


def test_a_mistyped_command_is_still_suggested(migrated_db):
    result = subprocess.run(
        [sys.executable, "-m", "leadcli", "--db", str(migrated_db), "reprot"],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 2
    assert "report" in result.stderr


def test_a_run_does_not_import_other_commands_modules(migrated_db):
    modules = loaded_modules(["due"], migrated_db)
    assert "leadcli.cli.commands.due" in modules
    assert "leadcli.cli.commands.followups" not in modules
    assert "leadcli.cli.commands.reports" not in modules
    assert "leadcli.cli.commands.capture" not in modules
