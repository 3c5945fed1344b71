"""Every claim of every demo's quick plan holds on seeds 0..4 (one slow test per demo, on a 2-worker Dask
LocalCluster; seed 0 usually comes from the cache the single-seed demo tests filled)."""

import importlib

import pytest

from demos import common
from demos.__main__ import DEMOS


@pytest.mark.slow
@pytest.mark.parametrize("name", list(DEMOS))
def test_every_quick_claim_holds_on_five_seeds(name, demo_runs):
    pytest.importorskip("dask.distributed")
    result = common.run_demo(importlib.import_module(DEMOS[name]), quick=True, out=demo_runs, seeds=range(5),
                             workers=2, show_progress=False)
    failed = [f"{c.claim}: {c.measured}" for c in result.counted if not c.held]
    assert not failed, "\n".join(failed)
    assert result.counted and all((c.held_in, c.seeds) == (5, 5) for c in result.counted)
    assert result.figures and all(p.exists() for p in result.figures)
