"""The lead stages, their order, and the words other CRMs use for them."""

from __future__ import annotations

import re
from dataclasses import dataclass

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


#: Status words that say someone has worked the lead (called, e-mailed, got through) while
#: leaving it at ``lead``: Salesforce "Working - Contacted", HubSpot "Attempted to contact",
#: "Connected", Zoho "Contact in Future", Pipedrive "Contact Made".
_WORKED: frozenset[str] = frozenset(
    {
        "attemptedtocontact",
        "contacted",
        "workingcontacted",
        "working",
        "inprogress",
        "connected",
        "contactmade",
        "contactinfuture",
        "nurturing",
        "nurture",
        "followingup",
        "followup",
        "engaged",
        "responded",
        "replied",
    }
)

#: Status words beyond the stage synonyms: the lead statuses and deal stages of Salesforce,
#: HubSpot, Pipedrive, Zoho and web-form tools.
_STATUS_STAGES: dict[str, str] = {
    **{word: "lead" for word in _WORKED},
    "prequalified": "mql",
    "marketingqualifiedlead": "mql",
    "demoscheduled": "sql",
    "meetingscheduled": "sql",
    "meetingbooked": "sql",
    "appointmentscheduled": "sql",
    "qualifiedtobuy": "sql",
    "negotiation": "opportunity",
    "negotiations": "opportunity",
    "negotiationsstarted": "opportunity",
    "negotiationreview": "opportunity",
    "proposal": "opportunity",
    "proposalmade": "opportunity",
    "proposalsent": "opportunity",
    "proposalpricequote": "opportunity",
    "quotesent": "opportunity",
    "presentationscheduled": "opportunity",
    "decisionmakerboughtin": "opportunity",
    "contractsent": "opportunity",
    "idvalueproposition": "opportunity",
    "evangelist": "customer",
    "closedconverted": "customer",
    "notinterested": "lost",
    "dead": "lost",
    "deadlead": "lost",
    "lostlead": "lost",
    "notqualified": "lost",
    "unqualified": "lost",
    "junk": "lost",
    "spam": "lost",
    "badfit": "lost",
    "nofit": "lost",
    "invalid": "lost",
    "duplicate": "lost",
    "closednotconverted": "lost",
}

#: Statuses saying the person opted out: do not contact, whatever the stage.
_OPT_OUT: frozenset[str] = frozenset(
    {
        "donotcontact",
        "dnc",
        "unsubscribed",
        "optedout",
        "optout",
        "donotcall",
        "donotemail",
        "emailoptout",
    }
)


@dataclass(frozen=True)
class Status:
    """What a status cell says: a stage (None: it names none, as "Unsubscribed"), whether
    the person opted out, and whether someone has already contacted the lead."""

    stage: str | None
    do_not_contact: bool = False
    contacted: bool = False


def _key(word: str) -> str:
    return re.sub(r"[^a-z0-9]", "", word.lower())


def normalise_stage(word: str) -> str | None:
    """Our stage for ``word`` (ours or another CRM's), or None when it names none."""
    return _SYNONYMS.get(_key(word))


def read_status(word: str) -> Status | None:
    """What another CRM's status (or stage, or lifecycle) word says, or None when it is not
    one we know. A stage past ``lead`` means the lead has been worked: contacted."""
    key = _key(word)
    if key in _OPT_OUT:
        return Status(None, do_not_contact=True)
    stage = _STATUS_STAGES.get(key) or _SYNONYMS.get(key)
    if stage is None:
        return None
    # Past `lead` someone has worked it; a lost lead's "Junk" or "Dead" says nothing of a
    # contact, and a closed lead is never due anyway.
    contacted = key in _WORKED or stage in ("mql", "sql", "opportunity", "customer")
    return Status(stage, contacted=contacted)


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


def rank_sql(expr: str) -> str:
    """``rank`` as SQL, for the stage ``expr`` gives (NULL or an unknown word: -1)."""
    whens = " ".join(f"WHEN '{s}' THEN {i}" for i, s in enumerate(STAGES) if s != "lost")
    return f"(CASE {expr} {whens} ELSE -1 END)"


def reach_sql(changes: str) -> str:
    """SQL for how far a stage change (a history row's ``changes`` JSON) went: the higher
    ``rank`` of the stage it left and the stage it led to. ``leads.reach`` keeps a lead's
    highest (see ``storage.migrations.m014_reports``)."""
    new = rank_sql(f"json_extract({changes}, '$.stage[1]')")
    old = rank_sql(f"json_extract({changes}, '$.stage[0]')")
    return f"max({new}, {old})"
