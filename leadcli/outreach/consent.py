"""Who may be mailed: the rules the rest of leadcli already keeps, asked here, not restated.

A lead is skipped, with its reason, when ``cadences.unreachable_because`` says it can be in
no cadence (do-not-contact; closed: lost, or customer unless customers are asked for), when
it is on the suppression list (``privacy.suppression``: a forgotten person's address), or
when it has no usable e-mail (none, not an address, or a placeholder such as
``test@test.com``, by ``identity.evidence``).
"""

from __future__ import annotations

from typing import Any

from leadcli.engagement.cadences import unreachable_because
from leadcli.identity.evidence import DEFAULT_LISTS, Lists, is_placeholder
from leadcli.privacy.suppression import Suppressions

CUSTOMER = "customer"
SUPPRESSED = "suppressed"
NO_EMAIL = "no e-mail"
BAD_EMAIL = "no valid e-mail"


def usable_email(email: str | None, lists: Lists = DEFAULT_LISTS) -> str | None:
    """The lead's address as it is sent to, or None when there is nothing to send to."""
    from leadcli.text.contacts import normalise_email

    if not email:
        return None
    try:
        address = normalise_email(email)
    except ValueError:
        return None
    return None if is_placeholder("email", address, lists) else address


def skip_reason(
    lead: dict[str, Any],
    suppressions: Suppressions,
    *,
    include_customers: bool = False,
    lists: Lists = DEFAULT_LISTS,
) -> str | None:
    """Why this lead gets no mail, or None: it may be mailed."""
    why = unreachable_because(lead["stage"], bool(lead["do_not_contact"]))
    if why and not (include_customers and lead["stage"] == CUSTOMER and not lead["do_not_contact"]):
        return why
    if suppressions.matches(
        lead.get("email"), lead.get("phone"), lead.get("other_emails"), lead.get("other_phones")
    ):
        return SUPPRESSED
    if not lead.get("email"):
        return NO_EMAIL
    if usable_email(lead["email"], lists) is None:
        return BAD_EMAIL
    return None
