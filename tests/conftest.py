"""Shared pytest set-up: fixtures for the Kubernetes API emulator live in tests/support/fixtures.py."""

import os

pytest_plugins = ["tests.support.fixtures"] if os.path.exists(
    os.path.join(os.path.dirname(__file__), "support", "fixtures.py")) else []
