"""Shared fixtures for the signon tests (a plugin of conftest.py)."""
