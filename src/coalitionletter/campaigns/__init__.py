"""Campaigns: the folders under letters/, letter.toml, body.md and the roster."""
