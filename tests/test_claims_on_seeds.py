"""Every claim of every demo's quick plan holds on seeds 0..4 (one slow test per demo, on the session's 2-worker
Dask LocalCluster; a seed another test computed comes from the shared cache)."""


import pytest

from demos import common
from demos.__main__ import DEMOS, load


@pytest.mark.slow
@pytest.mark.parametrize("name", list(DEMOS))
def test_every_quick_claim_holds_on_five_seeds(name, demo_runs, two_workers):
    result = common.run_demo(load(name), quick=True, out=demo_runs, seeds=range(5),
                             scheduler=two_workers, show_progress=False)
    failed = [f"{c.claim}: {c.measured}" for c in result.counted if not c.held]
    assert not failed, "\n".join(failed)
    assert result.counted and all((c.held_in, c.seeds) == (5, 5) for c in result.counted)
    assert result.figures and all(p.exists() for p in result.figures)
