"""User configuration: a small TOML file of defaults that commands consult.

Every key is declared in ``SETTINGS`` with its type, default and meaning, so ``config set``
can refuse typos and wrong types instead of writing a file that breaks later. Reading uses the
standard library's ``tomllib``; writing uses ``tomli-w`` (the standard library cannot write).
"""

from __future__ import annotations

import math
import os
import tomllib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from leadcli.errors import ConfigError
from leadcli.storage.paths import ensure_private_dir, resolve_config_path


def _region(value: str) -> str:
    value = value.strip().upper()
    if len(value) != 2 or not value.isalpha():
        raise ValueError("a two-letter ISO country code such as US, GB or DE")
    return value


def _whole(low: int, high: int | None = None) -> Callable[[str], int]:
    """A parser for a whole number from ``low`` (up to ``high``), saying so when it is not."""
    expected = (
        f"a whole number of {low} or more"
        if high is None
        else f"a whole number from {low} to {high}"
    )

    def parse(value: str) -> int:
        try:
            number = int(str(value).strip())
        except ValueError:
            raise ValueError(expected) from None
        if number < low or (high is not None and number > high):
            raise ValueError(expected)
        return number

    return parse


_positive_int = _whole(0)
_criteria = _whole(1, 4)
_score = _whole(0, 100)


def _number(value: str) -> float:
    try:
        number = float(str(value).strip())
    except ValueError:
        raise ValueError("a number such as 1.5") from None
    if not math.isfinite(number):  # nan / inf would poison every urgency sum
        raise ValueError("a finite number such as 1.5")
    return number


def _known_region(value: str) -> str:
    """``config set`` only: a region phonenumbers can parse numbers for. Checked when the
    value is written, not on every load, so start-up never imports phonenumbers."""
    import phonenumbers

    if value not in phonenumbers.SUPPORTED_REGIONS:
        raise ValueError("a country code that phone numbers are known for, such as US, GB or DE")
    return value


def _aliases(value: Any) -> dict[str, str]:
    """``sources.aliases``: a TOML table ``{website = "web"}`` or, typed on the command line,
    ``website=web, site=web``; each alias source is counted as the source it names."""
    if isinstance(value, dict):
        pairs = list(value.items())
    else:
        pairs = []
        for part in str(value).split(","):
            if part.strip():
                alias, sep, target = part.partition("=")
                if not sep:
                    raise ValueError("alias=source pairs such as website=web, site=web")
                pairs.append((alias, target))
    out = {str(a).strip(): str(t).strip() for a, t in pairs}
    if any(not a or not t for a, t in out.items()):
        raise ValueError("alias=source pairs with both names given")
    return out


def _probability(value: str) -> float:
    number = _number(value)
    if not 0 <= number <= 1:
        raise ValueError("a probability from 0 to 1")
    return number


@dataclass(frozen=True)
class Setting:
    key: str
    default: Any
    parse: Callable[[str], Any]
    help: str
    #: A further check of the parsed value, made by ``config set`` only (it may be slow).
    check: Callable[[Any], Any] | None = None


SETTINGS: dict[str, Setting] = {
    s.key: s
    for s in (
        Setting(
            "contacts.phone_region",
            "US",
            _region,
            "Country assumed for phone numbers written without +country code.",
            _known_region,
        ),
        Setting(
            "followup.speed_to_lead_minutes",
            60,
            _positive_int,
            "A new lead not contacted within this many minutes is flagged by `due`.",
        ),
        Setting(
            "followup.stale_days",
            14,
            _positive_int,
            "An open lead with no activity for this many days is flagged by `due`.",
        ),
        *(
            Setting(f"urgency.{name}", default, _number, f"Urgency weight: {meaning}.")
            for name, default, meaning in (
                ("overdue", 1.0, "per day a follow-up or step is overdue (up to 30 days)"),
                ("score", 4.0, "times the lead's score / 100"),
                ("stage", 2.0, "times how far along the funnel the lead is (0 to 1)"),
                ("new_lead", 8.0, "a new lead not contacted within the speed-to-lead SLA"),
                ("follow_up", 5.0, "a follow-up that is due"),
                ("cadence", 3.0, "a cadence step that is due"),
                ("stale", 1.0, "an open lead with no activity for followup.stale_days"),
            )
        ),
        Setting("rating.hot", 70, _score, "Score at or above which a lead is rated hot."),
        Setting(
            "rating.warm", 40, _score, "Score at or above which a lead is rated warm (below hot)."
        ),
        Setting(
            "qualify.sql_min_criteria",
            3,
            _criteria,
            "BANT criteria met (of 4) for a lead to become a sales-qualified lead.",
        ),
        Setting(
            "qualify.timeline_horizon_days",
            180,
            _positive_int,
            "A BANT timeline counts as met when the purchase is this many days away or less.",
        ),
        Setting(
            "qualify.mql_min_score",
            50,
            _score,
            "Score over which a lead becomes a marketing-qualified lead.",
        ),
        # Reports (`leadcli report`).
        Setting(
            "sources.aliases",
            {},
            _aliases,
            "Sources counted as another in reports, e.g. website=web (TOML: [sources.aliases]).",
        ),
        *(
            Setting(
                f"pipeline.probability.{stage}",
                default,
                _probability,
                f"Win probability of an open {stage} lead while history is too thin to tell.",
            )
            for stage, default in (
                ("prospect", 0.02),
                ("lead", 0.05),
                ("mql", 0.1),
                ("sql", 0.25),
                ("opportunity", 0.5),
            )
        ),
        Setting(
            "pipeline.min_closed",
            20,
            _positive_int,
            "Closed leads a stage needs before its own win rate replaces the configured one.",
        ),
    )
}

