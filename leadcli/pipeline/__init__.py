"""The stages a lead moves through, the moves themselves, and BANT qualification."""
