"""Helpers for tests/test_reachability.py: a runtime import sweep, independent of scopeguard."""
