"""Shared fixtures: one run cache for the demos' quick plans, so that a seed computed by one test (the
single-seed claims of tests/test_demo_*.py) is taken from the cache by another (the five-seed test), and one
2-worker Dask LocalCluster for the five-seed tests (started once: its workers import the demos once)."""

import pytest


@pytest.fixture(scope="session")
def demo_runs(tmp_path_factory):
    return tmp_path_factory.mktemp("demo-runs")


@pytest.fixture(scope="session")
def two_workers():
    """The scheduler address of a LocalCluster of two single-threaded workers on loopback."""
    pytest.importorskip("dask.distributed")
    from demos.runner import local_cluster

    cluster = local_cluster(2)
    yield cluster.scheduler_address
    cluster.close()


def pytest_collection_modifyitems(items):
    """A test that needs a demo's quick run (the ``quick_result`` fixture of tests/test_demo_*.py) is slow:
    ``pytest -m "not slow"`` leaves out every demo run and keeps the fast subset."""
    for item in items:
        if "quick_result" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.slow)
