"""A country as lead files write it (``FR``, ``FRA``, ``France``, ``Frankreich``, ``UK``,
``España``...) to the region code phonenumbers reads a number in.

The names are CLDR's, through babel, in the languages lead files come in and the other large
ones: no list written by hand, so a spelling CLDR knows is known here in every one of them.
Codes (ISO alpha-2, alpha-3, UN numeric, and CLDR's aliases such as ``UK``) are answered
without loading a single name: ``add --country FR`` costs nothing. The names are loaded on
the first name asked for, once per process (about 0.3 s for the locales below).
phonenumbers' own names, which are older (``Turkey``, ``Czech Republic``, ``Swaziland``), are
read only for a spelling CLDR does not know.
"""

from __future__ import annotations

import re
import unicodedata
from functools import cache, lru_cache

#: The languages whose territory names are read, in the order a clash is settled (the first
#: language's meaning wins): English, the six of the lead files leadcli reads headers in, then
#: the other languages of Europe and the largest elsewhere.
NAME_LANGUAGES: tuple[str, ...] = (
    "en",
    "de",
    "fr",
    "es",
    "it",
    "nl",
    "pt",
    "ca",
    "sv",
    "da",
    "nb",
    "nn",
    "fi",
    "is",
    "pl",
    "cs",
    "sk",
    "sl",
    "hr",
    "sr",
    "hu",
    "ro",
    "bg",
    "el",
    "tr",
    "et",
    "lv",
    "lt",
    "ga",
    "cy",
    "eu",
    "gl",
    "ru",
    "uk",
    "ar",
    "he",
    "hi",
    "id",
    "ms",
    "vi",
    "th",
    "ja",
    "ko",
    "zh",
)

_NOT_WORD = re.compile(r"[\W_]+")


def country_key(text: str) -> str:
    """``"Côte d'Ivoire"`` → ``cotedivoire``: case, accents, spaces and punctuation do not
    matter (``U.S.A.``, ``usa`` and ``USA`` are one spelling)."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    plain = "".join(c for c in decomposed if not unicodedata.combining(c))
    return _NOT_WORD.sub("", plain)


@cache
def _regions() -> frozenset[str]:
    import phonenumbers

    return frozenset(phonenumbers.SUPPORTED_REGIONS)


@cache
def _codes() -> dict[str, str]:
    """Alpha-2 codes, and CLDR's aliases that stand for one region (alpha-3, numeric, ``UK``);
    an alias for several (``SU``, the Soviet Union) names no one region and is left out."""
    from babel.core import get_global

    regions = _regions()
    codes = {region.lower(): region for region in regions}
    for alias, targets in get_global("territory_aliases").items():
        if len(targets) == 1 and targets[0] in regions:
            codes.setdefault(alias.lower(), targets[0])
    return codes


@cache
def _names() -> dict[str, str]:
    from babel import Locale

    regions = _regions()
    names: dict[str, str] = {}
    for language in NAME_LANGUAGES:
        for code, name in Locale.parse(language).territories.items():
            if code in regions:
                # setdefault: the earlier language's meaning of a spelling is kept.
                names.setdefault(country_key(name), code)
    return names


@cache
def _older_names() -> dict[str, str]:
    """phonenumbers' region names (its geocoder's), for the spellings CLDR has since changed;
    ``*xx`` entries point at another language's name and add nothing."""
    from phonenumbers.geodata.locale import LOCALE_DATA

    regions = _regions()
    names: dict[str, str] = {}
    for code, by_language in LOCALE_DATA.items():
        if code in regions:
            for name in by_language.values():
                if not name.startswith("*"):
                    names.setdefault(country_key(name), code)
    return names


@lru_cache(maxsize=4096)
def region_of(text: str | None) -> str | None:
    """The phone region of a country cell, or None when it names no country phonenumbers
    knows (an empty cell, a city, a typo): the caller's default region applies then."""
    if not text:
        return None
    key = country_key(text)
    if not key:
        return None
    # A code is a code as written (``NA``, ``U.K.``), not what is left of ``n/a`` or ``-``.
    if text.strip().replace(".", "").isalnum() and (region := _codes().get(key)):
        return region
    return _names().get(key) or _older_names().get(key)
