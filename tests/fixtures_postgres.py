"""Shared fixtures for the postgres tests (a plugin of conftest.py)."""
