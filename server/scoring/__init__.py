"""Scorers: anything that turns a photo into a 1–5 score with per-aspect findings, created by name."""

from .registry import available_scorers, create_scorer, register_scorer

__all__ = ["available_scorers", "create_scorer", "register_scorer"]
