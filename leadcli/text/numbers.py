"""Numbers as their writers meant them: ``1.500,00``, ``$1,500.00``, ``1 500 €``, ``CHF 1'500``.

The one rule for reading an amount (``add --value``, ``edit``, ``spend``, BANT budgets and
every numeric column of an import). A cell is read both ways, with a decimal comma and with
a decimal point; most cells have one reading only (``1.500,00``, ``12,5``, ``1.500.000``,
``3.40``) and so say which style their writer used. A cell that reads both ways and means
two different numbers (``1.500``, ``2,750``) is ambiguous: alone it follows a locale, in an
import it follows its column, whose style the unambiguous cells decide (see
``importing.rows``).

Group separators are those locales use (babel's data: ``.``, ``,``, spaces, U+00A0, U+202F,
``'`` and U+2019); groups are of three digits, or two before the last three (``12,34,567``,
as India writes). A currency symbol (any character Unicode files as a currency sign, with up
to three letters, such as ``R$``) or an ISO 4217 code babel knows may stand before or after
the number, with or without a space; so may one sign. Reasons never repeat the value.
"""

from __future__ import annotations

import os
import re
import unicodedata
from functools import lru_cache

COMMA, POINT = ",", "."
#: A style's name, as import summaries say it.
STYLE_NAMES = {COMMA: "decimal comma", POINT: "decimal point"}
_NOT_AN_AMOUNT = "is not an amount (write it like 12000, 12,000.50 or 12.000,50)"
#: Spaces that group digits: the space, the no-break space and the narrow no-break space
#: (fr_FR), each one kind with the others; apostrophes (de_CH) likewise.
_SPACES = " \u00a0\u202f\u2009"
_QUOTES = "'\u2019"
_DIGITS_AND_SEPARATORS = re.compile(r"[0-9.,'\u2019 \u00a0\u202f\u2009]+")
_PLAIN = re.compile(r"[+-]?[0-9]+")
#: Grouped digits: 1-3, then groups of 2 or 3, the last of 3 (``\x00`` stands for the one
#: group separator a number uses).
_GROUPED = re.compile(r"[1-9][0-9]{0,2}(?:\x00[0-9]{2,3})*\x00[0-9]{3}")
#: Apostrophes are never a decimal separator: babel's de_CH groups only the last three
#: digits of a long number (``1000000'000``), and that reads one way only.
_QUOTE_GROUPED = re.compile(r"[1-9][0-9]*(?:\x00[0-9]{2,3})*\x00[0-9]{3}")


@lru_cache(maxsize=1)
def _currency_codes() -> frozenset[str]:
    from babel.numbers import list_currencies

    return frozenset(list_currencies())


def _is_currency(affix: str) -> bool:
    """A currency sign with at most three letters (``€``, ``R$``, ``US$``), or a code."""
    if not affix:
        return True
    signs = [c for c in affix if unicodedata.category(c) == "Sc"]
    if len(signs) == 1:
        rest = affix.replace(signs[0], "")
        return not rest or (len(rest) <= 3 and rest.isalpha())
    return not signs and len(affix) == 3 and affix.upper() in _currency_codes()


def _affixes(text: str) -> tuple[str, int] | None:
    """The number's digits-and-separators core and its sign (1 or -1), once the currency
    and sign around it are taken off; None if what surrounds it is not that."""
    start = next((i for i, c in enumerate(text) if c.isdigit()), None)
    if start is None:
        return None
    end = len(text) - next(i for i, c in enumerate(reversed(text)) if c.isdigit())
    prefix, core, suffix = text[:start], text[start:end], text[end:]
    prefix = "".join(c for c in prefix if c not in _SPACES)
    suffix = "".join(c for c in suffix if c not in _SPACES)
    sign = 1
    signs = prefix.count("-") + prefix.count("+") + suffix.count("-") + suffix.count("+")
    if signs > 1:
        return None
    if signs:
        if "-" in prefix or "-" in suffix:
            sign = -1
        prefix = prefix.replace("-", "").replace("+", "")
        suffix = suffix.replace("-", "").replace("+", "")
    if prefix and suffix:
        return None
    if not _is_currency(prefix or suffix):
        return None
    if not _DIGITS_AND_SEPARATORS.fullmatch(core):
        return None
    return core, sign


