"""The study, reproducible: human ratings, alignment metrics, model size and cost, splits."""
