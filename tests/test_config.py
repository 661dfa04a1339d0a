"""leadcli config path | show | set, and commands reading the settings."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

import pytest

from leadcli import config
from leadcli.errors import ConfigError


def test_defaults_without_a_file(tmp_path: Path):
    cfg = config.load(tmp_path / "none.toml")
    assert cfg["contacts.phone_region"] == "US"
    assert cfg["followup.speed_to_lead_minutes"] == 60


def test_set_writes_toml_and_validates(tmp_path: Path):
    path = tmp_path / "sub" / "config.toml"
    assert config.set_value("contacts.phone_region", "gb", path) == "GB"
    assert config.set_value("rating.hot", "80", path) == 80
    assert tomllib.loads(path.read_text()) == {
        "contacts": {"phone_region": "GB"},
        "rating": {"hot": 80},
    }
    assert config.load(path)["rating.hot"] == 80
    with pytest.raises(ConfigError, match="unknown config key"):
        config.set_value("rating.tepid", "1", path)
    with pytest.raises(ConfigError, match="0 to 100"):
        config.set_value("rating.hot", "120", path)
    with pytest.raises(ConfigError, match="whole number"):
        config.set_value("followup.stale_days", "soon", path)


def test_broken_file_is_a_clear_error(tmp_path: Path):
    path = tmp_path / "config.toml"
    path.write_text("this is = = not toml")
    with pytest.raises(ConfigError, match="not valid TOML"):
        config.load(path)


def test_cli_path_show_set(cli, isolated_env):
    path = cli("config", "path").stdout.strip()
    assert path.endswith("config.toml") and "config" in path
    assert cli("config", "set", "contacts.phone_region", "GB").exit_code == 0
    shown = json.loads(cli("config", "show", "-f", "json").stdout)
    assert {"key": "contacts.phone_region", "value": "GB", "from": "file"} in shown
    lines = cli("config", "show", "-f", "jsonl").stdout.splitlines()
    assert [json.loads(line) for line in lines] == shown  # json and jsonl agree
    table = cli("config", "show").stdout
    assert "contacts.phone_region" in table and "file" in table
    bad = cli("config", "set", "nope", "1")
    assert bad.exit_code == 1 and "known keys" in bad.stderr


def test_phone_region_setting_is_used_by_add(cli):
    cli("config", "set", "contacts.phone_region", "GB")
    cli("add", "--first-name", "Ana", "--phone", "020 7946 0958")
    [lead] = json.loads(cli("list", "-f", "json").stdout)
    assert lead["phone"] == "+442079460958"


@pytest.mark.parametrize(
    ("key", "value", "expected"),
    [
        ("urgency.overdue", "nan", "finite"),
        ("urgency.score", "inf", "finite"),
        ("urgency.stale", "Infinity", "finite"),
        ("qualify.sql_min_criteria", "0", "1 to 4"),
        ("qualify.sql_min_criteria", "5", "1 to 4"),
        ("contacts.phone_region", "ZZ", "country code"),
        ("rating.warm", "70", "below rating.hot"),
        ("rating.hot", "40", "below rating.hot"),
        ("rating.warm", "90", "below rating.hot"),
    ],
)
def test_cli_set_refuses_bad_values_and_leaves_the_file(cli, isolated_env, key, value, expected):
    cli("config", "set", "urgency.overdue", "2")
    path = Path(cli("config", "path").stdout.strip())
    before = path.read_bytes()
    result = cli("config", "set", key, value)
    assert result.exit_code == 1 and result.stdout == ""
    assert key in result.stderr and expected in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert path.read_bytes() == before


def test_rating_pair_can_move_in_the_right_order(tmp_path: Path):
    path = tmp_path / "config.toml"
    assert config.set_value("rating.hot", "90", path) == 90
    assert config.set_value("rating.warm", "80", path) == 80
    with pytest.raises(ConfigError, match=r"rating\.hot not changed"):
        config.set_value("rating.hot", "80", path)
    assert config.set_value("qualify.sql_min_criteria", "4", path) == 4
    assert config.set_value("urgency.overdue", "-1.5", path) == -1.5


def test_due_works_after_setting_weights(cli):
    cli("add", "--first-name", "Ana")
    assert cli("config", "set", "urgency.new_lead", "nan").exit_code == 1
    assert cli("due").exit_code == 0


def test_phone_region_check_does_not_slow_start_up(tmp_path: Path):
    """phonenumbers is imported by `config set contacts.phone_region`, never by load."""
    import subprocess
    import sys

    path = tmp_path / "config.toml"
    config.set_value("contacts.phone_region", "gb", path)
    code = (
        "import sys; from leadcli import config; from pathlib import Path; "
        f"assert config.load(Path({str(path)!r}))['contacts.phone_region'] == 'GB'; "
        "assert 'phonenumbers' not in sys.modules"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