def _with_decimal(core: str, decimal: str) -> float | None:
    """``core`` read with ``decimal`` as the decimal separator; None if it does not read so."""
    whole, sep, fraction = core.partition(decimal)
    if sep and not fraction.isdigit():
        return None  # a second decimal separator, a group after it, or nothing after it
    groups = set(whole) - set("0123456789")
    if not groups:
        digits = whole
    else:
        kinds = {"space" if g in _SPACES else "quote" if g in _QUOTES else g for g in groups}
        if len(kinds) != 1:
            return None
        marked = whole
        for g in groups:
            marked = marked.replace(g, "\x00")
        shape = _QUOTE_GROUPED if kinds == {"quote"} else _GROUPED
        if not shape.fullmatch(marked):
            return None
        digits = marked.replace("\x00", "")
    if not digits:
        return None
    return float(f"{digits}.{fraction}" if sep else digits)


@lru_cache(maxsize=8192)
def readings(text: str) -> tuple[float | None, float | None]:
    """(the number read with a decimal comma, read with a decimal point); either is None if
    the cell does not read that way. ValueError if it reads neither way. Files repeat
    amounts: cached."""
    text = text.strip()
    if _PLAIN.fullmatch(text):
        value = float(text)
        return value, value
    found = _affixes(text)
    if found is None:
        raise ValueError(_NOT_AN_AMOUNT)
    core, sign = found
    comma, point = _with_decimal(core, COMMA), _with_decimal(core, POINT)
    if comma is None and point is None:
        raise ValueError(_NOT_AN_AMOUNT)
    return (
        None if comma is None else sign * comma,
        None if point is None else sign * point,
    )


def is_ambiguous(found: tuple[float | None, float | None]) -> bool:
    """A cell that reads both ways as two different numbers (``1.500``)."""
    comma, point = found
    return comma is not None and point is not None and comma != point


def parse_number(text: str, decimal: str | None = None, *, locale: str | None = None) -> float:
    """One cell: its only reading, else (ambiguous) the reading with ``decimal`` (default:
    the decimal separator of ``locale``, else of the environment's locale)."""
    comma, point = readings(text)
    if comma is None or point is None or comma == point:
        return comma if point is None else point  # type: ignore[return-value]
    return comma if (decimal or locale_decimal(locale)) == COMMA else point


def parse_amount(raw: str, locale: str | None = None) -> float:
    """A money amount a person typed (``12000``, ``12,000``, ``$12,000.50``, ``12.000,50 €``);
    ``1.500`` alone is read as ``locale`` (default: the environment's) writes numbers."""
    return parse_number(raw, locale=locale)


def environment_locale() -> str:
    """The locale numbers are written in here: LC_ALL, LC_NUMERIC, then LANG (POSIX order);
    ``C`` / ``POSIX`` / unset is en_US."""
    for name in ("LC_ALL", "LC_NUMERIC", "LANG"):
        value = os.environ.get(name, "").split(".")[0].split("@")[0]
        if value:
            return "en_US" if value in ("C", "POSIX") else value
    return "en_US"


def check_locale(name: str) -> str:
    """A locale name babel knows (``de_DE``, ``de-DE``), normalised; ValueError otherwise."""
    from babel import Locale, UnknownLocaleError

    try:
        return str(Locale.parse(name.strip().replace("-", "_")))
    except (UnknownLocaleError, ValueError, TypeError):
        raise ValueError("is not a locale (write it like de_DE or en_US)") from None


def locale_decimal(locale: str | None) -> str:
    """The decimal separator ``locale`` (None: the environment's) writes, from babel's data:
    COMMA or POINT (a locale with another one, such as Arabic's, is read as POINT)."""
    return _decimal_of(locale or environment_locale())


@lru_cache(maxsize=64)
def _decimal_of(locale: str) -> str:
    from babel.numbers import get_decimal_symbol

    try:
        symbol = get_decimal_symbol(check_locale(locale))
    except ValueError:
        return POINT
    return COMMA if symbol == COMMA else POINT


def decide(comma: int, point: int, fallback: str) -> tuple[str, bool]:
    """A column's style from its cells that read one way only (how many say each): the
    style more of them say, or ``fallback`` when none or as many say each. Returns (the
    style, whether the cells decided it)."""
    if comma == point:
        return fallback, False
    return (COMMA if comma > point else POINT), True
