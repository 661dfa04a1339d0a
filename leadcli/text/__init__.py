"""Values as people type them: dates and phrases, contacts, text made safe to show."""
