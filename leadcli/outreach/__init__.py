"""Outreach: mail from templates to leads, drafted or sent, consent first, logged as touches."""
