"""leadcli config path | show | set, and commands reading the settings."""

from __future__ import annotations

import json
import re
import tomllib
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

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


# ------------------------------------------------------------------ issue 14: one validator


def test_huge_stale_days_is_refused_and_due_keeps_working(cli):
    cli("add", "--first-name", "Ana")
    result = cli("config", "set", "followup.stale_days", "99999999999999999999999")
    assert result.exit_code == 1 and "followup.stale_days" in result.stderr
    assert cli("due").exit_code == 0


def test_a_file_with_a_huge_number_names_the_file_key_and_line(cli, isolated_env):
    path = Path(cli("config", "path").stdout.strip())
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("[followup]\nspeed_to_lead_minutes = 5\nstale_days = 99999999999999999\n")
    result = cli("due")
    assert result.exit_code == 1
    assert str(path) in result.stderr and "line 3" in result.stderr
    assert "followup.stale_days" in result.stderr
    assert "OverflowError" not in result.stderr and "internal" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_huge_weight_in_the_file_never_prints_infinity(cli, isolated_env):
    path = Path(cli("config", "path").stdout.strip())
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("[urgency]\noverdue = 1e308\n")
    cli("add", "--first-name", "Ana")
    result = cli("due", "-f", "json")
    assert result.exit_code == 1 and "Infinity" not in result.stdout
    assert "urgency.overdue" in result.stderr and "line 2" in result.stderr
    assert cli("config", "set", "urgency.overdue", "1e308").exit_code == 1


@pytest.mark.parametrize(
    ("content", "key", "line"),
    [
        ('[contacts]\nphone_region = "XX"\n', "contacts.phone_region", 2),
        ("[rating]\nhot = 50\nwarm = 60\n", "rating.warm", 3),
        ("[followup]\nstale_days = 3\nstale_dayz = 4\n", "followup.stale_dayz", 3),
        ("surprise = 1\n", "surprise", 1),
        ('followup.stale_days = "soon"\n', "followup.stale_days", 1),
        ("[qualify]\nsql_min_criteria = true\n", "qualify.sql_min_criteria", 2),
    ],
)
def test_the_file_gets_the_same_checks_as_config_set(cli, isolated_env, content, key, line):
    path = Path(cli("config", "path").stdout.strip())
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(content)
    result = cli("due")
    assert result.exit_code == 1
    assert f"{path}, line {line}: {key}" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_a_bad_region_in_the_file_does_not_blame_region(cli, isolated_env, tmp_path: Path):
    path = Path(cli("config", "path").stdout.strip())
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text('[contacts]\nphone_region = "XX"\n')
    leads = tmp_path / "leads.csv"
    leads.write_text("Name,Phone\nAna,020 7946 0958\n")
    result = cli("import", str(leads))
    assert result.exit_code == 1
    assert "--region" not in result.stderr and "contacts.phone_region" in result.stderr


def test_config_set_mends_the_bad_key_itself(cli, isolated_env):
    path = Path(cli("config", "path").stdout.strip())
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("[followup]\nstale_days = -3\n")
    assert cli("config", "set", "followup.stale_days", "10").exit_code == 0
    assert cli("due").exit_code == 0


def test_phone_regions_match_phonenumbers():
    import phonenumbers

    assert config.PHONE_REGIONS == phonenumbers.SUPPORTED_REGIONS


def test_a_cadence_step_far_away_does_not_crash_enroll(cli, tmp_path: Path):
    cadences = tmp_path / "cadences.toml"
    cadences.write_text('[cadences.far]\nsteps = [{ day = 999999999, kind = "call" }]\n')
    cli("add", "--first-name", "Ana")
    result = cli("enroll", "1", "far", "--file", str(cadences))
    assert result.exit_code == 1
    assert "day must be a whole number from 0 to 36500" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


# A fuzz test: whatever a user writes, every command either works or fails with one line.

_values = st.one_of(
    # The values that broke commands before the validator, then anything at all.
    st.sampled_from([10**23, 99999999999999999999, 1e308, -1e308, 999999999, -1, 0]),
    st.integers(min_value=-(10**30), max_value=10**30),
    st.floats(allow_nan=True, allow_infinity=True),
    st.booleans(),
    st.text(max_size=12),
    st.sampled_from(["US", "gb", "XX", "1e308", "-0", "99999999999999999999", "NaN", " 5 "]),
    st.lists(st.integers(), max_size=2),
)
_keys = st.one_of(st.sampled_from(sorted(config.SETTINGS)), st.sampled_from(["nope", "a.b"]))


def _one_clear_line_or_success(result) -> None:
    assert result.exit_code in (0, 1), result.stderr
    if result.exit_code == 1:
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("Error: "), result.stderr
        assert "internal error" not in lines[0]
    # No non-finite number in the output (JSON has none); a text setting may say "NaN".
    assert not re.search(r"(?<![\w\"])-?(Infinity|NaN)(?![\w\"])", result.stdout), result.stdout


@settings(
    max_examples=35,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(written=st.dictionaries(_keys, _values, min_size=1, max_size=3), via_set=st.booleans())
def test_no_config_value_breaks_a_command(cli, isolated_env, tmp_path, written, via_set):
    import tomli_w

    path = Path(cli("config", "path").stdout.strip())
    path.parent.mkdir(parents=True, exist_ok=True)
    path.unlink(missing_ok=True)
    if via_set:
        for key, value in written.items():
            _one_clear_line_or_success(cli("config", "set", "--", key, str(value)))
    else:
        path.write_bytes(tomli_w.dumps(config._nest(written)).encode())
    leads = tmp_path / "fuzz.csv"
    leads.write_text("Name,Phone,Status\nAna,020 7946 0958,Working\n")
    for args in (
        ("add", "--first-name", "Bo", "--phone", "020 7946 0958"),
        ("import", str(leads)),
        ("list", "-f", "json"),
        ("due", "-f", "json"),
        ("due",),
        ("config", "show", "-f", "json"),
        ("qualify", "1", "--budget", "yes"),
    ):
        _one_clear_line_or_success(cli(*args, env={"LEADCLI_NOW": "2026-11-24T09:00:00Z"}))
