"""Shared fixtures: one run cache for the demos' quick plans, so that a seed computed by one test (the
single-seed claims of tests/test_demo_*.py) is taken from the cache by another (the five-seed test)."""

import pytest


@pytest.fixture(scope="session")
def demo_runs(tmp_path_factory):
    return tmp_path_factory.mktemp("demo-runs")
