"""The repository's test suite: raft-testing's fixtures, and every test offline."""

import pytest

pytest_plugins = ["raft_testing.fixtures"]


@pytest.fixture(autouse=True, scope="session")
def _offline(offline_environment: None) -> None:
    """Every test runs with hub, telemetry and price-map downloads switched off."""
