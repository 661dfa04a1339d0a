"""Who is one person: the evidence and merge rules, the matcher, dedupe, merge and undo."""
