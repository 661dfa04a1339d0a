"""Who is one person: the evidence rule, placeholders, role addresses, the merge rule."""