#: Settings whose value is a TOML table, kept whole rather than flattened into keys.
_TABLES = frozenset(key for key, s in SETTINGS.items() if isinstance(s.default, dict))


def _check_together(values: dict[str, Any]) -> None:
    """Rules between settings; ``values`` holds every key (file over defaults)."""
    if values["rating.warm"] >= values["rating.hot"]:
        raise ValueError(
            f"rating.warm ({values['rating.warm']}) must be below "
            f"rating.hot ({values['rating.hot']})"
        )


def _flatten(table: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for key, value in table.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict) and name not in _TABLES:
            flat.update(_flatten(value, f"{name}."))
        else:
            flat[name] = value
    return flat


def _nest(flat: dict[str, Any]) -> dict[str, Any]:
    nested: dict[str, Any] = {}
    for key, value in flat.items():
        node = nested
        *parents, leaf = key.split(".")
        for part in parents:
            node = node.setdefault(part, {})
        node[leaf] = value
    return nested


def read_file(path: Path | None = None) -> dict[str, Any]:
    """The values written in the config file (flattened to dotted keys), or {} if none."""
    path = path or resolve_config_path()
    try:
        with open(path, "rb") as handle:
            return _flatten(tomllib.load(handle))
    except FileNotFoundError:
        return {}
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(
            f"the config file {path} is not valid TOML ({exc})",
            hint="fix it by hand or delete it to return to the defaults",
        ) from exc


class Config:
    """Effective settings: the file's values over the defaults."""

    def __init__(self, values: dict[str, Any], path: Path) -> None:
        self.values = values
        self.path = path

    def __getitem__(self, key: str) -> Any:
        return self.values[key]

    def items(self) -> list[tuple[str, Any, str]]:
        """(key, value, where it comes from) for every known setting."""
        written = read_file(self.path)
        return [
            (key, self.values[key], "file" if key in written else "default") for key in SETTINGS
        ]


def _parsed(path: Path) -> dict[str, Any]:
    """Every setting's value: the file's, parsed, over the defaults."""
    values = {key: setting.default for key, setting in SETTINGS.items()}
    for key, raw in read_file(path).items():
        if key in SETTINGS:
            try:
                values[key] = SETTINGS[key].parse(raw if isinstance(raw, dict) else str(raw))
            except ValueError as exc:
                raise ConfigError(f"config key {key} in {path} must be {exc}") from exc
        # Unknown keys are left alone: a newer leadcli may have written them.
    return values


def load(path: Path | None = None) -> Config:
    path = path or resolve_config_path()
    # Rules between settings are checked by set_value only: a file an older leadcli wrote
    # keeps loading.
    return Config(_parsed(path), path)


def set_value(key: str, raw: str, path: Path | None = None) -> Any:
    """Validate and write one setting; returns the parsed value."""
    path = path or resolve_config_path()
    setting = SETTINGS.get(key)
    if setting is None:
        raise ConfigError(
            f"unknown config key {key!r}", hint="known keys: " + ", ".join(sorted(SETTINGS))
        )
    try:
        value = setting.parse(raw)
        if setting.check is not None:
            value = setting.check(value)
    except ValueError as exc:
        raise ConfigError(f"{key} must be {exc}") from exc
    import tomli_w

    written = read_file(path)
    try:
        _check_together({**_parsed(path), key: value})
    except ValueError as exc:
        raise ConfigError(f"{key} not changed: {exc}") from exc
    written[key] = value
    ensure_private_dir(path.parent)
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "wb") as handle:
        tomli_w.dump(_nest(written), handle)
    os.replace(tmp, path)  # atomic: a crash never leaves half a config file
    return value
