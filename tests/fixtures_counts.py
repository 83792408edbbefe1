"""Shared fixtures for the counts tests (a plugin of conftest.py)."""
