"""The SQLite file: where it lives, opening it, and its versioned schema."""
