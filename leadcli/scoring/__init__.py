"""Scoring: rule points and learned model points summed per lead, and hot / warm / cold."""
