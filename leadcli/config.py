"""User configuration: a small TOML file of defaults that commands consult.

Every key is declared in ``SETTINGS`` with its type, default and meaning, so ``config set``
can refuse typos and wrong types instead of writing a file that breaks later. One validator,
``validate``, serves ``config set``, every load of the file (a file edited by hand gets the
same checks) and ``doctor``: types, ranges that keep every computation finite (a stale-days
count of 10^23 would overflow date arithmetic in every later ``due``, an urgency weight of
1e308 would print ``Infinity``), thresholds in order, known phone regions, known keys. A bad
file is one error naming the file, the key and its line. Reading uses the standard library's
``tomllib``; writing uses ``tomli-w`` (the standard library cannot write).
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
from leadcli.identity.evidence import (
    PLACEHOLDERS,
    PLACEHOLDERS_KEY,
    ROLE_ADDRESSES,
    ROLE_ADDRESSES_KEY,
)
from leadcli.pipeline.stages import OPEN_STAGES
from leadcli.storage.paths import ensure_private_dir, resolve_config_path
from leadcli.text import toml_text

#: The regions phonenumbers has metadata for (``phonenumbers.SUPPORTED_REGIONS``, which a
#: test keeps in step): checking a region on every load must not import phonenumbers.
PHONE_REGIONS = frozenset(
    """
    AC AD AE AF AG AI AL AM AO AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ BR
    BS BT BW BY BZ CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM DO DZ EC
    EE EG EH ER ES ET FI FJ FK FM FO FR GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GT GU GW GY HK
    HN HR HT HU ID IE IL IM IN IO IQ IR IS IT JE JM JO JP KE KG KH KI KM KN KP KR KW KY KZ LA LB
    LC LI LK LR LS LT LU LV LY MA MC MD ME MF MG MH MK ML MM MN MO MP MQ MR MS MT MU MV MW MX MY
    MZ NA NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF PG PH PK PL PM PR PS PT PW PY QA RE RO RS
    RU RW SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV SX SY SZ TA TC TD TG TH TJ TK TL
    TM TN TO TR TT TV TW TZ UA UG US UY UZ VA VC VE VG VI VN VU WF WS XK YE YT ZA ZM ZW
    """.split()  # noqa: SIM905 - 245 codes read better as words
)


def _locale(value: str) -> str:
    """``import.locale``: empty (the environment's: LC_ALL, LC_NUMERIC, LANG) or a locale."""
    if not value.strip():
        return ""
    from leadcli.text.numbers import check_locale

    return check_locale(value)


def _region(value: str) -> str:
    value = value.strip().upper()
    if len(value) != 2 or not value.isalpha():
        raise ValueError("a two-letter ISO country code such as US, GB or DE")
    if value not in PHONE_REGIONS:
        raise ValueError("a country code that phone numbers are known for, such as US, GB or DE")
    return value


def _whole(low: int, high: int) -> Callable[[str], int]:
    """A parser for a whole number from ``low`` to ``high``, saying so when it is not. Every
    count has an upper bound: days and minutes become date arithmetic, which overflows."""
    expected = f"a whole number from {low} to {high}"

    def parse(value: str) -> int:
        text = str(value).strip()
        if len(text) > 40:  # int() of a huge digit string is slow, and out of range anyway
            raise ValueError(expected)
        try:
            number = int(text)
        except ValueError:
            raise ValueError(expected) from None
        if not low <= number <= high:
            raise ValueError(expected)
        return number

    return parse


#: A hundred years: beyond it a span of days is a typo, and date arithmetic nears year 9999.
MAX_DAYS = 36_500
_days = _whole(0, MAX_DAYS)
_minutes = _whole(0, MAX_DAYS * 24 * 60)
_criteria = _whole(1, 4)
_score = _whole(0, 100)
#: Urgency weights are summed over a handful of terms (days overdue up to 30, score and
#: stage up to 1): this bound keeps every sum finite and printable in JSON.
MAX_WEIGHT = 1_000_000.0


def _number(value: str) -> float:
    expected = f"a finite number from -{MAX_WEIGHT:.0f} to {MAX_WEIGHT:.0f}, such as 1.5"
    text = str(value).strip()
    if len(text) > 40:
        raise ValueError(expected)
    try:
        number = float(text)
    except ValueError:
        raise ValueError(expected) from None
    if not math.isfinite(number) or abs(number) > MAX_WEIGHT:
        raise ValueError(expected)
    return number


def _word_list(value: str) -> tuple[str, ...]:
    """A list of words: a TOML array in the file, or comma-separated with ``config set``."""
    return tuple(w.strip() for w in value.split(",") if w.strip())


def _scoring_model(value: str) -> str:
    from leadcli.scoring import MODES

    value = str(value).strip().lower()
    if value not in MODES:
        raise ValueError(f"one of {', '.join(MODES)}")
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


def _address_or_domain(text: str) -> str:
    """An e-mail address or ``@domain``, lower-cased; a shape check only (no look-up)."""
    text = text.strip().lower()
    _local, at, domain = text.rpartition("@")
    if not at or "." not in domain or " " in text or text.count("@") > 1:
        raise ValueError("e-mail addresses or @domain entries, e.g. me@example.com, @example.com")
    return text


def _own_addresses(value: str) -> tuple[str, ...]:
    """``capture.own_addresses``: the user's own addresses (or ``@domain``), never leads."""
    return tuple(_address_or_domain(w) for w in _word_list(value))


#: Parsers of settings kept as a TOML array of words.
_LIST_PARSERS = (_word_list, _own_addresses)


def _capture_sources(value: Any) -> dict[str, str]:
    """``capture.sources``: the source a lead captured from a sender gets, by its address or
    ``@domain`` (TOML: ``[capture.sources]``; typed: ``forms@site.com=website form``)."""
    pairs = _aliases(value)
    return {_address_or_domain(a): s for a, s in pairs.items()}


def _probability(value: str) -> float:
    number = _number(value)
    if not 0 <= number <= 1:
        raise ValueError("a probability from 0 to 1")
    return number


def _text(value: str) -> str:
    """A line of text (a command, a host, a URI): no control characters."""
    text = str(value).strip()
    if any(ord(c) < 32 or ord(c) == 127 for c in text):
        raise ValueError("one line of text without control characters")
    return text


def _sender(value: str) -> str:
    """``mail.from``: ``Name <me@example.com>`` or an address (checked when mail is sent)."""
    text = _text(value)
    if text and "@" not in text:
        raise ValueError("an address such as Ana Diaz <ana@example.com>")
    return text


def _choice(*choices: str) -> Callable[[str], str]:
    def parse(value: str) -> str:
        text = str(value).strip().lower()
        if text not in choices:
            raise ValueError(f"one of {', '.join(choices)}")
        return text

    return parse


@dataclass(frozen=True)
class Setting:
    key: str
    default: Any
    parse: Callable[[str], Any]
    help: str


SETTINGS: dict[str, Setting] = {
    s.key: s
    for s in (
        Setting(
            "contacts.phone_region",
            "US",
            _region,
            "Country assumed for phone numbers written without +country code.",
        ),
        Setting(
            "import.locale",
            "",
            _locale,
            "How an import reads numbers and dates whose cells fit two readings (1.500, "
            "03/11/2026), e.g. de_DE or en_US; empty: the environment's (LC_ALL, LC_NUMERIC, "
            "LANG).",
        ),
        Setting(
            "report.locale",
            "",
            _locale,
            "How report pages (--html, --svg, --pdf) write numbers, e.g. de_DE (1.234,5); "
            "empty: as import.locale says, else 1,234.5.",
        ),
        Setting(
            "followup.speed_to_lead_minutes",
            60,
            _minutes,
            "A new lead not contacted within this many minutes is flagged by `due`.",
        ),
        Setting(
            "followup.new_lead_limit",
            20,
            _whole(1, 10_000),
            "`due` lists at most this many new leads not contacted yet (--all lists all).",
        ),
        Setting(
            "followup.stale_days",
            14,
            _days,
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
        Setting(
            "scoring.model",
            "rules",
            _scoring_model,
            "How `score` scores by default: rules, predictive (the trained model) or blend.",
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
            _days,
            "A BANT timeline counts as met when the purchase is this many days away or less.",
        ),
        Setting(
            ROLE_ADDRESSES_KEY,
            ", ".join(ROLE_ADDRESSES),
            _word_list,
            "Local parts of shared addresses (info@ ...): the same one is one person only "
            "with compatible names.",
        ),
        Setting(
            PLACEHOLDERS_KEY,
            ", ".join(PLACEHOLDERS),
            _word_list,
            "Values that mean none (n/a, 0000000000, test@test.com ...): missing, never "
            "evidence of a person.",
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
            for stage, default in zip(OPEN_STAGES, (0.02, 0.05, 0.1, 0.25, 0.5), strict=True)
        ),
        # Capture (`leadcli capture`).
        Setting(
            "capture.own_addresses",
            "",
            _own_addresses,
            "Your own e-mail addresses or @domains: mail from them is never a lead.",
        ),
        Setting(
            "capture.sources",
            {},
            _capture_sources,
            "Source of leads captured from a sender address or @domain, e.g. "
            "forms@site.com=website form (TOML: [capture.sources]); else email or form.",
        ),
        # Outreach (`leadcli mail`); the SMTP password is never a setting (see README).
        Setting("mail.from", "", _sender, "Sender of `mail`: Name <me@example.com>."),
        Setting("mail.sendmail", "", _text, "A sendmail-compatible command, e.g. msmtp -t."),
        Setting("mail.smtp_host", "", _text, "SMTP server of `mail --send` (no sendmail)."),
        Setting("mail.smtp_port", 587, _whole(1, 65535), "SMTP port (587 STARTTLS, 465 TLS)."),
        Setting(
            "mail.smtp_security",
            "starttls",
            _choice("starttls", "tls", "none"),
            "starttls, tls, or none (a server on this machine only).",
        ),
        Setting("mail.smtp_user", "", _text, "SMTP login; empty: none."),
        Setting(
            "mail.password_command",
            "",
            _text,
            "Prints the SMTP password (pass show smtp); else $LEADCLI_SMTP_PASSWORD.",
        ),
        Setting(
            "mail.smtp_cafile", "", _text, "CA file the SMTP server's certificate is checked by."
        ),
        Setting(
            "mail.per_minute",
            30,
            _whole(0, 100_000),
            "Messages sent a minute at most; 0: no limit.",
        ),
        Setting(
            "mail.unsubscribe",
            "",
            _text,
            "List-Unsubscribe targets (mailto: or https:, comma-separated; {lead_id} filled in).",
        ),
        Setting(
            "backup.keep",
            5,
            _whole(0, 1000),
            "Automatic backups kept (taken before import undo, merge, dedupe --merge, forget and "
            "schema upgrades; restore always takes one), besides the newest of each kind; 0 "
            "turns them off.",
        ),
        Setting(
            "pipeline.min_closed",
            20,
            _whole(1, 1_000_000),
            "Closed leads a stage needs before its own win rate replaces the configured one.",
        ),
    )
}

#: Settings whose value is a TOML table, kept whole rather than flattened into keys.
_TABLES = frozenset(key for key, s in SETTINGS.items() if isinstance(s.default, dict))


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
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(
            f"cannot read the config file {path} ({exc.__class__.__name__})",
            hint="check its permissions, or point LEADCLI_CONFIG at another file",
        ) from exc


class Invalid(ValueError):
    """One setting that fails validation: which key, and why."""

    def __init__(self, key: str, message: str) -> None:
        super().__init__(message)
        self.key = key


def validate(written: dict[str, Any]) -> dict[str, Any]:
    """Every setting's value: ``written`` (dotted keys, as in the file or from ``config
    set``), parsed and checked, over the defaults. Raises Invalid for the first bad key: an
    unknown key, a wrong type, a value out of range, or thresholds out of order.

    The one validator: ``config set`` runs it on the file as it would be written, loading
    runs it on the file as it is, and ``doctor`` reports what it raises.
    """
    values = {key: setting.default for key, setting in SETTINGS.items()}
    for key, raw in written.items():
        setting = SETTINGS.get(key)
        if setting is None:
            raise Invalid(key, "is not a leadcli setting (see `leadcli config show`)")
        if isinstance(raw, list | tuple) and setting.parse in _LIST_PARSERS:
            raw = ", ".join(map(str, raw))  # a TOML array of words, as `config set` writes
        if isinstance(raw, dict) and key in _TABLES:
            try:
                values[key] = setting.parse(raw)
            except ValueError as exc:
                raise Invalid(key, f"must be {exc}") from None
            continue
        if isinstance(raw, (bool, list, dict)) or raw is None:
            raise Invalid(key, f"must be {_expected(setting)}")
        try:
            values[key] = setting.parse(str(raw))
        except ValueError as exc:
            raise Invalid(key, f"must be {exc}") from None
    if values["rating.warm"] >= values["rating.hot"]:
        key = "rating.warm" if "rating.warm" in written else "rating.hot"
        raise Invalid(
            key,
            f"rating.warm ({values['rating.warm']}) must be below "
            f"rating.hot ({values['rating.hot']})",
        )
    return values


def _expected(setting: Setting) -> str:
    """What ``setting`` takes, in the words its parser uses for a wrong value."""
    try:
        setting.parse("\x00")
    except ValueError as exc:
        return str(exc)
    return "a plain value"  # pragma: no cover - every parser refuses a NUL


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


def _file_error(path: Path, exc: Invalid) -> ConfigError:
    line = toml_text.line_of(path, exc.key)
    where = f"{path}, line {line}" if line else str(path)
    return ConfigError(
        f"the config file {where}: {exc.key} {exc}",
        hint=f"fix it with `leadcli config set {exc.key} VALUE`, by hand, or delete the line",
    )


def load(path: Path | None = None) -> Config:
    """The effective settings; a file that fails ``validate`` is a ConfigError naming the
    file, the key and its line, so no command runs on a setting that would break it."""
    path = path or resolve_config_path()
    try:
        return Config(validate(read_file(path)), path)
    except Invalid as exc:
        raise _file_error(path, exc) from None


def check(path: Path | None = None) -> list[str]:
    """What is wrong with the config file, for ``doctor``: [] when it is sound."""
    try:
        load(path)
    except ConfigError as exc:
        return [str(exc)]
    return []


def set_value(key: str, raw: str, path: Path | None = None) -> Any:
    """Validate and write one setting; returns the parsed value.

    The file as it would be written is validated whole, so a value that breaks a rule with
    another setting is refused; a bad key already in the file is named (and setting that
    very key is the way to mend it)."""
    path = path or resolve_config_path()
    if key not in SETTINGS:
        raise ConfigError(
            f"unknown config key {key!r}", hint="known keys: " + ", ".join(sorted(SETTINGS))
        )
    try:
        value = SETTINGS[key].parse(raw)
    except ValueError as exc:
        raise ConfigError(f"{key} must be {exc}") from None
    import tomli_w

    written = read_file(path)
    written[key] = value
    try:
        validate(written)
    except Invalid as exc:
        if exc.key == key or (key.startswith("rating.") and exc.key.startswith("rating.")):
            raise ConfigError(f"{key} not changed: {exc}") from None
        raise _file_error(path, exc) from None
    ensure_private_dir(path.parent)
    tmp = path.with_name(path.name + ".tmp")
    try:
        with open(tmp, "wb") as handle:
            tomli_w.dump(_nest(written), handle)
        os.replace(tmp, path)  # atomic: a crash never leaves half a config file
    except BaseException:
        # A full disk fails the write or the close: the old file stays, and no .tmp beside it.
        tmp.unlink(missing_ok=True)
        raise
    return value
