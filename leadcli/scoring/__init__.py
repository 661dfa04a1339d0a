"""Scoring: rule points and learned model points summed per lead, and hot / warm / cold."""

#: How leads are scored: by the rules, by the trained model, or the two averaged.
MODES = ("rules", "predictive", "blend")
