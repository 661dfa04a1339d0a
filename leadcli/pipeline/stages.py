"""The lead stages, their order, and the words other CRMs use for them."""

from __future__ import annotations

import re

#: Open stages in funnel order, then the two closed ones.
STAGES: tuple[str, ...] = ("prospect", "lead", "mql", "sql", "opportunity", "customer", "lost")
OPEN_STAGES: tuple[str, ...] = STAGES[:5]
CLOSED_STAGES: tuple[str, ...] = ("customer", "lost")
#: The closed stages as an SQL list, for ``stage IN ...`` / ``NOT IN ...`` (from the one
#: constant above; the stage names are plain words, safe as literals).
CLOSED_STAGES_SQL = "(" + ", ".join(f"'{stage}'" for stage in CLOSED_STAGES) + ")"
FIRST_STAGE = "prospect"

DESCRIPTIONS: dict[str, str] = {
    "prospect": "Known but has shown no interest yet (a list, a badge scan).",
    "lead": "Has shown interest: a form, a reply, a referral.",
    "mql": "Marketing-qualified: engaged enough, or meets at least one BANT criterion.",
    "sql": "Sales-qualified: enough BANT criteria met to work a deal.",
    "opportunity": "A deal is being worked, with an expected value.",
    "customer": "Won. Closed.",
    "lost": "Lost, with a reason. Closed.",
}

# Other CRMs' stage, status and lifecycle words, normalised by ``_key``.
_SYNONYMS: dict[str, str] = {
    "prospect": "prospect",
    "subscriber": "prospect",
    "new": "lead",
    "open": "lead",
    "opennotcontacted": "lead",
    "notcontacted": "lead",
    "lead": "lead",
    "newlead": "lead",
    "attemptedtocontact": "lead",
    "contacted": "lead",
    "workingcontacted": "lead",
    "working": "lead",
    "inprogress": "lead",
    "mql": "mql",
    "marketingqualifiedlead": "mql",
    "marketingqualified": "mql",
    "sql": "sql",
    "salesqualifiedlead": "sql",
    "salesqualified": "sql",
    "qualified": "sql",
    "opportunity": "opportunity",
    "opendeal": "opportunity",
    "customer": "customer",
    "won": "customer",
    "closedwon": "customer",
    "closedconverted": "customer",
    "converted": "customer",
    "lost": "lost",
    "closedlost": "lost",
    "closednotconverted": "lost",
    "unqualified": "lost",
    "disqualified": "lost",
    "junk": "lost",
    "junklead": "lost",
    "badtiming": "lost",
}


def _key(word: str) -> str:
    return re.sub(r"[^a-z0-9]", "", word.lower())


def normalise_stage(word: str) -> str | None:
    """Our stage for ``word`` (ours or another CRM's), or None when it names none."""
    return _SYNONYMS.get(_key(word))


def is_closed(stage: str) -> bool:
    return stage in CLOSED_STAGES


def next_stage(stage: str) -> str | None:
    """The stage after ``stage`` in the funnel; None for the last open stage's successor."""
    if stage in CLOSED_STAGES:
        return None
    return STAGES[STAGES.index(stage) + 1]


def rank(stage: str) -> int:
    """Position in the funnel, for "keep the more advanced stage" (lost ranks lowest)."""
    return -1 if stage == "lost" else STAGES.index(stage)
