"""docs/results/quick_sweep.py: the many-seed sweep of the quick plans and its table."""

import importlib.util
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
    merged.seconds, merged.runs = 12.0, {"computed": 5, "cached": 55, "run_seconds": 7200.0}
    seeds = list(range(30))
    text = quick_sweep.sweep_markdown([merged], {"toy": seeds}, seeds, "python docs/results/quick_sweep.py",
                                      "2026-12-02", 600.0, 2)
    assert "**1 of 2 counted claims held in every seed judged**" in text and "Not in this sweep" not in text
    assert "| toy | a holds | 28/30 | 3, 11 |" in text and "| toy | b holds | 30/30 | - |" in text
    assert "measured differently" not in text  # remarks are not counted claims
    assert "| toy | 0..29 | 12 s | 5 / 55 | 7200 s (240 s a seed) |" in text and "2.00 h of one core" in text
    partial = quick_sweep.sweep_markdown([merged], {"toy": [0, 1, 2]}, seeds, "cmd", "today", 1.0, 0)
    assert "**toy: only seeds 0..2 judged**" in partial and "in one process" in partial


def test_a_sweep_runs_the_quick_plans_and_writes_the_table(tmp_path):
    table = tmp_path / "sweep.md"
    status = quick_sweep.main(["--seeds", "2", "--workers", "0", "--out", str(tmp_path / "runs"),
                               "--demos", "optimizers", "--table", str(table)])
    text = table.read_text()
    counted = [line for line in text.splitlines() if line.startswith("| optimizers |") and "/2 |" in line]
    assert counted and status == (0 if all("| 2/2 |" in line for line in counted) else 1)
    assert (tmp_path / "runs" / "report.md").exists() and "in one process" in text
    assert "**Not in this sweep: parity, flat_activations" in text
    # a second sweep takes every run from the cache
    quick_sweep.main(["--seeds", "2", "--workers", "0", "--out", str(tmp_path / "runs"), "--demos", "optimizers",
                      "--table", str(table)])
    assert re.search(r"\| optimizers \| 0..1 \| \d+ s \| 0 / [1-9]\d* \|", table.read_text())
    # --cached-only judges the seeds whose runs are all cached and computes nothing: seed 2 is not there
    status = quick_sweep.main(["--seeds", "3", "--workers", "0", "--out", str(tmp_path / "runs"), "--cached-only",
                               "--table", str(table)])
    text = table.read_text()
    assert status == 1 and "**optimizers: only seeds 0..1 judged**" in text and "Not in this sweep: parity" in text
    assert re.search(r"\| optimizers \| 0..1 \| \d+ s \| 0 / [1-9]\d* \|", text)
