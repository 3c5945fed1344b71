"""docs/results/quick_sweep.py: the many-seed sweep of the quick plans, its records and its table."""

import importlib.util
import json
import re
from pathlib import Path

from demos import common

ROOT = Path(__file__).resolve().parents[1]
spec = importlib.util.spec_from_file_location("quick_sweep", ROOT / "docs" / "results" / "quick_sweep.py")
quick_sweep = importlib.util.module_from_spec(spec)
spec.loader.exec_module(quick_sweep)


def seed_result(held_a: bool) -> common.DemoResult:
    result = common.DemoResult("toy", "Toy")
    result.check("a holds", "paper", "1", held_a)
    result.check("b holds", "paper", "2", True)
    result.remark("measured differently", "paper", "3")
    return result


def test_the_table_counts_each_claim_over_seeds_and_names_the_seeds_it_failed_in():
    merged = common.merge_seeds({seed: seed_result(seed not in (3, 11)) for seed in range(30)})
    merged.seconds, merged.runs = 120.0, {"computed": 5, "cached": 55, "run_seconds": 7200.0}
    seeds = list(range(30))
    text = quick_sweep.sweep_markdown([quick_sweep.record(merged, seeds, seeds, "cmd", "2026-12-02 15:00", 2)])
    assert "**1 of 2 counted claims held in every seed judged.**" in text and "Not judged yet" not in text
    assert "| toy | a holds | 28/30 | 3, 11 |" in text and "| toy | b holds | 30/30 | - |" in text
    assert "measured differently" not in text  # remarks are not counted claims
    assert re.search(r"\| toy \| 0..29 \| `cmd` \| 2026-12-02 15:00 \| 2.0 min \| 2 Dask workers; .* \| 5 / 55 \| "
                     r"7200 s \(240 s a seed\) \|", text)
    partial = quick_sweep.sweep_markdown([quick_sweep.record(merged, [0, 1, 2], seeds, "cmd", "today", 0)],
                                         missing=["parity"])
    assert "**toy: only seeds 0..2 of 0..29 judged**" in partial and "**Not judged yet: parity.**" in partial
    assert "in one process" in partial


def test_a_sweep_runs_the_quick_plans_records_them_and_keeps_other_demos_records(tmp_path):
    table, out = tmp_path / "sweep.md", str(tmp_path / "runs")
    status = quick_sweep.main(["--seeds", "2", "--workers", "0", "--out", out, "--demos", "optimizers",
                               "--table", str(table)])
    records = json.loads(table.with_suffix(".json").read_text())
    assert [r["demo"] for r in records] == ["optimizers"] and records[0]["judged"] == [0, 1]
    claims = records[0]["claims"]
    assert claims and status == (0 if all(c["held_in"] == 2 for c in claims) else 1)
    assert (tmp_path / "runs" / "report.md").exists() and "**Not judged yet: parity, " in table.read_text()
    # a record made elsewhere (another demo, another day) is kept when this sweep runs again
    other = dict(records[0], demo="parity", command="earlier")
    table.with_suffix(".json").write_text(json.dumps(records + [other]))
    # --cached-only judges the seeds whose runs are all cached and computes nothing: seed 2 is not there
    status = quick_sweep.main(["--seeds", "3", "--workers", "0", "--out", out, "--cached-only", "--demos",
                               "optimizers", "--table", str(table)])
    text = table.read_text()
    assert status == 1 and "**optimizers: only seeds 0..1 of 0..2 judged**" in text
    assert re.search(r"\| optimizers \| 0..1 \| `python docs/results/quick_sweep.py --seeds 3 .*\| 0 / [1-9]\d* \|",
                     text)
    assert "| parity | 0..1 | `earlier` |" in text and "Not judged yet: flat_activations" in text
