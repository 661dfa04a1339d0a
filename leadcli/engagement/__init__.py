"""Touching leads: activities, follow-ups, nurture cadences and the due list."""
