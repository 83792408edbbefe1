"""Shared fixtures for the registry tests (a plugin of conftest.py)."""
