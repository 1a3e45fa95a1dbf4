"""Who is calling: API keys for app backends and product teams, short-lived seller tokens for phones."""
