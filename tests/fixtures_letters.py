"""Shared fixtures for the letters tests (a plugin of conftest.py)."""
