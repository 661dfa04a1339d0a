"""Who is who: the matcher, likely duplicates, merging leads and undoing a merge."""
