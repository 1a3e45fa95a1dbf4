"""Tips: actionable advice per aspect and problem, in the seller's language, from an editable catalog."""
