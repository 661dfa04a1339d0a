"""Writing leads and follow-ups out for other programs (iCalendar ...)."""
