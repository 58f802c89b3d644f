"""Shared pytest set-up: fixtures for the Kubernetes API emulator live in tests/support/fixtures.py."""

import os
import shutil
import tempfile

import pytest

pytest_plugins = ["tests.support.fixtures"] if os.path.exists(
    os.path.join(os.path.dirname(__file__), "support", "fixtures.py")) else []


@pytest.fixture(autouse=True, scope="session")
def isolated_config_home():
    """XDG_CONFIG_HOME in a throwaway directory for the whole run (and every playbook it starts).

    remediate and remediation_plan make a per-user plan key under $XDG_CONFIG_HOME/aiops-k8s on first use:
    tests must never write into the real ~/.config. One directory per session (per xdist worker) plays one
    user, so a plan made by one playbook verifies in the next.
    """
    previous = os.environ.get("XDG_CONFIG_HOME")
    directory = tempfile.mkdtemp(prefix="aiops-test-config-")
    os.environ["XDG_CONFIG_HOME"] = directory
    yield directory
    if previous is None:
        os.environ.pop("XDG_CONFIG_HOME", None)
    else:
        os.environ["XDG_CONFIG_HOME"] = previous
    shutil.rmtree(directory, ignore_errors=True)
